//! Reads PDF pages that have no text layer: scans, photos, faxes, pages whose text is drawn
//! as shapes. Each page is rendered to grey pixels ([`render`], hayro) and read by
//! Tesseract ([`tesseract`], loaded at run time); the words come back in reading order
//! with their boxes and confidences ([`text`]), as the page text the recognizers and the
//! model read.
//!
//! Bounded like the text layer's reader: pixels per page ([`OcrSettings::max_pixels`]),
//! pages read per document ([`OcrSettings::max_pages`]) and the caller's deadline, checked
//! before every page.

pub mod confusions;
mod leptonica;
pub mod render;
pub mod rules;
mod tesseract;
pub mod text;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tesseract::Layout;
pub use text::Word;

/// The one error type of `vigil-ocr`. Messages never hold a page's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(
        "Tesseract is not available ({0}): install Debian's tesseract-ocr (or the OCR layer on Lambda), name the library with OCR_LIBRARY, or turn OCR off"
    )]
    Library(String),
    #[error(
        "Tesseract has no language data for {0}: install tesseract-ocr-<lang>, or name the tessdata folder with OCR_DATA"
    )]
    Languages(String),
    #[error("the tessdata folder {0} cannot be named to Tesseract")]
    Data(String),
    #[error("rendering the page: {0}")]
    Render(String),
    #[error(
        "page {page} is {width_in:.0}×{height_in:.0} inches: more than {max_pixels} pixels even at the lowest resolution OCR reads"
    )]
    TooLarge {
        page: u32,
        width_in: f32,
        height_in: f32,
        max_pixels: u64,
    },
    #[error("OCR: {0}")]
    Unreadable(String),
    #[error("not read: the document's time budget ran out first")]
    TimeBudget,
    #[error("not read: OCR reads at most {0} pages of a document")]
    PageLimit(usize),
}

/// How OCR reads. The defaults suit loan files: English, 300 dpi, letter and A4 pages.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrSettings {
    /// Tesseract's language codes joined by `+` (`eng`, `eng+fra`).
    pub languages: String,
    /// The resolution pages are rendered at (lowered for pages above `max_pixels`).
    pub dpi: u32,
    /// Pixels per rendered page, at most.
    pub max_pixels: u64,
    /// Pages of one document read, at most.
    pub max_pages: usize,
    /// The `tessdata` folder; `None`: `TESSDATA_PREFIX` or the library's own default.
    pub data_dir: Option<PathBuf>,
    /// The Tesseract library; `None`: `libtesseract.so.5` where the loader finds it.
    pub library: Option<PathBuf>,
}

/// Resolution pages are rendered at: 300 dpi is what Tesseract is trained to read; at
/// 200 dpi the small grey print of a scanned letterhead (a phone number that decides
/// whose a value is) was lost. The cost is time: see docs/ocr.md.
pub const DEFAULT_DPI: u32 = 300;
/// A letter page at 300 dpi is 8.4 M pixels; a legal page 10.1 M.
pub const DEFAULT_MAX_PIXELS: u64 = 12_000_000;
/// Pages read per document: a loan file's scanned attachments, not a scanned book.
pub const DEFAULT_MAX_PAGES: usize = 30;

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings {
            languages: "eng".into(),
            dpi: DEFAULT_DPI,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_pages: DEFAULT_MAX_PAGES,
            data_dir: None,
            library: None,
        }
    }
}

/// One page as OCR read it.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrPage {
    /// From 1.
    pub number: u32,
    /// Rows of words, each ending with `\n`.
    pub text: String,
    pub words: Vec<Word>,
    /// The resolution it was read at.
    pub dpi: u32,
    /// Milliseconds to render it and to read it.
    pub render_ms: f64,
    pub read_ms: f64,
}

/// Tesseract, loaded, with a pool of engines (one per thread reading at a time).
pub struct Ocr {
    library: Arc<tesseract::Library5>,
    settings: OcrSettings,
    engines: Mutex<Vec<tesseract::Engine>>,
}

impl Ocr {
    /// Loads Tesseract and its languages; fails with what to install when it cannot.
    pub fn open(settings: OcrSettings) -> Result<Ocr, Error> {
        let library = Arc::new(tesseract::Library5::load(settings.library.as_deref())?);
        let first = tesseract::Engine::new(
            library.clone(),
            settings.data_dir.as_deref(),
            &settings.languages,
        )?;
        Ok(Ocr {
            library,
            settings,
            engines: Mutex::new(vec![first]),
        })
    }

    /// `Tesseract 5.3.0 (eng, 300 dpi)`.
    pub fn describe(&self) -> String {
        format!(
            "Tesseract {} ({}, {} dpi)",
            self.library.version, self.settings.languages, self.settings.dpi
        )
    }

    pub fn settings(&self) -> &OcrSettings {
        &self.settings
    }

    /// Reads `pages` (numbers from 1) of the PDF `bytes`, one answer per page asked for:
    /// pages past [`OcrSettings::max_pages`] or the `deadline` are not read, and say so.
    pub fn read(
        &self,
        bytes: &[u8],
        pages: &[u32],
        deadline: Instant,
    ) -> Vec<Result<OcrPage, Error>> {
        let opened = std::panic::catch_unwind(|| render::Document::open(bytes))
            .unwrap_or_else(|_| Err(Error::Render("the renderer failed on the file".into())));
        let document = match opened {
            Ok(d) => d,
            Err(e) => return pages.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut engine = match self.engine() {
            Ok(e) => e,
            Err(e) => return pages.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut out = Vec::with_capacity(pages.len());
        for (i, &number) in pages.iter().enumerate() {
            if i >= self.settings.max_pages {
                out.push(Err(Error::PageLimit(self.settings.max_pages)));
                continue;
            }
            if Instant::now() >= deadline {
                out.push(Err(Error::TimeBudget));
                continue;
            }
            out.push(self.read_page(&document, &mut engine, number, deadline));
        }
        self.give_back(engine);
        out
    }

    fn read_page(
        &self,
        document: &render::Document,
        engine: &mut tesseract::Engine,
        number: u32,
        deadline: Instant,
    ) -> Result<OcrPage, Error> {
        if number == 0 || number as usize > document.pages() {
            return Err(Error::Render(format!(
                "no page {number} (the renderer sees {})",
                document.pages()
            )));
        }
        let t = Instant::now();
        // The renderer is young: a page it cannot draw must cost that page, not the
        // process (and with it the other documents of a batch).
        let grey = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            document.render(number, self.settings.dpi, self.settings.max_pixels)
        }))
        .map_err(|_| Error::Render(format!("the renderer failed on page {number}")))??;
        let render_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let image = self
            .library
            .leptonica
            .grey(&grey.pixels, grey.width, grey.height)?;
        // Askew pages are turned upright first: Tesseract's page layout leaves whole
        // paragraphs of an askew page unread (see the leptonica module).
        let turned = image.upright();
        let (image, skew) = turned
            .as_ref()
            .map_or((&image, leptonica::Skew::default()), |(upright, skew)| {
                (upright, *skew)
            });
        let rules = image
            .grey()
            .map(|(pixels, width, height)| rules::fill_in_rules(&pixels, width, height, grey.dpi))
            .unwrap_or_default();
        let mut read = |layout| {
            let budget = deadline.saturating_duration_since(Instant::now());
            let tsv = engine.read(image, grey.dpi, layout, budget)?;
            Ok::<_, Error>(text::from_tsv(&tsv, &rules))
        };
        let (mut text, mut words) = read(Layout::Automatic)?;
        if words.is_empty() {
            // The layout analysis can take a lone askew line for a picture; read as one
            // block, it is text. A page that is blank both ways costs a second read.
            (text, words) = read(Layout::SingleBlock)?;
        }
        let read_ms = t.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(
            page = number,
            dpi = grey.dpi,
            skew_degrees = skew.degrees,
            skew_confidence = skew.confidence,
            words = words.len(),
            rules = rules.len(),
            render_ms,
            read_ms,
            "page read by OCR"
        );
        Ok(OcrPage {
            number,
            text,
            words,
            dpi: grey.dpi,
            render_ms,
            read_ms,
        })
    }

    fn engine(&self) -> Result<tesseract::Engine, Error> {
        // A poisoned pool only means another reader panicked; its engines are still whole.
        let pooled = self
            .engines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match pooled {
            Some(e) => Ok(e),
            None => tesseract::Engine::new(
                self.library.clone(),
                self.settings.data_dir.as_deref(),
                &self.settings.languages,
            ),
        }
    }

    fn give_back(&self, engine: tesseract::Engine) {
        self.engines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(engine);
    }
}
