//! Leptonica, the image library Tesseract is built on: the page is handed to Tesseract as
//! Leptonica's image, turned upright first, and its upright pixels are where the fill-in
//! rules are looked for ([`crate::rules`]).
//!
//! Tesseract's automatic page layout reads a page a few degrees askew badly: on scan
//! copies of pii-dev turned 2–3° one way, it took whole paragraphs for pictures and left
//! them unread (one notice kept 14 % of its words). Turned upright first, the same pages
//! were read whole: words of the text layer found in OCR's text went from 0.90 to 0.97 on
//! 60 copies. See docs/ocr.md.
//!
//! The functions are looked up through Tesseract's library handle, which also searches
//! the libraries it depends on: Leptonica is always there when Tesseract is, under
//! whatever name the system gave it (`liblept.so.5` on Debian, `libleptonica.so.6` on
//! newer systems).

use std::ffi::{c_float, c_int, c_void};

use libloading::Library;

use crate::Error;
use crate::tesseract::symbol;

/// Leptonica's `PIX`, only ever handled by pointer.
pub type Pix = c_void;

type PixCreate = unsafe extern "C" fn(c_int, c_int, c_int) -> *mut Pix;
type PixGetData = unsafe extern "C" fn(*mut Pix) -> *mut u32;
type PixGetWpl = unsafe extern "C" fn(*mut Pix) -> c_int;
type PixGetDimensions = unsafe extern "C" fn(*mut Pix, *mut c_int, *mut c_int, *mut c_int) -> c_int;
type PixDestroy = unsafe extern "C" fn(*mut *mut Pix);
type PixFindSkewAndDeskew =
    unsafe extern "C" fn(*mut Pix, c_int, *mut c_float, *mut c_float) -> *mut Pix;

/// Leptonica's default search reduction for the skew's fine search (0 asks for it: 2×).
const DEFAULT_REDUCTION: c_int = 0;
/// Bits per pixel of a grey image.
const GREY: c_int = 8;

/// The Leptonica functions used.
pub struct Leptonica {
    create: PixCreate,
    data: PixGetData,
    words_per_line: PixGetWpl,
    dimensions: PixGetDimensions,
    destroy: PixDestroy,
    find_skew_and_deskew: PixFindSkewAndDeskew,
}

impl Leptonica {
    /// Looks the functions up through `tesseract`'s handle.
    pub fn load(tesseract: &Library) -> Result<Leptonica, Error> {
        let owner = "Leptonica, which Tesseract needs";
        // SAFETY: each symbol is looked up by its name in Leptonica's `allheaders.h` and
        // given the signature declared there (stable since Leptonica 1.70).
        unsafe {
            Ok(Leptonica {
                create: symbol(tesseract, b"pixCreate\0", owner)?,
                data: symbol(tesseract, b"pixGetData\0", owner)?,
                words_per_line: symbol(tesseract, b"pixGetWpl\0", owner)?,
                dimensions: symbol(tesseract, b"pixGetDimensions\0", owner)?,
                destroy: symbol(tesseract, b"pixDestroy\0", owner)?,
                find_skew_and_deskew: symbol(tesseract, b"pixFindSkewAndDeskew\0", owner)?,
            })
        }
    }

    /// An 8-bit grey `PIX` holding `pixels` (`width` × `height`, rows packed).
    pub fn grey(&self, pixels: &[u8], width: u32, height: u32) -> Result<Image<'_>, Error> {
        let (w, h) = (width as usize, height as usize);
        if pixels.len() != w * h || w == 0 || h == 0 {
            return Err(Error::Render(format!(
                "an image of {width}×{height} needs {} bytes, not {}",
                w * h,
                pixels.len()
            )));
        }
        let (wi, hi) = (
            c_int::try_from(width).map_err(|_| Error::Render("too wide".into()))?,
            c_int::try_from(height).map_err(|_| Error::Render("too tall".into()))?,
        );
        // SAFETY: `pixCreate` returns a new zeroed image or null; null is checked.
        let pix = unsafe { (self.create)(wi, hi, GREY) };
        if pix.is_null() {
            return Err(Error::Unreadable(format!(
                "Leptonica could not make a {width}×{height} image"
            )));
        }
        let image = Image {
            pix,
            leptonica: self,
        };
        // SAFETY: a live 8-bit image: `wpl` words per row, `height` rows.
        let (data, wpl) = unsafe { ((self.data)(pix), (self.words_per_line)(pix)) };
        let wpl = wpl.max(0) as usize;
        if data.is_null() || wpl * 4 < w {
            return Err(Error::Unreadable(
                "Leptonica made an image without pixels".into(),
            ));
        }
        // SAFETY: the image owns `wpl × height` words at `data`, not aliased elsewhere.
        let words = unsafe { std::slice::from_raw_parts_mut(data, wpl * h) };
        for (row, out) in pixels.chunks_exact(w).zip(words.chunks_exact_mut(wpl)) {
            // Leptonica keeps the leftmost of a word's four pixels in its most
            // significant byte, whatever the machine's byte order.
            for (four, word) in row.chunks(4).zip(out.iter_mut()) {
                let mut bytes = [0u8; 4];
                bytes[..four.len()].copy_from_slice(four);
                *word = u32::from_be_bytes(bytes);
            }
        }
        Ok(image)
    }
}

/// A `PIX` owned here, destroyed when dropped.
pub struct Image<'a> {
    pix: *mut Pix,
    leptonica: &'a Leptonica,
}

impl<'a> Image<'a> {
    pub fn pix(&self) -> *mut Pix {
        self.pix
    }

    /// The grey pixels (rows packed), width and height; `None` for an image that is not
    /// 8-bit grey.
    pub fn grey(&self) -> Option<(Vec<u8>, u32, u32)> {
        let (mut w, mut h, mut depth): (c_int, c_int, c_int) = (0, 0, 0);
        // SAFETY: a live image and three out-parameters that outlive the call.
        let failed = unsafe { (self.leptonica.dimensions)(self.pix, &mut w, &mut h, &mut depth) };
        if failed != 0 || depth != GREY || w <= 0 || h <= 0 {
            return None;
        }
        // SAFETY: a live 8-bit image: `wpl` words per row, `h` rows.
        let (data, wpl) = unsafe {
            (
                (self.leptonica.data)(self.pix),
                (self.leptonica.words_per_line)(self.pix),
            )
        };
        let (width, height, wpl) = (w as usize, h as usize, wpl.max(0) as usize);
        if data.is_null() || wpl * 4 < width {
            return None;
        }
        // SAFETY: the image holds `wpl × height` words at `data`, read only here.
        let words = unsafe { std::slice::from_raw_parts(data, wpl * height) };
        let mut pixels = vec![0u8; width * height];
        for (row, out) in words.chunks_exact(wpl).zip(pixels.chunks_exact_mut(width)) {
            for (word, four) in row.iter().zip(out.chunks_mut(4)) {
                four.copy_from_slice(&word.to_be_bytes()[..four.len()]);
            }
        }
        Some((pixels, w as u32, h as u32))
    }

    /// The image turned upright, with the skew Leptonica measured. Leptonica turns it
    /// only when it is confident of an angle of 0.1° or more; otherwise the answer is
    /// this image again, shared, not copied. The turned image keeps its size: what a turn
    /// moves past an edge is a corner's margin, where text is not. `None` when Leptonica
    /// cannot use the image; it is then read as it is.
    pub fn upright(&self) -> Option<(Image<'a>, Skew)> {
        let (mut angle, mut confidence): (c_float, c_float) = (0.0, 0.0);
        // SAFETY: a live image and two out-parameters that outlive the call; the answer
        // is a new image, a new counted reference to this one, or null.
        let turned = unsafe {
            (self.leptonica.find_skew_and_deskew)(
                self.pix,
                DEFAULT_REDUCTION,
                &mut angle,
                &mut confidence,
            )
        };
        (!turned.is_null()).then_some((
            Image {
                pix: turned,
                leptonica: self.leptonica,
            },
            Skew {
                degrees: angle,
                confidence,
            },
        ))
    }
}

/// A page's skew as Leptonica measured it (zero: not measured).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Skew {
    /// The angle, in degrees, that turns the page upright (Leptonica's sign).
    pub degrees: f32,
    /// Leptonica's ratio of the best alignment's score to the others' (under 3: no
    /// clear angle, and the page is not turned).
    pub confidence: f32,
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        // SAFETY: this owns one reference to a live image and drops it once.
        unsafe { (self.leptonica.destroy)(&mut self.pix) }
    }
}
