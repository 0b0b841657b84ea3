//! Plots written as PNG (1000×700 bitmap) or SVG, chosen by the file's extension: a reliability
//! diagram, line plots and histograms (PIT or residuals).
//!
//! Text is drawn with the bundled DejaVu Sans (`assets/DejaVuSans.ttf`, Bitstream Vera licence in
//! `assets/DejaVuSans.LICENSE`), registered with plotters once before the first plot. Every plot is
//! drawn into a temporary file beside the target and renamed over it when complete, so an error
//! never leaves a partial file. An unknown extension is a usage error (exit code 2), checked by
//! [`format_of`] before any work is done.

use crate::error::{CliError, CliResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use surprisal::calibration::{Norm, ReliabilityDiagram};

/// Width and height of every plot, in pixels.
pub const SIZE: (u32, u32) = (1000, 700);

/// The font family every text uses (the bundled DejaVu Sans is registered under this name).
const FONT: &str = "sans-serif";

/// The colours of successive series.
const COLOURS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
];

/// A named series of (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A 1000×700 PNG bitmap.
    Png,
    /// An SVG document.
    Svg,
}

/// The format of a plot file by its extension (`.png` or `.svg`, any case); a usage error otherwise.
pub fn format_of(path: &str) -> CliResult<Format> {
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(CliError::Usage(format!("--plot {path}: the file must end in .png or .svg"))),
    }
}

/// Registers the bundled font with plotters (once).
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // The bundled file is a valid TrueType font; a failure would only leave text undrawn.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

/// One histogram bar: `[lower, upper)` with its count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub lower: f64,
    /// Right edge.
    pub upper: f64,
    /// Height.
    pub count: f64,
}

/// What to draw.
enum Plot<'a> {
    Reliability { diagram: &'a ReliabilityDiagram<f64>, title: &'a str },
    Lines { title: &'a str, x_label: &'a str, y_label: &'a str, series: &'a [Series] },
    Histogram { title: &'a str, x_label: &'a str, bars: &'a [Bar], reference: Option<(f64, &'a str)> },
}

/// Draws a reliability diagram: observed frequency vs mean confidence per bin (bars over each bin
/// and a point at the bin's mean confidence), the diagonal of perfect calibration, and the rows per
/// bin as a histogram below; the expected calibration error is in the title.
pub fn reliability_diagram(path: &str, diagram: &ReliabilityDiagram<f64>, title: &str) -> CliResult<()> {
    save(path, &Plot::Reliability { diagram, title })
}

/// Draws named series of (x, y) points as lines, with a legend.
pub fn line_plot(path: &str, title: &str, x_label: &str, y_label: &str, series: &[Series]) -> CliResult<()> {
    save(path, &Plot::Lines { title, x_label, y_label, series })
}

/// Draws a histogram of counts (a PIT histogram or residuals), with an optional horizontal
/// reference line (its height and label), e.g. the count a calibrated PIT would give each bin.
pub fn histogram(
    path: &str,
    title: &str,
    x_label: &str,
    bars: &[Bar],
    reference: Option<(f64, &str)>,
) -> CliResult<()> {
    save(path, &Plot::Histogram { title, x_label, bars, reference })
}

/// `bins` equal-width bars over the range of `values` (one bar when they are all equal).
pub fn bars_of(values: &[f64], bins: usize) -> Vec<Bar> {
    let bins = bins.max(1);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0.0; bins];
    for &v in values {
        let k = (((v - lo) / w) as usize).min(bins - 1);
        counts[k] += 1.0;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(k, count)| Bar { lower: lo + k as f64 * w, upper: lo + (k + 1) as f64 * w, count })
        .collect()
}

/// Draws `plot` atomically to `path` (see [`crate::output::write_atomic_with`]).
fn save(path: &str, plot: &Plot) -> CliResult<()> {
    let format = format_of(path)?;
    register_font();
    crate::output::write_atomic_with(path, |tmp| {
        // Creating the file first reports an unwritable place as an I/O error on the user's path.
        std::fs::File::create(tmp)?;
        let drawn = match format {
            Format::Svg => {
                let mut svg = String::new();
                draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), plot)
                    .and_then(|()| std::fs::write(tmp, svg).map_err(|e| e.to_string()))
            }
            Format::Png => draw(BitMapBackend::new(tmp, SIZE).into_drawing_area(), plot),
        };
        drawn.map_err(|m| std::io::Error::other(format!("drawing the plot: {m}")))
    })
}

/// A plotters error as text.
fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// `[lo, hi]` widened by 5% on each side (and made non-empty).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// Draws `plot` on `root` and presents it.
fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, plot: &Plot) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    match plot {
        Plot::Reliability { diagram, title } => draw_reliability(&root, diagram, title)?,
        Plot::Lines { title, x_label, y_label, series } => {
            draw_lines(&root, title, x_label, y_label, series)?
        }
        Plot::Histogram { title, x_label, bars, reference } => {
            draw_histogram(&root, title, x_label, bars, *reference)?
        }
    }
    root.present().map_err(text)
}

fn draw_reliability<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &ReliabilityDiagram<f64>,
    title: &str,
) -> Result<(), String> {
    let ece = d.calibration_error(Norm::L1);
    let caption = format!("{title} (ECE = {ece:.4}, n = {})", d.n_rows());
    let root = root.margin(12, 0, 0, 0);
    let root = root.titled(&caption, (FONT, 26)).map_err(text)?;
    let (upper, lower) = root.split_vertically(SIZE.1 * 62 / 100);
    let blue = COLOURS[0];

    let mut chart = ChartBuilder::on(&upper)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(text)?;
    chart
        .configure_mesh()
        .y_desc("observed frequency")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(text)?;
    let occupied: Vec<usize> = (0..d.count.len()).filter(|&b| d.count[b] > 0).collect();
    chart
        .draw_series(occupied.iter().map(|&b| {
            let (lo, hi) = (d.lower[b], d.upper[b].max(d.lower[b] + 0.005).min(1.0));
            let lo = lo.min(hi - 0.005);
            Rectangle::new([(lo, 0.0), (hi, d.accuracy[b])], blue.mix(0.35).filled())
        }))
        .map_err(text)?
        .label("observed frequency per bin")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], blue.mix(0.35).filled()));
    chart
        .draw_series(
            occupied.iter().map(|&b| Circle::new((d.confidence[b], d.accuracy[b]), 5, blue.filled())),
        )
        .map_err(text)?
        .label("at the mean confidence of the bin")
        .legend(move |(x, y)| Circle::new((x + 8, y), 5, blue.filled()));
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.stroke_width(2)))
        .map_err(text)?
        .label("perfect calibration")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(text)?;

    let max = d.count.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut counts = ChartBuilder::on(&lower)
        .margin(10)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, 0f64..max * 1.1)
        .map_err(text)?;
    counts
        .configure_mesh()
        .x_desc("confidence (predicted probability)")
        .y_desc("rows")
        .y_labels(4)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(text)?;
    counts
        .draw_series(occupied.iter().map(|&b| {
            let (lo, hi) = (d.lower[b], d.upper[b].max(d.lower[b] + 0.005).min(1.0));
            let lo = lo.min(hi - 0.005);
            Rectangle::new([(lo, 0.0), (hi, d.count[b] as f64)], RGBColor(120, 120, 120).filled())
        }))
        .map_err(text)?;
    counts
        .draw_series(occupied.iter().map(|&b| {
            let (lo, hi) = (d.lower[b], d.upper[b].max(d.lower[b] + 0.005).min(1.0));
            let lo = lo.min(hi - 0.005);
            Rectangle::new([(lo, 0.0), (hi, d.count[b] as f64)], WHITE.stroke_width(1))
        }))
        .map_err(text)?;
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let points = || series.iter().flat_map(|(_, p)| p.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (x0, x1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| (a.min(x), b.max(x)));
    let (y0, y1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| (a.min(y), b.max(y)));
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { padded(x0, x1) };
    let (y0, y1) = padded(y0, y1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 26))
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(text)?;
    for (k, (name, pts)) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        // Later series are thinner, so a series that overlaps an earlier one stays visible on it.
        let width = if k == 0 { 6 } else { 2 };
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()),
                colour.stroke_width(width),
            ))
            .map_err(text)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(width)));
    }
    chart
        .configure_series_labels()
        .position(legend_corner(series, (x0, x1), (y0, y1)))
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(text)?;
    Ok(())
}

/// The upper corner (left, middle or right third, top third of the height) that the fewest
/// points of `series` fall in, for the legend.
fn legend_corner(series: &[Series], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let mut hits = [0usize; 3];
    for &(x, y) in series.iter().flat_map(|(_, p)| p.iter()) {
        if y >= y1 - (y1 - y0) / 3.0 && x.is_finite() {
            let k = (((x - x0) / (x1 - x0) * 3.0).max(0.0) as usize).min(2);
            hits[k] += 1;
        }
    }
    let best = (0..3).min_by_key(|&k| (hits[k], usize::from(k != 1))).unwrap_or(1);
    match best {
        0 => SeriesLabelPosition::UpperLeft,
        1 => SeriesLabelPosition::UpperMiddle,
        _ => SeriesLabelPosition::UpperRight,
    }
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    bars: &[Bar],
    reference: Option<(f64, &str)>,
) -> Result<(), String> {
    let x0 = bars.iter().map(|b| b.lower).fold(f64::INFINITY, f64::min);
    let x1 = bars.iter().map(|b| b.upper).fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (0.0, 1.0) };
    let top = bars.iter().map(|b| b.count).fold(reference.map_or(0.0, |r| r.0), f64::max).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 26))
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, 0.0..top * 1.15)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("rows")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(RGBColor(245, 245, 245))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(text)?;
    let fill = RGBColor(120, 170, 210).filled();
    chart
        .draw_series(bars.iter().map(|b| Rectangle::new([(b.lower, 0.0), (b.upper, b.count)], fill)))
        .map_err(text)?;
    chart
        .draw_series(
            bars.iter().map(|b| Rectangle::new([(b.lower, 0.0), (b.upper, b.count)], BLACK.stroke_width(1))),
        )
        .map_err(text)?;
    if let Some((level, label)) = reference {
        let red = COLOURS[1];
        chart
            .draw_series(LineSeries::new([(x0, level), (x1, level)], red.stroke_width(3)))
            .map_err(text)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red.stroke_width(3)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(format_of("a.png").unwrap(), Format::Png);
        assert_eq!(format_of("dir/a.SVG").unwrap(), Format::Svg);
        for bad in ["a.jpg", "a", "png", "a.png.txt"] {
            assert_eq!(format_of(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn bars_cover_every_value_once() {
        let v = [0.0, 0.1, 0.5, 0.99, 1.0, 1.0];
        let b = bars_of(&v, 4);
        assert_eq!(b.len(), 4);
        assert_eq!(b.iter().map(|b| b.count).sum::<f64>(), v.len() as f64);
        assert_eq!(b[0].lower, 0.0);
        assert_eq!(b[3].upper, 1.0);
        assert_eq!(bars_of(&[2.0, 2.0], 3).iter().map(|b| b.count).sum::<f64>(), 2.0);
        assert!(bars_of(&[], 3).is_empty());
    }
}
