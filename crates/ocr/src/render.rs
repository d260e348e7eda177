//! A PDF page → 8-bit grey pixels, by hayro (pure Rust; decodes the JPEG, JBIG2, CCITT,
//! JPEG 2000 and Flate images that scans are stored as, and draws vector text too).

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings, render};

use crate::Error;

/// PDF user space units per inch.
const POINTS_PER_INCH: f32 = 72.0;
/// The lowest resolution worth reading: below it, 10-point text is under 14 pixels high
/// and Tesseract's accuracy falls off.
const MIN_DPI: f32 = 100.0;
/// hayro's canvas is addressed with 16-bit sizes.
const MAX_SIDE: f32 = u16::MAX as f32;

/// One page's pixels, rows packed, 0 black … 255 white.
pub struct Grey {
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub pixels: Vec<u8>,
}

/// A parsed document, for rendering its pages one by one.
pub struct Document {
    pdf: Pdf,
}

impl Document {
    pub fn open(bytes: &[u8]) -> Result<Document, Error> {
        let pdf = Pdf::new(bytes.to_vec()).map_err(|e| {
            Error::Render(match e {
                hayro::hayro_syntax::LoadPdfError::Decryption(_) => {
                    "the PDF is encrypted with a password the renderer does not have".into()
                }
                hayro::hayro_syntax::LoadPdfError::Invalid => {
                    "the renderer cannot read the PDF".into()
                }
            })
        })?;
        Ok(Document { pdf })
    }

    pub fn pages(&self) -> usize {
        self.pdf.pages().len()
    }

    /// Page `number` (from 1) at `dpi`, or at the highest resolution that keeps it within
    /// `max_pixels`; an error when even [`MIN_DPI`] would exceed that.
    pub fn render(&self, number: u32, dpi: u32, max_pixels: u64) -> Result<Grey, Error> {
        let pages = self.pdf.pages();
        let page = pages
            .get(number as usize - 1)
            .ok_or_else(|| Error::Render(format!("no page {number}")))?;
        let (w_pt, h_pt) = page.render_dimensions();
        if !(w_pt > 0.0 && h_pt > 0.0) {
            return Err(Error::Render(format!("page {number} has no area")));
        }
        let area_in = (w_pt / POINTS_PER_INCH) * (h_pt / POINTS_PER_INCH);
        let fitting = (max_pixels as f32 / area_in).sqrt();
        let side_limit = MAX_SIDE / (w_pt.max(h_pt) / POINTS_PER_INCH);
        let dpi = (dpi as f32).min(fitting).min(side_limit).floor();
        if dpi < MIN_DPI {
            return Err(Error::TooLarge {
                page: number,
                width_in: w_pt / POINTS_PER_INCH,
                height_in: h_pt / POINTS_PER_INCH,
                max_pixels,
            });
        }
        let scale = dpi / POINTS_PER_INCH;
        let pixmap = render(
            page,
            &RenderCache::new(),
            &InterpreterSettings::default(),
            // Scans are stored at 150-300 dpi and drawn larger: unsmoothed, each pixel
            // becomes a block whose edges Tesseract reads as strokes (a scanned
            // letterhead's grey 8-point line was lost without it).
            &RenderSettings {
                force_image_interpolation: true,
                ..RenderSettings::default()
            },
            &PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: WHITE,
            },
        );
        // ITU-R BT.601 luma, as Leptonica converts colour to grey.
        let pixels = pixmap
            .data()
            .iter()
            .map(|p| {
                ((u32::from(p.r) * 77 + u32::from(p.g) * 150 + u32::from(p.b) * 29) >> 8) as u8
            })
            .collect();
        Ok(Grey {
            width: u32::from(pixmap.width()),
            height: u32::from(pixmap.height()),
            dpi: dpi as u32,
            pixels,
        })
    }
}
