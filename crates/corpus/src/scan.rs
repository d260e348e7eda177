//! Image-only copies of PDFs, as a scanner or a phone would make them: every page
//! rendered at 150–300 dpi, turned a few degrees, blurred, given sensor noise, stored as a
//! JPEG, with no text layer left. For measuring OCR: the copy's verdict should be the
//! original's.
//!
//! The pixel operations are the few a scan needs (bilinear rotation, Gaussian blur,
//! Gaussian noise), written here: the image-processing crates that have them
//! (`imageproc`) would bring a second version of `image` into the build.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;
use vigil_ocr::render::{self, Grey};

use crate::Error;

/// How one copy was degraded (written beside the copies, one JSON line per file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanStyle {
    pub dpi: u32,
    /// Degrees, counter-clockwise.
    pub skew: f32,
    /// Gaussian blur's sigma, in pixels (0: none).
    pub blur: f32,
    /// Noise's standard deviation, in grey levels (0: none).
    pub noise: f32,
    /// JPEG quality, 1–100.
    pub quality: u8,
}

impl ScanStyle {
    /// A style drawn at random: most copies look like an office scanner's, some like a
    /// phone's or a fax's.
    pub fn draw(rng: &mut impl Rng) -> ScanStyle {
        ScanStyle {
            dpi: [150, 200, 200, 300][rng.random_range(0..4)],
            skew: rng.random_range(-3.0..=3.0),
            blur: [0.0, 0.0, 0.6, 1.0][rng.random_range(0..4)],
            noise: [0.0, 4.0, 8.0, 14.0][rng.random_range(0..4)],
            quality: rng.random_range(40..=90),
        }
    }

    /// Independent styles for `count` files from one seed.
    pub fn draw_many(seed: u64, count: usize) -> Vec<ScanStyle> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count).map(|_| ScanStyle::draw(&mut rng)).collect()
    }
}

/// PDF user space units per inch.
const POINTS_PER_INCH: f32 = 72.0;
/// Pages larger than this are rendered at a lower resolution (a 300 dpi legal page is
/// 10 M pixels).
const MAX_PIXELS: u64 = 40_000_000;

/// The image-only copy of `pdf`, degraded as `style` says; `seed` drives the noise.
pub fn scan_copy(pdf: &[u8], style: &ScanStyle, seed: u64) -> Result<Vec<u8>, Error> {
    let source = render::Document::open(pdf).map_err(|e| Error::Scan(e.to_string()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for number in 1..=source.pages() as u32 {
        let grey = source
            .render(number, style.dpi, MAX_PIXELS)
            .map_err(|e| Error::Scan(e.to_string()))?;
        let grey = degrade(grey, style, &mut rng);
        let jpeg = encode_jpeg(&grey, style.quality)?;
        let (w_pt, h_pt) = (
            grey.width as f32 * POINTS_PER_INCH / grey.dpi as f32,
            grey.height as f32 * POINTS_PER_INCH / grey.dpi as f32,
        );
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image",
                "Width" => i64::from(grey.width), "Height" => i64::from(grey.height),
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            },
            jpeg,
        ));
        let ops = vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    w_pt.into(),
                    0.into(),
                    0.into(),
                    h_pt.into(),
                    0.into(),
                    0.into(),
                ],
            ),
            Operation::new("Do", vec!["Scan".into()]),
            Operation::new("Q", vec![]),
        ];
        let content = Content { operations: ops }
            .encode()
            .map_err(|e| Error::Scan(e.to_string()))?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image } },
            "MediaBox" => vec![0.into(), 0.into(), w_pt.into(), h_pt.into()],
        });
        kids.push(Object::from(page));
    }
    Ok(crate::pdf::finish(doc, pages_id, kids))
}

fn degrade(grey: Grey, style: &ScanStyle, rng: &mut impl Rng) -> Grey {
    let mut g = grey;
    if style.skew.abs() > 0.05 {
        g = rotate(&g, style.skew);
    }
    if style.blur > 0.0 {
        g = blur(&g, style.blur);
    }
    if style.noise > 0.0 {
        add_noise(&mut g, style.noise, rng);
    }
    g
}

/// Rotation about the centre, bilinear, paper-white where the page moved away.
fn rotate(g: &Grey, degrees: f32) -> Grey {
    let (w, h) = (g.width as usize, g.height as usize);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let at = |x: isize, y: isize| -> f32 {
        if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
            255.0
        } else {
            f32::from(g.pixels[y as usize * w + x as usize])
        }
    };
    let mut pixels = vec![255u8; w * h];
    for y in 0..h {
        for x in 0..w {
            // Where this output pixel comes from in the source.
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let sx = cos * dx - sin * dy + cx;
            let sy = sin * dx + cos * dy + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
            let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
            pixels[y * w + x] = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
    }
    Grey {
        pixels,
        width: g.width,
        height: g.height,
        dpi: g.dpi,
    }
}

/// Separable Gaussian blur, edges clamped.
fn blur(g: &Grey, sigma: f32) -> Grey {
    let radius = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let (w, h) = (g.width as isize, g.height as isize);
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0.0; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, weight) in kernel.iter().enumerate() {
                    let o = k as isize - radius;
                    let (sx, sy) = if horizontal {
                        ((x + o).clamp(0, w - 1), y)
                    } else {
                        (x, (y + o).clamp(0, h - 1))
                    };
                    acc += weight * src[(sy * w + sx) as usize];
                }
                out[(y * w + x) as usize] = acc / total;
            }
        }
        out
    };
    let src: Vec<f32> = g.pixels.iter().map(|&p| f32::from(p)).collect();
    let out = pass(&pass(&src, true), false);
    Grey {
        pixels: out
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect(),
        width: g.width,
        height: g.height,
        dpi: g.dpi,
    }
}

fn add_noise(g: &mut Grey, sd: f32, rng: &mut impl Rng) {
    let Ok(normal) = Normal::new(0.0f32, sd) else {
        return;
    };
    for p in &mut g.pixels {
        *p = (f32::from(*p) + normal.sample(rng))
            .round()
            .clamp(0.0, 255.0) as u8;
    }
}

fn encode_jpeg(g: &Grey, quality: u8) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let (w, h) = (
        u16::try_from(g.width).map_err(|_| Error::Scan("page too wide for JPEG".into()))?,
        u16::try_from(g.height).map_err(|_| Error::Scan("page too tall for JPEG".into()))?,
    );
    jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(&g.pixels, w, h, jpeg_encoder::ColorType::Luma)
        .map_err(|e| Error::Scan(format!("JPEG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: u32, height: u32, pixels: Vec<u8>) -> Grey {
        Grey {
            width,
            height,
            dpi: 200,
            pixels,
        }
    }

    #[test]
    fn rotation_by_zero_and_blur_of_a_flat_page_change_nothing() {
        let flat = grey(8, 6, vec![200; 48]);
        assert_eq!(rotate(&flat, 0.0).pixels[9..39], flat.pixels[9..39]);
        assert_eq!(blur(&flat, 1.0).pixels, flat.pixels);
    }

    #[test]
    fn a_turned_page_keeps_its_centre_and_whitens_its_corners() {
        let mut pixels = vec![255; 101 * 101];
        pixels[50 * 101 + 50] = 0;
        let turned = rotate(&grey(101, 101, vec![0; 101 * 101]), 10.0);
        assert_eq!(turned.pixels[50 * 101 + 50], 0);
        assert_eq!(turned.pixels[0], 255);
        let dot = rotate(&grey(101, 101, pixels), 3.0);
        assert!(dot.pixels[50 * 101 + 50] < 128);
    }

    #[test]
    fn styles_stay_in_their_ranges_and_repeat_by_seed() {
        let styles = ScanStyle::draw_many(7, 200);
        assert_eq!(styles, ScanStyle::draw_many(7, 200));
        for s in &styles {
            assert!([150, 200, 300].contains(&s.dpi));
            assert!(s.skew.abs() <= 3.0 && (40..=90).contains(&s.quality));
        }
    }
}
