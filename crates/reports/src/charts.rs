//! The report's charts, drawn once by code generic over plotters' backends: SVG for the page
//! (inline, so it needs nothing from the network) and PNG for the files beside it.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::queries::TimeUnit;
use crate::{Error, Report};

/// DejaVu Sans (Bitstream Vera licence), bundled so PNG text renders the same on a laptop and
/// in a Lambda, where there are no system fonts.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

pub const SIZE: (u32, u32) = (900, 420);

/// Outcome colours: approve, review, block.
static COLOURS: [RGBColor; 3] = [
    RGBColor(46, 139, 87),
    RGBColor(230, 145, 30),
    RGBColor(200, 40, 40),
];
const NAMES: [&str; 3] = ["approve", "review", "block"];

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known good; a failure here would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The charts, by file stem and title.
pub const CHARTS: [(&str, &str); 4] = [
    ("outcomes_over_time", "Transactions by outcome over time"),
    ("alert_rate", "Alert rate (block) and review rate over time"),
    ("amounts_by_outcome", "Amounts by outcome"),
    ("top_reasons", "Top reasons for review and block"),
];

type Draw<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(name: &str, area: DrawingArea<DB, Shift>, r: &Report) -> Draw<DB> {
    area.fill(&WHITE)?;
    match name {
        "outcomes_over_time" => outcomes_over_time(&area, r)?,
        "alert_rate" => alert_rate(&area, r)?,
        "amounts_by_outcome" => amounts_by_outcome(&area, r)?,
        _ => top_reasons(&area, r)?,
    }
    area.present()
}

fn chart_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Chart {
        name: name.to_owned(),
        message: e.to_string(),
    }
}

/// Every chart as an SVG document.
pub fn svgs(r: &Report) -> Result<Vec<(&'static str, &'static str, String)>, Error> {
    fonts();
    CHARTS
        .iter()
        .map(|(name, title)| {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                draw(name, area, r).map_err(|e| chart_error(name, e))?;
            }
            Ok((*name, *title, svg))
        })
        .collect()
}

/// Every chart as `<dir>/<name>.png`.
pub fn write_pngs(r: &Report, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    fonts();
    let mut out = Vec::new();
    for (name, _) in CHARTS {
        let path = dir.join(format!("{name}.png"));
        let area = BitMapBackend::new(&path, SIZE).into_drawing_area();
        draw(name, area, r).map_err(|e| chart_error(name, e))?;
        out.push(path);
    }
    Ok(out)
}

/// A period label short enough for an axis.
fn short(label: &str, unit: TimeUnit) -> String {
    let s = label.get(..16).unwrap_or(label);
    match unit {
        TimeUnit::Minute => s.get(11..16).unwrap_or(s).to_owned(),
        TimeUnit::Hour => format!("{}h", s.get(5..13).unwrap_or(s)),
        TimeUnit::Day => s.get(..10).unwrap_or(s).to_owned(),
    }
}

/// A chart's frame: its caption and room for the axis labels.
fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56);
    builder
}

/// The label of the period at axis position `x`.
fn period_label(r: &Report, x: f64) -> String {
    r.periods
        .get(x.round() as usize)
        .map(|p| short(&p.label, r.unit))
        .unwrap_or_default()
}

fn line_legend(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Draw<DB> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

fn empty<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> Draw<DB> {
    area.draw(&Text::new(
        format!("No {what}"),
        (SIZE.0 as i32 / 2 - 80, SIZE.1 as i32 / 2),
        ("sans-serif", 20).into_font(),
    ))
}

fn outcomes_over_time<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> Draw<DB> {
    if r.periods.is_empty() {
        return empty(area, "transactions");
    }
    let n = r.periods.len();
    let max = r
        .periods
        .iter()
        .flat_map(|p| p.counts)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    // Logarithmic, so that a handful of blocks shows beside thousands of approvals.
    let caption = format!("Transactions per {} by outcome", r.unit.as_str());
    let mut chart = frame(area, &caption)
        .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, (0.8f64..max * 1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| period_label(r, *x))
        .y_desc("transactions (log scale)")
        .draw()?;
    for (i, colour) in COLOURS.iter().enumerate() {
        let points: Vec<(f64, f64)> = r
            .periods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.counts[i] > 0)
            .map(|(x, p)| (x as f64, p.counts[i] as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(NAMES[i])
            .legend(line_legend(*colour));
        if n <= 60 {
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )?;
        }
    }
    legend(&mut chart)
}

fn alert_rate<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> Draw<DB> {
    if r.periods.is_empty() {
        return empty(area, "transactions");
    }
    let rates: Vec<(f64, f64)> = r
        .periods
        .iter()
        .map(|p| {
            let total = p.counts.iter().sum::<u64>().max(1) as f64;
            (
                100.0 * p.counts[2] as f64 / total,
                100.0 * p.counts[1] as f64 / total,
            )
        })
        .collect();
    let top = rates.iter().map(|(b, v)| b.max(*v)).fold(0.0, f64::max);
    let n = rates.len();
    let caption = format!(
        "Alert rate per {}: overall {:.2} % blocked",
        r.unit.as_str(),
        100.0 * r.alert_rate()
    );
    let mut chart = frame(area, &caption)
        .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, 0f64..(top * 1.2).max(1.0))?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| period_label(r, *x))
        .y_desc("% of transactions")
        .draw()?;
    for (i, pick) in [(2usize, 0usize), (1, 1)] {
        let colour = COLOURS[i];
        chart
            .draw_series(LineSeries::new(
                rates
                    .iter()
                    .enumerate()
                    .map(|(x, r)| (x as f64, if pick == 0 { r.0 } else { r.1 })),
                colour.stroke_width(2),
            ))?
            .label(if i == 2 { "block %" } else { "review %" })
            .legend(line_legend(colour));
    }
    legend(&mut chart)
}

fn amounts_by_outcome<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> Draw<DB> {
    if r.bands.is_empty() {
        return empty(area, "transactions");
    }
    // Each outcome's transactions spread over the bands (shares, so that rare outcomes show).
    let mut per_outcome = [0u64; 3];
    for (_, c) in &r.bands {
        for i in 0..3 {
            per_outcome[i] += c[i];
        }
    }
    let n = r.bands.len();
    let mut chart = frame(area, "Amount bands: share of each outcome's transactions")
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..100f64)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 {
                r.bands
                    .get(i as usize)
                    .map(|b| b.0.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("% of the outcome's transactions")
        .draw()?;
    for (i, colour) in COLOURS.iter().enumerate() {
        if per_outcome[i] == 0 {
            continue;
        }
        let offset = -0.3 + 0.2 * i as f64;
        chart
            .draw_series(r.bands.iter().enumerate().map(|(x, (_, c))| {
                let share = 100.0 * c[i] as f64 / per_outcome[i] as f64;
                let x = x as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.2, share)], colour.filled())
            }))?
            .label(NAMES[i])
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    legend(&mut chart)
}

fn top_reasons<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> Draw<DB> {
    if r.reasons.is_empty() {
        return empty(area, "review or block reasons");
    }
    let n = r.reasons.len();
    let max = r.reasons.iter().map(|(_, c)| *c).max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("Top reasons given for review and block", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(10)
        .build_cartesian_2d(0f64..max * 1.05, -0.5f64..n as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("transactions")
        .draw()?;
    chart.draw_series(r.reasons.iter().enumerate().map(|(i, (_, c))| {
        let y = (n - 1 - i) as f64;
        Rectangle::new(
            [(0.0, y - 0.35), (*c as f64, y + 0.35)],
            RGBColor(70, 110, 180).filled(),
        )
    }))?;
    // The reason's words on its bar, since they are too long for an axis.
    for (i, (reason, c)) in r.reasons.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let text: String = reason.chars().take(70).collect();
        chart.draw_series(std::iter::once(Text::new(
            format!("{text} ({c})"),
            (max * 0.01, y + 0.15),
            ("sans-serif", 13).into_font().color(&BLACK),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(short("2023-08-02 11:12:00.000", TimeUnit::Minute), "11:12");
        assert_eq!(
            short("2023-08-02 11:00:00.000", TimeUnit::Hour),
            "08-02 11h"
        );
        assert_eq!(
            short("2023-08-02 00:00:00.000", TimeUnit::Day),
            "2023-08-02"
        );
        assert_eq!(short("x", TimeUnit::Day), "x");
    }
}
