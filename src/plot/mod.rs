//! Charts of the run report, drawn from the result model with plotters, each as SVG (inlined
//! in report.html) and PNG (linked from report.md): Kaplan–Meier curves with CI bands and a
//! number-at-risk table aligned under the time axis, cumulative incidence curves with theirs,
//! forest plots of odds and hazard ratios (with their counts and "OR/HR (95% CI)" printed
//! beside them), SRE-type bars and the corrected-calcium histogram with the class thresholds.
//!
//! Charts are meant to be read on paper as well as on screen (issue #23, item 3): every text
//! is measured with the font that draws it and wrapped to the room it has, never cut; titles
//! are short (the report's caption carries the long description) and wrap when they must;
//! grids are light, with no minor lines; the time axis of a curve chart ends at the last time
//! shown after disclosure control (curves and at-risk rows stop where fewer than `min_cell`
//! patients are at risk), not at the cohort's last follow-up.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (assets/fonts, its licence beside
//! it), so PNGs render identically on a machine with no fonts; SVGs name DejaVu Sans first,
//! and their layout, measured with it, leaves room for narrower fonts. Colours are the
//! Okabe–Ito palette, distinguishable with the common colour-vision deficiencies. Nothing
//! depends on the clock or on hashing: a run draws the same bytes every time.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::model::{
    AtRiskJson, CompetingRiskJson, Count, CurvePointJson, DistributionJson, Estimate, RunSummary,
    SurvivalJson,
};
use crate::error::{Error, Result};

/// DejaVu Sans (Bitstream Vera licence, assets/fonts/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Okabe & Ito (2008): black excluded, for lines on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
];

const WIDTH: u32 = 900;
/// Space around every chart, pixels.
const MARGIN: i32 = 10;
/// Font sizes (plotters' units) and line heights (pixels) of titles, text and tick labels.
const TITLE_SIZE: f64 = 18.0;
const TITLE_LINE: i32 = 22;
const BODY_SIZE: f64 = 14.0;
const LINE: i32 = 17;
const TICK_SIZE: f64 = 13.0;
/// The visual middle of a line of text below the top it is drawn from (between where the PNG
/// and the SVG set it): swatches, points and bars line up with a text's middle.
const TEXT_MID: i32 = 4;
/// Space between the columns of a chart's table.
const GAP: i32 = 14;
/// Text, secondary text, rules, alternate rows and grid lines.
const INK: RGBColor = RGBColor(34, 34, 34);
const GREY: RGBColor = RGBColor(96, 96, 96);
const RULE: RGBColor = RGBColor(190, 190, 190);
const STRIPE: RGBColor = RGBColor(245, 245, 245);
const GRID: RGBColor = RGBColor(228, 228, 228);

/// What an SVG names as its font: DejaVu Sans, as the PNGs are drawn with (and the report's
/// page and flow diagram name).
const SVG_FONT: &str = "font-family=\"DejaVu Sans, sans-serif\"";

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is compiled in: a failure here is a build defect, caught by the tests.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A chart written as `NAME.svg` and `NAME.png`; the SVG text is kept for inlining.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem under charts/.
    pub name: String,
    /// What it shows (the figure's caption and the images' alt text).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

type Draw<'a> = dyn Fn(&DrawingArea<SVGBackend, Shift>) -> std::result::Result<(), String> + 'a;
type DrawPng<'a> =
    dyn Fn(&DrawingArea<BitMapBackend, Shift>) -> std::result::Result<(), String> + 'a;

fn chart_error(path: &Path, message: String) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(message),
    }
}

/// Draws one chart on both backends.
fn render(
    dir: &Path,
    name: &str,
    title: &str,
    height: u32,
    svg: &Draw,
    png: &DrawPng,
) -> Result<Chart> {
    let svg_path = dir.join(format!("{name}.svg"));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        svg(&root).map_err(|m| chart_error(&svg_path, m))?;
        root.present()
            .map_err(|e| chart_error(&svg_path, e.to_string()))?;
    }
    let text = text.replace("font-family=\"sans-serif\"", SVG_FONT);
    std::fs::write(&svg_path, &text).map_err(|source| Error::Write {
        path: svg_path.clone(),
        source,
    })?;
    let png_path = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png_path, (WIDTH, height)).into_drawing_area();
        png(&root).map_err(|m| chart_error(&png_path, m))?;
        root.present()
            .map_err(|e| chart_error(&png_path, e.to_string()))?;
    }
    Ok(Chart {
        name: name.into(),
        title: title.into(),
        svg: text,
    })
}

type Drawn = std::result::Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

// ---- Text: measured with the embedded font, wrapped, never cut ----

fn font(size: f64) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

fn text_style(size: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size).color(&colour).pos(Pos::new(h, v))
}

/// The width of a text in pixels, as the PNG draws it (the SVG's is no wider: its font size
/// is smaller for the same plotters size).
fn text_width(text: &str, size: f64) -> i32 {
    font(size).box_size(text).map_or_else(
        |_| (0.62 * size * text.chars().count() as f64).ceil() as i32,
        |(w, _)| w as i32 + 1,
    )
}

/// The text in lines no wider than `max` pixels: broken at spaces, and a word wider than a
/// line broken between its characters. Nothing is dropped.
fn wrap(text: &str, size: f64, max: i32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if text_width(word, size) <= max {
            line = word.to_string();
            continue;
        }
        for c in word.chars() {
            line.push(c);
            if line.chars().count() > 1 && text_width(&line, size) > max {
                line.pop();
                lines.push(std::mem::take(&mut line));
                line.push(c);
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The widest of the lines, pixels.
fn widest(lines: &[String], size: f64) -> i32 {
    lines.iter().map(|l| text_width(l, size)).max().unwrap_or(0)
}

/// Lines of text from `(x, y)` down, anchored at their top and at `h`.
fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[String],
    (x, y): (i32, i32),
    size: f64,
    line_height: i32,
    colour: RGBColor,
    h: HPos,
) -> Drawn {
    for (k, text) in lines.iter().enumerate() {
        root.draw(&Text::new(
            text.clone(),
            (x, y + line_height * k as i32),
            text_style(size, colour, h, VPos::Top),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Lines of text centred as a block on `mid`.
fn draw_block<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[String],
    (x, mid): (i32, i32),
    colour: RGBColor,
    h: HPos,
) -> Drawn {
    let top = mid - TEXT_MID - (lines.len() as i32 - 1) * LINE / 2;
    draw_lines(root, lines, (x, top), BODY_SIZE, LINE, colour, h)
}

/// A chart's title (short: the report's caption says the rest) and an optional subtitle, both
/// wrapped to the chart's width and centred.
struct Heading {
    title: Vec<String>,
    subtitle: Vec<String>,
}

impl Heading {
    /// The title, and the subtitle's paragraphs (each starts a line).
    fn new(title: &str, subtitle: &[String]) -> Self {
        let width = WIDTH as i32 - 2 * MARGIN;
        Self {
            title: wrap(title, TITLE_SIZE, width),
            subtitle: subtitle
                .iter()
                .flat_map(|s| wrap(s, BODY_SIZE, width))
                .collect(),
        }
    }

    /// Its height, from the chart's top edge to where the chart's body starts.
    fn height(&self) -> i32 {
        MARGIN + self.title.len() as i32 * TITLE_LINE + self.subtitle.len() as i32 * LINE + 8
    }

    /// Draws it; returns where the chart's body starts.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<i32, String> {
        let centre = WIDTH as i32 / 2;
        draw_lines(
            root,
            &self.title,
            (centre, MARGIN),
            TITLE_SIZE,
            TITLE_LINE,
            INK,
            HPos::Center,
        )?;
        let y = MARGIN + self.title.len() as i32 * TITLE_LINE;
        draw_lines(
            root,
            &self.subtitle,
            (centre, y),
            BODY_SIZE,
            LINE,
            GREY,
            HPos::Center,
        )?;
        Ok(self.height())
    }
}

/// A legend set in rows above a chart's plot: a line of the series' colour and its name, as
/// many to a row as fit, the names wrapped when one alone is wider than the chart.
struct Legend {
    /// Colour, name's lines, left edge, top relative to the legend's.
    items: Vec<(RGBColor, Vec<String>, i32, i32)>,
    height: i32,
}

const SWATCH: i32 = 24;

impl Legend {
    fn new(entries: &[(RGBColor, String)], left: i32, right: i32) -> Self {
        let max_text = right - left - SWATCH - 6;
        let (mut x, mut y, mut row) = (left, 0, 0);
        let mut items = Vec::new();
        for (colour, name) in entries {
            let lines = wrap(name, BODY_SIZE, max_text);
            let w = SWATCH + 6 + widest(&lines, BODY_SIZE);
            if x > left && x + w > right {
                (x, y, row) = (left, y + row + 4, 0);
            }
            row = row.max(lines.len() as i32 * LINE);
            items.push((*colour, lines, x, y));
            x += w + 24;
        }
        let height = if items.is_empty() { 0 } else { y + row + 6 };
        Self { items, height }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, top: i32) -> Drawn {
        for (colour, lines, x, y) in &self.items {
            let mid = top + y + TEXT_MID;
            root.draw(&PathElement::new(
                vec![(*x, mid), (x + SWATCH, mid)],
                colour.stroke_width(3),
            ))
            .map_err(err)?;
            draw_lines(
                root,
                lines,
                (x + SWATCH + 6, top + y),
                BODY_SIZE,
                LINE,
                INK,
                HPos::Left,
            )?;
        }
        Ok(())
    }
}

/// A share as a percentage: 0.1234 as "12%" on an axis.
fn percent_tick(v: &f64) -> String {
    format!("{:.0}%", 100.0 * v)
}

/// A share's axis end: the largest value rounded up to a round share, within (0, 1].
fn share_axis_end(largest: f64) -> f64 {
    let largest = if largest.is_finite() { largest } else { 1.0 };
    let step = if largest > 0.3 {
        0.1
    } else if largest > 0.1 {
        0.05
    } else {
        0.02
    };
    ((largest / step - 1e-9).ceil() * step).clamp(0.06, 1.0)
}

// ---- Curve charts: Kaplan–Meier and cumulative incidence, with the number at risk ----

/// A curve to draw: its steps and at-risk table.
struct Curve<'a> {
    name: &'a str,
    points: &'a [CurvePointJson],
    at_risk: &'a [AtRiskJson],
}

/// Height of a curve chart's plot with its axes, pixels.
const CURVE_REGION: i32 = 380;
/// Width of the y-axis' tick labels and name; height of the time axis' labels and name.
const Y_AREA: i32 = 64;
const X_AREA: i32 = 46;
/// The narrowest the plot of a curve chart gets, and the widest a group name is set before
/// it wraps.
const MIN_PLOT: i32 = 520;
const MAX_NAME: i32 = 290;

/// The time axis of a curve chart, months: its end and the step between its ticks. It ends at
/// the last time shown (a curve's last step or at-risk row, both already cut by disclosure
/// control where fewer than `min_cell` are at risk), rounded up to the next tick. The ticks
/// fall on the at-risk table's months (every 6), every month or every 3 on a short axis, and
/// further apart on a long one.
fn time_axis(curves: &[Curve]) -> (f64, f64) {
    let last = curves
        .iter()
        .flat_map(|c| {
            c.points
                .iter()
                .map(|p| p.months)
                .chain(c.at_risk.iter().map(|a| a.months))
        })
        .filter(|m| m.is_finite())
        .fold(0.0, f64::max);
    let step = [
        (1.0, 6.0),
        (3.0, 18.0),
        (6.0, 96.0),
        (12.0, 144.0),
        (24.0, 288.0),
        (60.0, 720.0),
    ]
    .into_iter()
    .find(|&(_, up_to)| last <= up_to)
    .map_or_else(|| (last / 12.0 / 120.0).ceil() * 120.0, |(step, _)| step);
    let end = ((last / step - 1e-9).ceil() * step).max(step);
    (end, step)
}

/// A curve chart laid out: what `draw_curves` draws, and its height.
struct CurveChart<'a> {
    heading: Heading,
    y_label: &'a str,
    /// 1 for survival (from 1 down), 0 for incidence (from 0 up).
    start: f64,
    curves: Vec<Curve<'a>>,
    legend: Legend,
    /// The at-risk table's row names, wrapped.
    names: Vec<Vec<String>>,
    /// The plot's left edge, pixels: right of the at-risk table's names.
    plot_left: i32,
    x_end: f64,
    step: f64,
    y_top: f64,
    /// The note under the table: the groups without a curve.
    note: Vec<String>,
}

impl<'a> CurveChart<'a> {
    /// The chart of `curves`; `hidden` names the groups that have none (too few patients or
    /// events to show), so that a reader does not look for them.
    fn new(
        title: &str,
        y_label: &'a str,
        start: f64,
        curves: Vec<Curve<'a>>,
        hidden: &[&str],
    ) -> Self {
        let names: Vec<Vec<String>> = curves
            .iter()
            .map(|c| wrap(c.name, BODY_SIZE, MAX_NAME))
            .collect();
        let name_width = names
            .iter()
            .map(|n| widest(n, BODY_SIZE))
            .chain(std::iter::once(
                text_width("Number at risk", BODY_SIZE) - SWATCH - 6,
            ))
            .max()
            .unwrap_or(0);
        // The counts under the first tick are centred on it: half a count's width of room.
        let plot_left = (MARGIN + SWATCH + 6 + name_width + 34)
            .max(MARGIN + Y_AREA + 8)
            .min(WIDTH as i32 - MARGIN - MIN_PLOT);
        let entries: Vec<(RGBColor, String)> = curves
            .iter()
            .enumerate()
            .map(|(k, c)| (PALETTE[k % PALETTE.len()], c.name.to_string()))
            .collect();
        // One curve needs no legend: the at-risk table names it.
        let entries = if entries.len() > 1 {
            entries
        } else {
            Vec::new()
        };
        let legend = Legend::new(&entries, plot_left, WIDTH as i32 - MARGIN);
        let (x_end, step) = time_axis(&curves);
        let y_top = if start == 0.0 {
            share_axis_end(
                curves
                    .iter()
                    .flat_map(|c| c.points.iter().map(|p| p.upper.unwrap_or(p.estimate)))
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max),
            )
        } else {
            1.0
        };
        let note = if hidden.is_empty() {
            Vec::new()
        } else {
            wrap(
                &format!(
                    "No curve (too few patients or events to show): {}.",
                    hidden.join(", ")
                ),
                TICK_SIZE,
                WIDTH as i32 - 2 * MARGIN,
            )
        };
        Self {
            heading: Heading::new(title, &[]),
            y_label,
            start,
            curves,
            legend,
            names,
            plot_left,
            x_end,
            step,
            y_top,
            note,
        }
    }

    /// The rows' tops of the at-risk table, relative to its first row, and its height.
    fn table_rows(&self) -> (Vec<i32>, i32) {
        let mut tops = Vec::new();
        let mut y = 0;
        for name in &self.names {
            tops.push(y);
            y += name.len() as i32 * LINE + 4;
        }
        (tops, y)
    }

    fn height(&self) -> u32 {
        let (_, table) = self.table_rows();
        let note = self.note.len() as i32 * LINE;
        (self.heading.height()
            + self.legend.height
            + CURVE_REGION
            + 8
            + LINE
            + 6
            + table
            + note
            + MARGIN) as u32
    }
}

/// Step curves with CI bands (survival from 1 down, or incidence from 0 up), the legend above
/// them and the number at risk under the time axis, each count under its tick.
fn draw_curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &CurveChart) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let mut top = c.heading.draw(root)?;
    c.legend.draw(root, top)?;
    top += c.legend.height;
    let left = c.plot_left - Y_AREA;
    let region = root.clone().shrink(
        (left, top),
        (WIDTH as i32 - MARGIN - 14 - left, CURVE_REGION),
    );
    let mut chart = ChartBuilder::on(&region)
        .margin_top(6)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(0.0..c.x_end, 0.0..c.y_top)
        .map_err(err)?;
    // Time ticks are drawn by hand at round months, so that each count sits under its tick;
    // the grid is the y axis' major lines only, light.
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(GREY)
        .x_desc("Months")
        .y_desc(c.y_label)
        .y_label_formatter(&percent_tick)
        .label_style(("sans-serif", TICK_SIZE))
        .axis_desc_style(("sans-serif", BODY_SIZE))
        .draw()
        .map_err(err)?;
    let start = c.start;
    for (k, curve) in c.curves.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        // Steps: (0, start), then horizontal then vertical at each event time.
        let mut line = vec![(0.0, start)];
        let mut previous = start;
        let (mut band_upper, mut band_lower) = (vec![(0.0, start)], vec![(0.0, start)]);
        let (mut prev_hi, mut prev_lo) = (start, start);
        for p in curve.points {
            line.push((p.months, previous));
            line.push((p.months, p.estimate));
            previous = p.estimate;
            let (hi, lo) = (p.upper.unwrap_or(p.estimate), p.lower.unwrap_or(p.estimate));
            band_upper.push((p.months, prev_hi));
            band_upper.push((p.months, hi));
            band_lower.push((p.months, prev_lo));
            band_lower.push((p.months, lo));
            (prev_hi, prev_lo) = (hi, lo);
        }
        // The curve runs on, flat, to its last at-risk row (at least `min_cell` at risk).
        let end = curve
            .at_risk
            .last()
            .map_or(0.0, |a| a.months)
            .max(curve.points.last().map_or(0.0, |p| p.months))
            .min(c.x_end);
        line.push((end, previous));
        band_upper.push((end, prev_hi));
        band_lower.push((end, prev_lo));
        band_lower.reverse();
        band_upper.extend(band_lower);
        chart
            .draw_series(std::iter::once(Polygon::new(band_upper, colour.mix(0.15))))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(2)))
            .map_err(err)?;
    }
    // Tick marks and labels, then the number-at-risk table: one row per curve, each count
    // centred under its tick (pixel positions from the chart's own mapping).
    let (_, axis_y) = chart.backend_coord(&(0.0, 0.0));
    let ticks: Vec<f64> = (0..)
        .map(|k| c.step * f64::from(k))
        .take_while(|&m| m <= c.x_end + 1e-9)
        .collect();
    for &m in &ticks {
        let (x, _) = chart.backend_coord(&(m, 0.0));
        root.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y + 5)], GREY))
            .map_err(err)?;
        root.draw(&Text::new(
            format!("{m:.0}"),
            (x, axis_y + 8),
            text_style(TICK_SIZE, INK, HPos::Center, VPos::Top),
        ))
        .map_err(err)?;
    }
    let on_tick = |m: f64| m <= c.x_end + 1e-9 && ((m / c.step).round() * c.step - m).abs() < 1e-6;
    let table_top = top + CURVE_REGION + 8;
    root.draw(&Text::new(
        "Number at risk",
        (MARGIN, table_top),
        text_style(BODY_SIZE, INK, HPos::Left, VPos::Top),
    ))
    .map_err(err)?;
    let (tops, table) = c.table_rows();
    let note_top = table_top + LINE + 6 + table;
    draw_lines(
        root,
        &c.note,
        (MARGIN, note_top),
        TICK_SIZE,
        LINE,
        GREY,
        HPos::Left,
    )?;
    for (k, curve) in c.curves.iter().enumerate() {
        let y = table_top + LINE + 6 + tops[k];
        let colour = PALETTE[k % PALETTE.len()];
        root.draw(&PathElement::new(
            vec![(MARGIN, y + TEXT_MID), (MARGIN + SWATCH, y + TEXT_MID)],
            colour.stroke_width(3),
        ))
        .map_err(err)?;
        draw_lines(
            root,
            &c.names[k],
            (MARGIN + SWATCH + 6, y),
            BODY_SIZE,
            LINE,
            INK,
            HPos::Left,
        )?;
        for a in curve.at_risk.iter().filter(|a| on_tick(a.months)) {
            let (x, _) = chart.backend_coord(&(a.months, 0.0));
            root.draw(&Text::new(
                a.n_risk.to_string(),
                (x, y),
                text_style(BODY_SIZE, INK, HPos::Center, VPos::Top),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

// ---- Forest plots ----

/// One row of a forest plot: its label, its counts (one per count column, as the report
/// prints them: "<5", "suppressed", "—" where hidden) and its ratio.
#[derive(Clone)]
struct ForestRow {
    label: String,
    counts: Vec<String>,
    ratio: Estimate,
}

/// A forest plot: a table of label, counts and "OR (95% CI)" text, with the ratios drawn on a
/// log axis between the counts and the text.
#[derive(Clone)]
struct Forest {
    /// Drawn title (short) and subtitle.
    title: String,
    subtitle: Vec<String>,
    label_header: String,
    /// Each count column's header, line by line.
    count_headers: Vec<Vec<String>>,
    /// "OR (95% CI)" or "HR (95% CI)".
    ratio_header: String,
    x_label: String,
    rows: Vec<ForestRow>,
}

/// The narrowest the plot of a forest gets, and its label column.
const FOREST_MIN_PLOT: i32 = 280;
const FOREST_MIN_LABEL: i32 = 140;
/// The widest a count column gets before its cells wrap.
const COUNT_COLUMN: i32 = 110;
/// The log axis' limits, as powers of 2: it always shows 0.25 to 4, and reaches out to
/// 0.125 and 32 when the data need; what lies beyond is marked with an arrow at the edge.
const AXIS_LOW: (i32, i32) = (-3, -2);
const AXIS_HIGH: (i32, i32) = (2, 5);

/// A ratio as printed beside a forest: two decimals, fewer for large ratios.
fn ratio_number(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v < 0.01 {
        "<0.01".into()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else if v < 1000.0 {
        format!("{v:.0}")
    } else {
        ">999".into()
    }
}

/// "1.23 (0.95–1.60)"; "not estimated" without an estimate.
fn ratio_text(e: &Estimate) -> String {
    // A limit that could not be estimated reads "NE", as in oncology tables.
    let limit = |v: Option<f64>| v.map_or("NE".to_string(), ratio_number);
    match (e.estimate.filter(|v| !v.is_nan()), e.lower, e.upper) {
        (None, _, _) => "not estimated".into(),
        (Some(v), None, None) => ratio_number(v),
        (Some(v), l, u) => format!("{} ({}–{})", ratio_number(v), limit(l), limit(u)),
    }
}

/// A forest's row laid out: the label's lines, each count's lines, the ratio's text, the
/// row's height.
type ForestLine = (Vec<String>, Vec<Vec<String>>, String, i32);

/// A forest laid out.
struct ForestLayout<'a> {
    forest: &'a Forest,
    heading: Heading,
    label_width: i32,
    count_widths: Vec<i32>,
    /// The plot's left and right edges, pixels.
    plot: (i32, i32),
    /// Headers: the label's, the counts', the ratio's (each wrapped).
    headers: Vec<Vec<String>>,
    header_height: i32,
    rows: Vec<ForestLine>,
    /// The axis' ends, powers of 2.
    axis: (i32, i32),
}

impl<'a> ForestLayout<'a> {
    fn new(forest: &'a Forest) -> Self {
        let heading = Heading::new(&forest.title, &forest.subtitle);
        let columns = forest.count_headers.len();
        // Count columns: as wide as their widest cell, up to COUNT_COLUMN (cells wrap), and
        // never narrower than their header.
        let count_widths: Vec<i32> = (0..columns)
            .map(|j| {
                let cells = forest
                    .rows
                    .iter()
                    .filter_map(|r| r.counts.get(j))
                    .map(|c| text_width(c, BODY_SIZE))
                    .max()
                    .unwrap_or(0);
                let header = widest(&forest.count_headers[j], BODY_SIZE);
                cells.min(COUNT_COLUMN).max(header).max(40)
            })
            .collect();
        let ratio_texts: Vec<String> = forest.rows.iter().map(|r| ratio_text(&r.ratio)).collect();
        let ratio_width = ratio_texts
            .iter()
            .chain(std::iter::once(&forest.ratio_header))
            .map(|t| text_width(t, BODY_SIZE))
            .max()
            .unwrap_or(0);
        let label_natural = forest
            .rows
            .iter()
            .map(|r| text_width(&r.label, BODY_SIZE))
            .chain(std::iter::once(text_width(&forest.label_header, BODY_SIZE)))
            .max()
            .unwrap_or(0);
        let room = WIDTH as i32
            - 2 * MARGIN
            - GAP * (columns as i32 + 2)
            - count_widths.iter().sum::<i32>()
            - ratio_width;
        let label_width = label_natural
            .min(room - FOREST_MIN_PLOT)
            .max(FOREST_MIN_LABEL);
        let plot_left =
            MARGIN + label_width + GAP + count_widths.iter().map(|w| w + GAP).sum::<i32>();
        let plot = (plot_left, plot_left + (room - label_width).max(120));
        let mut headers = vec![wrap(&forest.label_header, BODY_SIZE, label_width)];
        headers.extend(forest.count_headers.iter().cloned());
        headers.push(vec![forest.ratio_header.clone()]);
        let header_height = headers.iter().map(Vec::len).max().unwrap_or(1) as i32 * LINE + 8;
        let rows = forest
            .rows
            .iter()
            .zip(ratio_texts)
            .map(|(r, text)| {
                let label = wrap(&r.label, BODY_SIZE, label_width);
                let counts: Vec<Vec<String>> = (0..columns)
                    .map(|j| {
                        r.counts
                            .get(j)
                            .map_or(Vec::new(), |c| wrap(c, BODY_SIZE, count_widths[j]))
                    })
                    .collect();
                let lines = counts
                    .iter()
                    .map(Vec::len)
                    .chain([label.len(), 1])
                    .max()
                    .unwrap_or(1);
                (label, counts, text, lines as i32 * LINE + 12)
            })
            .collect();
        let values = forest
            .rows
            .iter()
            .flat_map(|r| [r.ratio.lower, r.ratio.estimate, r.ratio.upper])
            .flatten()
            .filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = values.fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let axis = (
            (lo.log2().floor() as i32).clamp(AXIS_LOW.0, AXIS_LOW.1),
            (hi.log2().ceil() as i32).clamp(AXIS_HIGH.0, AXIS_HIGH.1),
        );
        Self {
            forest,
            heading,
            label_width,
            count_widths,
            plot,
            headers,
            header_height,
            rows,
            axis,
        }
    }

    fn body_height(&self) -> i32 {
        self.rows.iter().map(|r| r.3).sum()
    }

    fn height(&self) -> u32 {
        // Header, rows, then the axis: tick marks, their labels and the axis' name.
        (self.heading.height()
            + self.header_height
            + self.body_height()
            + 6
            + 8
            + LINE
            + 4
            + LINE
            + MARGIN) as u32
    }

    /// The x pixel of a ratio, kept on the axis.
    fn x_of(&self, v: f64) -> i32 {
        let (a, b) = (f64::from(self.axis.0), f64::from(self.axis.1));
        let e = if v > 0.0 { v.log2() } else { f64::NEG_INFINITY };
        let t = ((e - a) / (b - a)).clamp(0.0, 1.0);
        self.plot.0 + (t * f64::from(self.plot.1 - self.plot.0)).round() as i32
    }
}

/// A tick of the log axis: 2 to the power `e`, as "0.125", "0.25", "0.5", "1", "2", ...
fn power_of_two(e: i32) -> String {
    let v = 2f64.powi(e);
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn draw_forest<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, l: &ForestLayout) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let top = l.heading.draw(root)?;
    let right = WIDTH as i32 - MARGIN;
    // Column lefts: label, counts (centred in their column), plot, ratio text.
    let mut count_x = Vec::new();
    let mut x = MARGIN + l.label_width + GAP;
    for w in &l.count_widths {
        count_x.push(x);
        x += w + GAP;
    }
    let ratio_x = l.plot.1 + GAP;
    // Headers, bottom-aligned above a rule.
    let header_bottom = top + l.header_height;
    let header_top = |lines: &[String]| header_bottom - 6 - lines.len() as i32 * LINE;
    draw_lines(
        root,
        &l.headers[0],
        (MARGIN, header_top(&l.headers[0])),
        BODY_SIZE,
        LINE,
        INK,
        HPos::Left,
    )?;
    for (j, &cx) in count_x.iter().enumerate() {
        let h = &l.headers[j + 1];
        let centre = cx + l.count_widths[j] / 2;
        draw_lines(
            root,
            h,
            (centre, header_top(h)),
            BODY_SIZE,
            LINE,
            INK,
            HPos::Center,
        )?;
    }
    let h = &l.headers[l.headers.len() - 1];
    draw_lines(
        root,
        h,
        (ratio_x, header_top(h)),
        BODY_SIZE,
        LINE,
        INK,
        HPos::Left,
    )?;
    root.draw(&PathElement::new(
        vec![(MARGIN, header_bottom), (right, header_bottom)],
        RULE,
    ))
    .map_err(err)?;
    // Rows: alternate ones shaded, so that a label reads across to its ratio.
    let mut y = header_bottom + 1;
    let mut centres = Vec::new();
    for (k, (_, _, _, h)) in l.rows.iter().enumerate() {
        if k % 2 == 1 {
            root.draw(&Rectangle::new(
                [(MARGIN, y), (right, y + h - 1)],
                STRIPE.filled(),
            ))
            .map_err(err)?;
        }
        centres.push(y + h / 2);
        y += h;
    }
    let axis_y = y + 6;
    // Ticks at the powers of 2 with light lines up the plot, the reference line at 1.
    for e in l.axis.0..=l.axis.1 {
        let x = l.x_of(2f64.powi(e));
        if e != 0 {
            root.draw(&PathElement::new(
                vec![(x, header_bottom + 1), (x, axis_y)],
                GRID,
            ))
            .map_err(err)?;
        }
        root.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y + 5)], GREY))
            .map_err(err)?;
        root.draw(&Text::new(
            power_of_two(e),
            (x, axis_y + 8),
            text_style(TICK_SIZE, INK, HPos::Center, VPos::Top),
        ))
        .map_err(err)?;
    }
    root.draw(&PathElement::new(
        vec![(l.plot.0, axis_y), (l.plot.1, axis_y)],
        GREY,
    ))
    .map_err(err)?;
    let one = l.x_of(1.0);
    root.draw(&PathElement::new(
        vec![(one, header_bottom + 1), (one, axis_y)],
        GREY.stroke_width(1),
    ))
    .map_err(err)?;
    root.draw(&Text::new(
        l.forest.x_label.clone(),
        ((l.plot.0 + l.plot.1) / 2, axis_y + 8 + LINE + 4),
        text_style(BODY_SIZE, INK, HPos::Center, VPos::Top),
    ))
    .map_err(err)?;
    let (low, high) = (2f64.powi(l.axis.0), 2f64.powi(l.axis.1));
    let colour = PALETTE[0];
    for ((label, counts, text, _), (row, &cy)) in
        l.rows.iter().zip(l.forest.rows.iter().zip(&centres))
    {
        draw_block(root, label, (MARGIN, cy), INK, HPos::Left)?;
        for (j, cell) in counts.iter().enumerate() {
            let centre = count_x[j] + l.count_widths[j] / 2;
            draw_block(root, cell, (centre, cy), INK, HPos::Center)?;
        }
        let valid = |v: Option<f64>| v.filter(|v| !v.is_nan());
        let text_colour = if valid(row.ratio.estimate).is_some() {
            INK
        } else {
            GREY
        };
        draw_block(
            root,
            std::slice::from_ref(text),
            (ratio_x, cy),
            text_colour,
            HPos::Left,
        )?;
        // The interval (an arrow where it runs off the axis), then the point.
        if let Some(e) = valid(row.ratio.estimate) {
            let lower = valid(row.ratio.lower).unwrap_or(e);
            let upper = valid(row.ratio.upper).unwrap_or(e);
            let (x0, x1) = (l.x_of(lower), l.x_of(upper));
            root.draw(&PathElement::new(
                vec![(x0, cy), (x1, cy)],
                colour.stroke_width(2),
            ))
            .map_err(err)?;
            if lower < low {
                root.draw(&Polygon::new(
                    vec![
                        (l.plot.0 - 2, cy),
                        (l.plot.0 + 7, cy - 5),
                        (l.plot.0 + 7, cy + 5),
                    ],
                    colour.filled(),
                ))
                .map_err(err)?;
            }
            if upper > high {
                root.draw(&Polygon::new(
                    vec![
                        (l.plot.1 + 2, cy),
                        (l.plot.1 - 7, cy - 5),
                        (l.plot.1 - 7, cy + 5),
                    ],
                    colour.filled(),
                ))
                .map_err(err)?;
            }
            if (low..=high).contains(&e) {
                let px = l.x_of(e);
                root.draw(&Rectangle::new(
                    [(px - 5, cy - 5), (px + 5, cy + 5)],
                    colour.filled(),
                ))
                .map_err(err)?;
            }
        }
    }
    Ok(())
}

// ---- Bars: shares with their 95% CIs ----

/// A share as printed beside its bar: "12.3% (10.1–14.8)".
fn share_text(e: &Estimate) -> String {
    let pct = |v: f64| format!("{:.1}", 100.0 * v);
    match (e.estimate, e.lower, e.upper) {
        (None, _, _) => "not estimated".into(),
        (Some(v), Some(l), Some(u)) => format!("{}% ({}–{})", pct(v), pct(l), pct(u)),
        (Some(v), _, _) => format!("{}%", pct(v)),
    }
}

/// Horizontal bars of shares with their 95% CIs, laid out.
struct Bars {
    heading: Heading,
    x_label: String,
    /// Per row: the label's lines, the share, its text.
    rows: Vec<(Vec<String>, Estimate, String)>,
    label_width: i32,
    text_width: i32,
    x_top: f64,
}

/// The height of a bar's row, pixels.
const BAR_ROW: i32 = 40;

impl Bars {
    fn new(title: &str, subtitle: &str, x_label: &str, rows: &[(String, Estimate)]) -> Self {
        let texts: Vec<String> = rows.iter().map(|(_, e)| share_text(e)).collect();
        let text_width_ = texts
            .iter()
            .map(|t| text_width(t, BODY_SIZE))
            .max()
            .unwrap_or(0);
        let label_width = rows
            .iter()
            .map(|(l, _)| text_width(l, BODY_SIZE))
            .max()
            .unwrap_or(0)
            .min(260);
        let rows: Vec<(Vec<String>, Estimate, String)> = rows
            .iter()
            .zip(texts)
            .map(|((label, e), text)| (wrap(label, BODY_SIZE, label_width), *e, text))
            .collect();
        let x_top = share_axis_end(rows_largest(&rows));
        Self {
            heading: Heading::new(title, &[subtitle.to_string()]),
            x_label: x_label.into(),
            rows,
            label_width,
            text_width: text_width_,
            x_top,
        }
    }

    fn region_height(&self) -> i32 {
        self.rows.len() as i32 * BAR_ROW + X_AREA + 6
    }

    fn height(&self) -> u32 {
        (self.heading.height() + self.region_height() + MARGIN) as u32
    }
}

fn rows_largest(rows: &[(Vec<String>, Estimate, String)]) -> f64 {
    rows.iter()
        .filter_map(|(_, e, _)| e.upper.or(e.estimate))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, b: &Bars) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let top = b.heading.draw(root)?;
    let left = MARGIN + b.label_width + GAP;
    let right = WIDTH as i32 - MARGIN - b.text_width - GAP;
    let region = root
        .clone()
        .shrink((left, top), (right - left, b.region_height()));
    let n = b.rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&region)
        .margin_top(6)
        .x_label_area_size(X_AREA)
        .build_cartesian_2d(0.0..b.x_top, -0.5..n - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(8)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(GREY)
        .x_desc(b.x_label.as_str())
        .x_label_formatter(&percent_tick)
        .label_style(("sans-serif", TICK_SIZE))
        .axis_desc_style(("sans-serif", BODY_SIZE))
        .draw()
        .map_err(err)?;
    for (k, (label, e, text)) in b.rows.iter().enumerate() {
        let y = n - 1.0 - k as f64;
        let colour = PALETTE[k % PALETTE.len()];
        if let Some(v) = e.estimate {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.3), (v.clamp(0.0, b.x_top), y + 0.3)],
                    colour.mix(0.8).filled(),
                )))
                .map_err(err)?;
        }
        if let (Some(l), Some(u)) = (e.lower, e.upper) {
            chart
                .draw_series(LineSeries::new(
                    vec![(l.clamp(0.0, b.x_top), y), (u.clamp(0.0, b.x_top), y)],
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?;
        }
        let (_, py) = chart.backend_coord(&(0.0, y));
        draw_block(root, label, (MARGIN, py), INK, HPos::Left)?;
        let colour = if e.estimate.is_some() { INK } else { GREY };
        draw_block(
            root,
            std::slice::from_ref(text),
            (right + GAP, py),
            colour,
            HPos::Left,
        )?;
    }
    Ok(())
}

// ---- The corrected-calcium histogram ----

/// The corrected-calcium histogram's widest axis, mmol/L.
const HISTOGRAM_AXIS: (f64, f64) = (0.0, 10.0);
/// Height of the histogram's plot with its axes.
const HISTOGRAM_REGION: i32 = 330;

/// The histogram laid out: its axis, the thresholds' legend and the note under it.
struct Histogram<'a> {
    d: &'a DistributionJson,
    heading: Heading,
    legend: Legend,
    /// Each bin's edges as drawn: every bin its fixed width, the outer two included.
    edges: Vec<(f64, f64)>,
    axis: (f64, f64),
    note: Vec<String>,
}

impl<'a> Histogram<'a> {
    fn new(d: &'a DistributionJson) -> Self {
        // The axis spans the bins but no further than 0-10 mmol/L, and everything drawn is
        // kept on it: a corrected calcium of 1e308 (the input contract bounds calcium below
        // only) had plotters look for the axis' labels without end, and a threshold of 1e15
        // (study.toml) overflowed its pixel arithmetic.
        let on_axis = |v: f64| {
            if v.is_nan() {
                HISTOGRAM_AXIS.0
            } else {
                v.clamp(HISTOGRAM_AXIS.0, HISTOGRAM_AXIS.1)
            }
        };
        // The bins have fixed edges; the outer two also hold every value beyond them, and are
        // drawn at the inner bins' width, so that no bar's area is stretched by an outlier.
        let bins = &d.bins;
        let width = bins
            .get(1)
            .filter(|_| bins.len() >= 3)
            .map(|b| b.to - b.from)
            .filter(|w| w.is_finite() && *w > 0.0);
        let mut edges: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (on_axis(b.from), on_axis(b.to)))
            .collect();
        let mut note = Vec::new();
        if let (Some(w), Some(first), Some(last)) = (width, bins.first(), bins.last()) {
            let n = edges.len();
            edges[0].0 = on_axis(first.to - w);
            edges[n - 1].1 = on_axis(last.from + w);
            note.push(format!(
                "Bins of {w:.1} mmol/L; values below {:.1} are counted in the first bin, values of {:.1} and above in the last.",
                first.to, last.from
            ));
        }
        let x_lo = edges.first().map_or(1.5, |e| e.0);
        let x_hi = edges.last().map_or(4.0, |e| e.1).max(x_lo + 0.1);
        let mut below = None;
        let mut withheld = false;
        for b in bins {
            match b.count {
                Count::Suppressed(t) => below = Some(t),
                Count::Withheld | Count::NotShown => withheld = true,
                Count::Shown(_) => {}
            }
        }
        if let Some(t) = below {
            note.push(format!("<{t}: fewer than {t} patients."));
        }
        if withheld {
            note.push("*: count not shown, so that a small count cannot be worked out.".into());
        }
        let entries: Vec<(RGBColor, String)> = d
            .thresholds
            .iter()
            .enumerate()
            .map(|(k, (label, value))| {
                let off = if (x_lo..=x_hi).contains(value) {
                    ""
                } else {
                    ", off the axis"
                };
                (
                    PALETTE[(k + 1) % PALETTE.len()],
                    format!("{label}: {value:.2}{off}"),
                )
            })
            .collect();
        let text_width_ = WIDTH as i32 - 2 * MARGIN;
        let note = note
            .iter()
            .flat_map(|n| wrap(n, TICK_SIZE, text_width_))
            .collect();
        Self {
            d,
            heading: Heading::new(
                "Highest corrected calcium per patient (baseline and labs)",
                &[],
            ),
            legend: Legend::new(&entries, MARGIN + 60, WIDTH as i32 - MARGIN),
            edges,
            axis: (x_lo, x_hi),
            note,
        }
    }

    fn height(&self) -> u32 {
        (self.heading.height()
            + self.legend.height
            + HISTOGRAM_REGION
            + 4
            + self.note.len() as i32 * LINE
            + MARGIN) as u32
    }
}

fn draw_histogram<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, h: &Histogram) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let mut top = h.heading.draw(root)?;
    h.legend.draw(root, top)?;
    top += h.legend.height;
    let d = h.d;
    let count = |c: &Count| c.shown().map_or(0.0, |n| n as f64);
    let y_max = (d.bins.iter().map(|b| count(&b.count)).fold(0.0, f64::max) * 1.1).max(5.0);
    let (x_lo, x_hi) = h.axis;
    let region = root.clone().shrink(
        (MARGIN, top),
        (WIDTH as i32 - 2 * MARGIN - 10, HISTOGRAM_REGION),
    );
    let mut chart = ChartBuilder::on(&region)
        .margin_top(6)
        .margin_right(10)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(x_lo..x_hi, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(GREY)
        .x_desc("Corrected calcium (mmol/L)")
        .y_desc("Patients")
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", TICK_SIZE))
        .axis_desc_style(("sans-serif", BODY_SIZE))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(d.bins.iter().zip(&h.edges).map(|(b, &(from, to))| {
            Rectangle::new(
                [(from, 0.0), (to, count(&b.count))],
                PALETTE[0].mix(0.7).filled(),
            )
        }))
        .map_err(err)?;
    // A hidden bin is marked where its bar would stand, not drawn as an empty one.
    for (b, &(from, to)) in d.bins.iter().zip(&h.edges) {
        let mark = match b.count {
            Count::Shown(_) => continue,
            Count::Suppressed(_) => b.count.to_string(),
            Count::Withheld | Count::NotShown => "*".into(),
        };
        let (x, y) = chart.backend_coord(&((from + to) / 2.0, 0.0));
        root.draw(&Text::new(
            mark,
            (x, y - 3),
            text_style(11.0, INK, HPos::Center, VPos::Bottom),
        ))
        .map_err(err)?;
    }
    for (k, (_, value)) in d.thresholds.iter().enumerate() {
        if !(x_lo..=x_hi).contains(value) {
            continue;
        }
        let colour = PALETTE[(k + 1) % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                vec![(*value, 0.0), (*value, y_max)],
                colour.stroke_width(2),
            ))
            .map_err(err)?;
    }
    draw_lines(
        root,
        &h.note,
        (MARGIN, top + HISTOGRAM_REGION + 4),
        TICK_SIZE,
        LINE,
        GREY,
        HPos::Left,
    )?;
    Ok(())
}

// ---- The charts of a run ----

/// The curves of the groups that have one (a suppressed group has none), as `curve` reads
/// each group.
fn shown_curves<'a, G>(groups: &'a [G], curve: impl Fn(&'a G) -> Curve<'a>) -> Vec<Curve<'a>> {
    groups
        .iter()
        .map(curve)
        .filter(|c| !c.points.is_empty())
        .collect()
}

fn survival_curves(a: &SurvivalJson) -> Vec<Curve<'_>> {
    shown_curves(&a.groups, |g| Curve {
        name: &g.group,
        points: &g.curve,
        at_risk: &g.at_risk,
    })
}

fn incidence_curves(a: &CompetingRiskJson) -> Vec<Curve<'_>> {
    shown_curves(&a.groups, |g| Curve {
        name: &g.group,
        points: &g.curve,
        at_risk: &g.at_risk,
    })
}

/// The most curves one chart draws.
const MAX_CURVES: usize = 5;

/// The text with its first letter in upper case.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// "events / n" of a group, as the report prints its counts.
fn events_of(events: Count, n: Count) -> String {
    format!("{events} / {n}")
}

/// The headers of a comparison's two count columns: the group's and the reference's.
fn count_headers(events: &str) -> Vec<Vec<String>> {
    ["Group", "Reference"]
        .iter()
        .map(|g| vec![g.to_string(), format!("{events} / n")])
        .collect()
}

/// A ratio's column header: "OR (95% CI)", "HR (95% CI)".
fn ratio_header(ratio: &str) -> String {
    match ratio {
        "odds ratio" => "OR (95% CI)".into(),
        "hazard ratio" => "HR (95% CI)".into(),
        other => format!("{} (95% CI)", capitalise(other)),
    }
}

/// Draws a curve chart (SVG and PNG).
fn render_curves(dir: &Path, name: &str, caption: &str, c: &CurveChart) -> Result<Chart> {
    let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_curves(root, c);
    let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_curves(root, c);
    render(dir, name, caption, c.height(), &draw, &draw_png)
}

/// Draws every chart of a run into `dir` (SVG and PNG), in report order.
pub fn draw_charts(s: &RunSummary, dir: &Path) -> Result<Vec<Chart>> {
    register_font();
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut charts = Vec::new();
    for a in &s.survival {
        let curves = survival_curves(a);
        if curves.is_empty() {
            continue;
        }
        let hidden: Vec<&str> = a
            .groups
            .iter()
            .filter(|g| g.curve.is_empty())
            .map(|g| g.group.as_str())
            .collect();
        // Every survival analysis is of death, but the time from a first SRE to a second.
        let (title, y_label) = if a.endpoint.starts_with("overall survival") {
            (format!("Overall survival: {}", a.population), "Survival")
        } else {
            (
                format!("Without a second SRE: {}", a.population),
                "Without a second SRE",
            )
        };
        let chart = CurveChart::new(&title, y_label, 1.0, curves, &hidden);
        charts.push(render_curves(dir, &format!("km_{}", a.id), &title, &chart)?);
    }
    for a in &s.cumulative_incidence {
        // Each SRE kind's curve without treatment is summed up by the SRE-types chart below.
        if a.analysis == "A8" && a.outcome != "first SRE" {
            continue;
        }
        let curves = incidence_curves(a);
        // More curves than the palette keeps apart are read from the table instead (A3 by
        // molecular subgroup and by risk profile).
        if curves.is_empty() || curves.len() > MAX_CURVES {
            continue;
        }
        let hidden: Vec<&str> = a
            .groups
            .iter()
            .filter(|g| g.curve.is_empty())
            .map(|g| g.group.as_str())
            .collect();
        let title = if a.by == "overall" {
            format!(
                "{}, death competing: {}",
                capitalise(&a.outcome),
                a.population
            )
        } else {
            format!("{}, death competing: by {}", capitalise(&a.outcome), a.by)
        };
        let chart = CurveChart::new(&title, "Cumulative incidence", 0.0, curves, &hidden);
        charts.push(render_curves(
            dir,
            &format!("cif_{}", a.id),
            &title,
            &chart,
        )?);
    }
    // Forest plots: crude odds ratios, one per model, hazard ratios of the survival
    // comparisons. (file name, caption in the report, the forest.)
    let mut forests: Vec<(String, String, Forest)> = vec![(
        "forest_odds_ratios".into(),
        "Odds ratios (Woolf 95% CI)".into(),
        Forest {
            title: "Odds ratios (Woolf 95% CI)".into(),
            subtitle: Vec::new(),
            label_header: "Comparison".into(),
            count_headers: count_headers("events"),
            ratio_header: ratio_header("odds ratio"),
            x_label: "Odds ratio (log scale)".into(),
            rows: s
                .associations
                .iter()
                .map(|a| ForestRow {
                    label: format!("{}: {}", a.id, a.comparison),
                    counts: vec![
                        events_of(a.exposed.events, a.exposed.n),
                        events_of(a.reference.events, a.reference.n),
                    ],
                    ratio: a.odds_ratio,
                })
                .collect(),
        },
    )];
    // One forest plot per model, named after it: the models differ in outcome, population
    // and ratio, so they are never drawn on one axis (nor under one file name). Their counts
    // are the model's, not a term's: the subtitle gives them.
    for m in &s.models {
        let intervals = m
            .intervals
            .map_or(String::new(), |i| format!(" ({i} intervals)"));
        forests.push((
            format!("forest_{}", m.id),
            format!(
                "{} — {} ({}; 95% CI: {})",
                capitalise(&m.model),
                m.adjustment,
                m.ratio,
                m.variance
            ),
            Forest {
                title: capitalise(&m.model),
                subtitle: vec![
                    format!("{}; {}", capitalise(&m.population), m.adjustment),
                    format!("n = {}{intervals}, events = {}", m.n, m.events),
                ],
                label_header: "Term".into(),
                count_headers: Vec::new(),
                ratio_header: ratio_header(&m.ratio),
                x_label: format!("{} (log scale)", capitalise(&m.ratio)),
                rows: m
                    .terms
                    .iter()
                    .map(|t| ForestRow {
                        label: t.term.clone(),
                        counts: Vec::new(),
                        ratio: t.ratio,
                    })
                    .collect(),
            },
        ));
    }
    forests.push((
        "forest_hazard_ratios".into(),
        "Hazard ratios of death (Cox, Efron ties)".into(),
        Forest {
            title: "Hazard ratios of death (Cox, Efron ties)".into(),
            subtitle: Vec::new(),
            label_header: "Comparison".into(),
            count_headers: count_headers("deaths"),
            ratio_header: ratio_header("hazard ratio"),
            x_label: "Hazard ratio (log scale)".into(),
            rows: s
                .survival
                .iter()
                .filter_map(|a| {
                    let h = a.hazard_ratio.as_ref()?;
                    // The term reads "group vs reference", in the groups' order.
                    let counts = match a.groups.as_slice() {
                        [g, r] => vec![events_of(g.events, g.n), events_of(r.events, r.n)],
                        _ => vec![String::new(), String::new()],
                    };
                    Some(ForestRow {
                        label: format!("{}: {}", a.id, h.term),
                        counts,
                        ratio: h.ratio,
                    })
                })
                .collect(),
        },
    ));
    for (name, caption, forest) in &forests {
        if forest.rows.iter().all(|r| r.ratio.estimate.is_none()) {
            continue;
        }
        let layout = ForestLayout::new(forest);
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_forest(root, &layout);
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_forest(root, &layout);
        charts.push(render(
            dir,
            name,
            caption,
            layout.height(),
            &draw,
            &draw_png,
        )?);
    }
    // Each SRE type's cumulative incidence at the SRE horizon without treatment (F9).
    let horizon = s.settings.sre_horizon_months;
    let rows: Vec<(String, Estimate)> = s
        .cumulative_incidence
        .iter()
        .filter(|a| a.id.starts_with("sre_untreated_nsclc"))
        .filter_map(|a| {
            let at = a
                .groups
                .first()?
                .at_months
                .iter()
                .find(|m| m.months == horizon)?;
            Some((a.outcome.clone(), at.survival))
        })
        .collect();
    if rows.iter().any(|(_, e)| e.estimate.is_some()) {
        let caption = format!(
            "Cumulative incidence of each SRE type at {horizon} months without treatment (NSCLC, death competing)"
        );
        let bars = Bars::new(
            &format!("Cumulative incidence of each SRE type at {horizon} months"),
            "NSCLC with bone metastases, without treatment; death competing",
            "Cumulative incidence (95% CI)",
            &rows,
        );
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_bars(root, &bars);
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_bars(root, &bars);
        charts.push(render(
            dir,
            "sre_types",
            &caption,
            bars.height(),
            &draw,
            &draw_png,
        )?);
    }
    if !s.corrected_calcium.bins.is_empty() {
        let histogram = Histogram::new(&s.corrected_calcium);
        let title = "Highest corrected calcium per patient, with the class thresholds";
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_histogram(root, &histogram);
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_histogram(root, &histogram);
        charts.push(render(
            dir,
            "corrected_calcium",
            title,
            histogram.height(),
            &draw,
            &draw_png,
        )?);
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(months: f64, estimate: f64) -> CurvePointJson {
        CurvePointJson {
            months,
            estimate,
            lower: Some(estimate * 0.8),
            upper: Some((estimate * 1.2).min(1.0)),
            n_risk: 10,
            n_events: 5,
        }
    }

    fn at_risk(months: &[f64]) -> Vec<AtRiskJson> {
        months
            .iter()
            .map(|&m| AtRiskJson {
                months: m,
                n_risk: Count::Shown(10),
            })
            .collect()
    }

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_width() {
        register_font();
        for text in [
            "F5: bone metastases at diagnosis vs no bone metastases at diagnosis",
            "os_by_bone_at_diagnosis_stratified_and_then_some_more_words_without_spaces: x",
            "",
            "short",
        ] {
            let lines = wrap(text, BODY_SIZE, 120);
            let joined: String = lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            assert_eq!(joined, original, "{text}");
            for l in &lines {
                assert!(
                    l.chars().count() <= 1 || text_width(l, BODY_SIZE) <= 120,
                    "{l} is wider than its room"
                );
            }
        }
    }

    #[test]
    fn the_time_axis_ends_at_the_last_time_shown_rounded_up_to_a_tick() {
        let (p1, r1) = (
            [point(10.0, 0.8), point(33.6, 0.5)],
            at_risk(&[0.0, 6.0, 48.0]),
        );
        let curves = [Curve {
            name: "a",
            points: &p1,
            at_risk: &r1,
        }];
        assert_eq!(time_axis(&curves), (48.0, 6.0));
        // A step after the last at-risk row (at least `min_cell` at risk just before it).
        let (p2, r2) = ([point(72.5, 0.1)], at_risk(&[0.0, 72.0]));
        let curves = [Curve {
            name: "b",
            points: &p2,
            at_risk: &r2,
        }];
        assert_eq!(time_axis(&curves), (78.0, 6.0));
        // Short curves: ticks every month, or every 3.
        let (p3, r3) = ([point(3.3, 0.44)], at_risk(&[0.0]));
        let curves = [Curve {
            name: "c",
            points: &p3,
            at_risk: &r3,
        }];
        assert_eq!(time_axis(&curves), (4.0, 1.0));
        let (p5, r5) = ([point(10.5, 0.44)], at_risk(&[0.0, 6.0]));
        let curves = [Curve {
            name: "e",
            points: &p5,
            at_risk: &r5,
        }];
        assert_eq!(time_axis(&curves), (12.0, 3.0));
        // A long one: no more than a dozen or so ticks.
        let (p4, r4) = ([point(1e6, 0.1)], at_risk(&[0.0]));
        let curves = [Curve {
            name: "d",
            points: &p4,
            at_risk: &r4,
        }];
        let (end, step) = time_axis(&curves);
        assert!(end >= 1e6 && end / step <= 13.0, "{end} {step}");
    }

    fn forest(rows: Vec<(Option<f64>, Option<f64>, Option<f64>)>) -> Forest {
        Forest {
            title: "Hazard ratios of death (Cox, Efron ties)".into(),
            subtitle: vec!["n = 151, events = 123".into()],
            label_header: "Comparison".into(),
            count_headers: count_headers("deaths"),
            ratio_header: ratio_header("hazard ratio"),
            x_label: "Hazard ratio (log scale)".into(),
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(k, (estimate, lower, upper))| ForestRow {
                    label: format!(
                        "F{k}: bone metastases at diagnosis vs no bone metastases at diagnosis"
                    ),
                    counts: vec![
                        format!("{} / {}", Count::Suppressed(5), Count::Shown(12)),
                        format!("{} / {}", Count::Withheld, Count::NotShown),
                    ],
                    ratio: Estimate {
                        estimate,
                        lower,
                        upper,
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn forest_ticks_read_powers_of_two_from_a_quarter_to_four_at_least() {
        register_font();
        let ticks: Vec<String> = (-3..=5).map(power_of_two).collect();
        assert_eq!(
            ticks,
            ["0.125", "0.25", "0.5", "1", "2", "4", "8", "16", "32"]
        );
        let narrow = forest(vec![(Some(1.1), Some(0.9), Some(1.3))]);
        assert_eq!(ForestLayout::new(&narrow).axis, (-2, 2));
        let wide = forest(vec![
            (Some(17.7), Some(2.67), Some(117.0)),
            (Some(0.15), Some(0.0), None),
        ]);
        assert_eq!(ForestLayout::new(&wide).axis, (-3, 5));
        let tiny = forest(vec![(Some(0.2), Some(0.14), Some(0.3))]);
        assert_eq!(ForestLayout::new(&tiny).axis, (-3, 2));
    }

    #[test]
    fn ratios_print_with_their_interval_or_say_they_are_not_estimated() {
        let e = |estimate, lower, upper| Estimate {
            estimate,
            lower,
            upper,
        };
        assert_eq!(
            ratio_text(&e(Some(1.126), Some(0.79), Some(1.62))),
            "1.13 (0.79–1.62)"
        );
        assert_eq!(ratio_text(&e(None, None, None)), "not estimated");
        assert_eq!(
            ratio_text(&e(Some(1.6e11), Some(0.0), None)),
            ">999 (<0.01–NE)"
        );
        assert_eq!(
            ratio_text(&e(Some(17.71), Some(2.67), Some(117.4))),
            "17.7 (2.67–117)"
        );
    }

    #[test]
    fn a_forest_with_unestimated_rows_and_hidden_counts_draws_the_same_bytes_twice() {
        register_font();
        let f = forest(vec![
            (Some(1.13), Some(0.79), Some(1.62)),
            (None, None, None),
            (Some(17.7), Some(2.67), Some(117.0)),
            (Some(0.15), Some(0.0), None),
            (Some(f64::NAN), None, None),
        ]);
        let layout = ForestLayout::new(&f);
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let charts: Vec<Chart> = dirs
            .iter()
            .map(|d| {
                let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_forest(root, &layout);
                let draw_png =
                    |root: &DrawingArea<BitMapBackend, Shift>| draw_forest(root, &layout);
                render(
                    d.path(),
                    "forest",
                    "caption",
                    layout.height(),
                    &draw,
                    &draw_png,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(charts[0].svg, charts[1].svg);
        let png = |d: &tempfile::TempDir| std::fs::read(d.path().join("forest.png")).unwrap();
        assert_eq!(png(&dirs[0]), png(&dirs[1]));
        let svg = &charts[0].svg;
        for text in [
            "not estimated",
            "&lt;5 / 12",
            "suppressed / —",
            "HR (95% CI)",
            "0.25",
            "0.5",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        // Every label is printed whole (wrapped, not cut).
        assert!(svg.contains("metastases at diagnosis"));
        assert!(!svg.contains("font-family=\"sans-serif\""));
    }
}
