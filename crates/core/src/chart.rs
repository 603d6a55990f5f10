//! Line charts as standalone SVG, drawn the same by `ponder sweep`, `ponder figures` and
//! the page's Experiment view: one line per series over a shaded band behind each point
//! (the seeds' range, or a 95% interval; each point says which), x on a log2 axis (budgets
//! double), y as accuracy in %. Each point carries its numbers as a tooltip (`<title>`),
//! and the chart as a whole is labelled for screen readers.

use std::fmt::Write as _;

use crate::stats::Interval;
use crate::sweep::Spread;

/// One point: x, the mean, and the band behind it (`band` says what it is).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub band: &'static str,
}

impl Point {
    /// A share over seeds drawn in percent at `x`, over the range of the seeds.
    pub fn percent(x: f64, share: Spread) -> Point {
        Point {
            x,
            mean: 100.0 * share.mean,
            low: 100.0 * share.min,
            high: 100.0 * share.max,
            band: "range over seeds",
        }
    }

    /// A share drawn in percent at `x` over its 95% interval.
    pub fn interval(x: f64, share: f64, interval: Interval) -> Point {
        Point {
            x,
            mean: 100.0 * share,
            low: 100.0 * interval.low,
            high: 100.0 * interval.high,
            band: "95% interval",
        }
    }
}

/// A named line.
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// Colours that stay distinct for readers with common colour-vision deficiencies
/// (Okabe–Ito).
const COLOURS: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart's size and the margins around its plot.
const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// Where y (0 to 100) stands.
fn y_at(y: f64) -> f64 {
    TOP + (1.0 - y / 100.0) * (H - TOP - BOTTOM)
}

/// A chart's start: the element, its background, its title, and y's grid from 0 to 100.
fn open(title: &str) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        escape(title)
    );
    for tick in (0..=100).step_by(20) {
        let y = y_at(f64::from(tick));
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{tick}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    svg
}

/// The axes' names, below x and beside y.
fn axis_labels(svg: &mut String, x_label: &str, y_label: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        H - 16.0,
        escape(x_label)
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (H - BOTTOM + TOP) / 2.0,
        escape(y_label)
    );
}

/// How a series shows in the legend: a thin swatch for a line, a block for bars.
#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Bar,
}

/// Series `i`'s entry in the legend: its swatch in its colour, and its name.
fn legend(svg: &mut String, i: usize, colour: &str, swatch: Swatch, name: &str) {
    let ly = TOP + 16.0 * i as f64;
    let (top, height) = match swatch {
        Swatch::Line => (ly, 3.0),
        Swatch::Bar => (ly - 4.0, 10.0),
    };
    let _ = writeln!(
        svg,
        r#"<rect x="{}" y="{top}" width="14" height="{height}" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
        W - RIGHT + 12.0,
        W - RIGHT + 32.0,
        ly + 5.0,
        escape(name)
    );
}

/// The chart: x on a log2 scale between the smallest and largest x, y from 0 to 100.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    line_chart_on(XScale::Log2, title, x_label, y_label, series)
}

/// How x maps to the width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XScale {
    /// Budgets, which double: ticks at each power of two.
    Log2,
    /// Counts such as revision steps: ticks at whole numbers (every few when many).
    Linear,
}

/// [`line_chart`] on either x scale.
pub fn line_chart_on(
    scale: XScale,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> String {
    // The frame's size and margins under short names, for the geometry below.
    let (w, h, left, right, top, bottom) = (W, H, LEFT, RIGHT, TOP, BOTTOM);
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .filter(|x| *x > 0.0)
        .collect();
    // Budgets start at 1; a mix's ratios go below it (1/16).
    let lo = if xs.is_empty() {
        1.0
    } else {
        xs.iter().copied().fold(f64::INFINITY, f64::min)
    };
    let hi = xs.iter().copied().fold(0.0, f64::max).max(lo * 2.0);
    let px = |x: f64| {
        let t = match scale {
            XScale::Log2 => (x.log2() - lo.log2()) / (hi.log2() - lo.log2()),
            XScale::Linear => (x - lo) / (hi - lo),
        };
        left + t * (w - left - right)
    };
    let mut svg = open(title);
    let ticks: Vec<f64> = match scale {
        XScale::Log2 => std::iter::successors(Some(lo), |x| Some(x * 2.0))
            .take_while(|x| *x <= hi * 1.0001)
            .collect(),
        XScale::Linear => {
            let every = ((hi - lo) / 10.0).ceil().max(1.0);
            std::iter::successors(Some(lo), |x| Some(x + every))
                .take_while(|x| *x <= hi + 1e-9)
                .collect()
        }
    };
    for x in ticks {
        let p = px(x);
        let _ = writeln!(
            svg,
            r##"<line x1="{p}" x2="{p}" y1="{top}" y2="{}" stroke="#eee"/><text x="{p}" y="{}" text-anchor="middle">{x}</text>"##,
            h - bottom,
            h - bottom + 16.0
        );
    }
    axis_labels(&mut svg, x_label, y_label);
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.x > 0.0)
            .map(|p| format!("{:.1},{:.1}", px(p.x), y_at(p.mean)))
            .collect();
        // The band: along the highest values, back along the lowest.
        let shown: Vec<&Point> = s.points.iter().filter(|p| p.x > 0.0).collect();
        let band: Vec<String> = shown
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.x), y_at(p.high)))
            .chain(
                shown
                    .iter()
                    .rev()
                    .map(|p| format!("{:.1},{:.1}", px(p.x), y_at(p.low))),
            )
            .collect();
        if shown.iter().any(|p| p.high > p.low) {
            let _ = writeln!(
                svg,
                r#"<polygon fill="{colour}" fill-opacity="0.15" stroke="none" points="{}"/>"#,
                band.join(" ")
            );
        }
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for p in shown {
            let (x, low, high, mean) = (px(p.x), y_at(p.low), y_at(p.high), y_at(p.mean));
            let _ = writeln!(
                svg,
                r#"<g><title>{}: {:.1}% at {} ({} {:.1}–{:.1})</title><line x1="{x:.1}" x2="{x:.1}" y1="{low:.1}" y2="{high:.1}" stroke="{colour}"/><circle cx="{x:.1}" cy="{mean:.1}" r="4" fill="{colour}"/></g>"#,
                escape(&s.name),
                p.mean,
                p.x,
                p.band,
                p.low,
                p.high,
            );
        }
        legend(&mut svg, i, colour, Swatch::Line, &s.name);
    }
    svg.push_str("</svg>\n");
    svg
}

/// One named set of bars: a value per group (mean, lowest, highest), or none.
pub struct Bars {
    pub name: String,
    pub values: Vec<Option<Point>>,
}

/// Grouped bars, y from 0 to 100: a group per entry of `groups`, a bar per series in
/// each, with a whisker from the lowest to the highest value and the numbers as tooltips.
pub fn bar_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    groups: &[String],
    series: &[Bars],
) -> String {
    // The frame's size and margins under short names, for the geometry below.
    let (w, h, left, right, bottom) = (W, H, LEFT, RIGHT, BOTTOM);
    let plot_w = w - left - right;
    let group_w = plot_w / groups.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    let mut svg = open(title);
    for (g, name) in groups.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            left + group_w * (g as f64 + 0.5),
            h - bottom + 16.0,
            escape(name)
        );
    }
    axis_labels(&mut svg, x_label, y_label);
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        for (g, value) in s.values.iter().enumerate() {
            let Some(p) = value else { continue };
            let x = left + group_w * (g as f64 + 0.1) + bar_w * i as f64;
            // A bar at 0% stays visible as a sliver, so it is not taken for a bin with
            // no problems.
            let base = y_at(0.0);
            let y = y_at(p.mean).min(base - 2.0);
            let mid = x + bar_w / 2.0;
            let _ = writeln!(
                svg,
                r#"<g><title>{}, {}: {:.1}% (range over seeds {:.1}–{:.1})</title><rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/><line x1="{mid:.1}" x2="{mid:.1}" y1="{:.1}" y2="{:.1}" stroke="black"/></g>"#,
                escape(&s.name),
                escape(&groups[g]),
                p.mean,
                p.low,
                p.high,
                (bar_w - 2.0).max(1.0),
                (base - y).max(0.0),
                y_at(p.low),
                y_at(p.high),
            );
        }
        legend(&mut svg, i, colour, Swatch::Bar, &s.name);
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_land_where_their_values_say() {
        let svg = line_chart(
            "t",
            "budget",
            "accuracy (%)",
            &[Series {
                name: "best-of-n <N>".into(),
                points: vec![
                    Point {
                        x: 1.0,
                        mean: 0.0,
                        low: 0.0,
                        high: 0.0,
                        band: "range over seeds",
                    },
                    Point {
                        x: 4.0,
                        mean: 100.0,
                        low: 90.0,
                        high: 100.0,
                        band: "range over seeds",
                    },
                ],
            }],
        );
        // x = 1 is the left edge (64), x = 4 the right edge (720 - 170); y = 0% is the
        // bottom (440 - 56), 100% the top (40).
        assert!(svg.contains(r#"points="64.0,384.0 550.0,40.0""#), "{svg}");
        assert!(svg.contains("best-of-n &lt;N&gt;"));
        // The band runs along the highs (90% of 100 at x = 4 is y = 74.4), then back.
        assert!(
            svg.contains(r#"points="64.0,384.0 550.0,40.0 550.0,74.4 64.0,384.0""#),
            "{svg}"
        );
        assert!(svg.contains(
            "<title>best-of-n &lt;N&gt;: 100.0% at 4 (range over seeds 90.0–100.0)</title>"
        ));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn bars_stand_in_their_groups_at_their_height() {
        let svg = bar_chart(
            "t",
            "bin",
            "accuracy (%)",
            &["1".into(), "2".into()],
            &[Bars {
                name: "beam".into(),
                values: vec![
                    Some(Point {
                        x: 1.0,
                        mean: 50.0,
                        low: 40.0,
                        high: 60.0,
                        band: "range over seeds",
                    }),
                    None,
                ],
            }],
        );
        // Group 1 starts at 64; its bar at 64 + 0.1 × 243 wide; 50% is y = 212.
        assert!(
            svg.contains(r#"<rect x="88.3" y="212.0" width="192.4" height="172.0""#),
            "{svg}"
        );
        assert!(svg.contains("<title>beam, 1: 50.0% (range over seeds 40.0–60.0)</title>"));
        assert_eq!(
            svg.matches("<title>").count(),
            1,
            "no bar for a missing value"
        );
    }
}
