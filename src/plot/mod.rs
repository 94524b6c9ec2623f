//! Charts of the run report, drawn from the result model with plotters, each as SVG (inlined
//! in report.html) and PNG (linked from report.md): Kaplan–Meier curves with CI bands and a
//! number-at-risk table aligned under the time axis, cumulative incidence curves with theirs,
//! forest plots of odds and hazard ratios, SRE-type bars and the corrected-calcium histogram
//! with the class thresholds.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (assets/fonts, its licence beside
//! it), so charts render identically on a machine with no fonts. Colours are the Okabe–Ito
//! palette, distinguishable with the common colour-vision deficiencies.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis::model::{
    AtRiskJson, CompetingRiskJson, CurvePointJson, DistributionJson, Estimate, RunSummary,
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

/// Width of the y-axis label area of curve charts: room for the at-risk table's row names.
const LABEL_WIDTH: u32 = 150;

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

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A curve to draw: its steps and at-risk table.
struct Curve<'a> {
    name: &'a str,
    points: &'a [CurvePointJson],
    at_risk: &'a [AtRiskJson],
}

/// Step curves with CI bands (survival from 1 down, or incidence from 0 up) and the number at
/// risk under the axis.
fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    start: f64,
    curves: &[Curve],
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let rows = curves.len() as u32;
    let table_height = 30 + 18 * rows;
    let (_, height) = root.dim_in_pixel();
    let (upper, lower) = root.split_vertically(height - table_height);
    let x_max = curves
        .iter()
        .flat_map(|c| c.at_risk.iter().map(|a| a.months))
        .fold(6.0, f64::max);
    let y_max = if start == 0.0 {
        curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.upper.unwrap_or(p.estimate)))
            .fold(0.1f64, f64::max)
            .min(1.0)
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(LABEL_WIDTH)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    // Time ticks are drawn by hand at the months of the at-risk table, so that each count
    // sits under its tick.
    chart
        .configure_mesh()
        .x_desc("Months")
        .y_desc(y_label)
        .x_labels(0)
        .y_label_formatter(&|v| format!("{:.0}%", 100.0 * v))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    for (k, curve) in curves.iter().enumerate() {
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
        let end = curve
            .at_risk
            .last()
            .map_or(x_max, |a| a.months)
            .max(curve.points.last().map_or(0.0, |p| p.months));
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
            .map_err(err)?
            .label(curve.name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(if start == 0.0 {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    // Tick labels at the at-risk months, then the number-at-risk table: one row per curve,
    // each count centred under its tick (pixel positions from the chart's own mapping).
    let style = ("sans-serif", 12).into_font();
    let centred = |text: &str, x: i32, y: i32, colour: &RGBColor| {
        let shift = 3 * text.chars().count() as i32;
        Text::new(
            text.to_string(),
            (x - shift, y),
            style.clone().color(colour),
        )
    };
    let ticks: Vec<f64> = curves
        .iter()
        .max_by_key(|c| c.at_risk.len())
        .map_or(Vec::new(), |c| c.at_risk.iter().map(|a| a.months).collect());
    for &m in &ticks {
        let (x, y) = chart.backend_coord(&(m, 0.0));
        root.draw(&centred(&format!("{m:.0}"), x, y + 6, &BLACK))
            .map_err(err)?;
    }
    let (_, top) = lower.get_base_pixel();
    root.draw(&Text::new("Number at risk", (10, top + 4), style.clone()))
        .map_err(err)?;
    for (k, curve) in curves.iter().enumerate() {
        let y = top + 22 + 18 * k as i32;
        let colour = PALETTE[k % PALETTE.len()];
        let short: String = curve.name.chars().take(22).collect();
        root.draw(&Text::new(short, (4, y), style.clone().color(&colour)))
            .map_err(err)?;
        for a in curve.at_risk {
            let (x, _) = chart.backend_coord(&(a.months, 0.0));
            root.draw(&centred(&a.n_risk.to_string(), x, y, &BLACK))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// One row of a forest plot.
#[derive(Clone)]
struct ForestRow {
    label: String,
    ratio: Estimate,
}

fn draw_forest<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    rows: &[ForestRow],
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let shown: Vec<&ForestRow> = rows.iter().filter(|r| r.ratio.estimate.is_some()).collect();
    let lo = shown
        .iter()
        .filter_map(|r| r.ratio.lower.or(r.ratio.estimate))
        .fold(0.5f64, f64::min)
        .max(1e-3);
    let hi = shown
        .iter()
        .filter_map(|r| r.ratio.upper.or(r.ratio.estimate))
        .fold(2.0f64, f64::max)
        .min(1e3);
    let n = shown.len().max(1) as f64;
    let (left, right) = root.split_horizontally(330);
    let mut chart = ChartBuilder::on(&right)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .build_cartesian_2d((lo / 1.1..hi * 1.1).log_scale(), -0.5..n - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc(x_label)
        .x_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            vec![(1.0, -0.5), (1.0, n - 0.5)],
            BLACK.mix(0.6),
        ))
        .map_err(err)?;
    let style = ("sans-serif", 12).into_font();
    for (k, r) in shown.iter().enumerate() {
        let y = n - 1.0 - k as f64;
        let colour = PALETTE[0];
        if let (Some(l), Some(u)) = (r.ratio.lower, r.ratio.upper) {
            chart
                .draw_series(LineSeries::new(
                    vec![(l, y), (u, y)],
                    colour.stroke_width(2),
                ))
                .map_err(err)?;
        }
        if let Some(e) = r.ratio.estimate {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(e / 1.03, y - 0.15), (e * 1.03, y + 0.15)],
                    colour.filled(),
                )))
                .map_err(err)?;
        }
        let (_, py) = chart.backend_coord(&(1.0, y));
        let label: String = r.label.chars().take(48).collect();
        left.draw(&Text::new(label, (8, py - 6), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// Shares with their 95% CIs as horizontal bars.
fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[(String, Estimate)],
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let n = rows.len().max(1) as f64;
    let x_max = rows
        .iter()
        .filter_map(|r| r.1.upper.or(r.1.estimate))
        .fold(0.1f64, f64::max)
        .min(1.0);
    let (left, right) = root.split_horizontally(220);
    let mut chart = ChartBuilder::on(&right)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .build_cartesian_2d(0.0..x_max * 1.05, -0.5..n - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("Share of patients (95% CI)")
        .x_label_formatter(&|v| format!("{:.0}%", 100.0 * v))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    let style = ("sans-serif", 12).into_font();
    for (k, (label, e)) in rows.iter().enumerate() {
        let y = n - 1.0 - k as f64;
        let colour = PALETTE[k % PALETTE.len()];
        if let Some(v) = e.estimate {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.3), (v, y + 0.3)],
                    colour.mix(0.8).filled(),
                )))
                .map_err(err)?;
        }
        if let (Some(l), Some(u)) = (e.lower, e.upper) {
            chart
                .draw_series(LineSeries::new(vec![(l, y), (u, y)], BLACK.stroke_width(2)))
                .map_err(err)?;
        }
        let (_, py) = chart.backend_coord(&(0.0, y));
        left.draw(&Text::new(label.clone(), (8, py - 6), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// The corrected-calcium histogram's widest axis, mmol/L.
const HISTOGRAM_AXIS: (f64, f64) = (0.0, 10.0);

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &DistributionJson,
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let count = |c: &crate::analysis::model::Count| match c {
        crate::analysis::model::Count::Shown(n) => *n as f64,
        _ => 0.0,
    };
    let y_max = d.bins.iter().map(|b| count(&b.count)).fold(1.0, f64::max) * 1.1;
    // The axis spans the bins, whose outer two reach the lowest and highest values, but no
    // further than 0-10 mmol/L, and everything drawn is kept on it: a corrected calcium of
    // 1e308 (the input contract bounds calcium below only) had plotters look for the axis'
    // labels without end, and a threshold of 1e15 (study.toml) overflowed its pixel
    // arithmetic. A threshold off the axis is not drawn.
    let on_axis = |v: f64| {
        if v.is_nan() {
            HISTOGRAM_AXIS.0
        } else {
            v.clamp(HISTOGRAM_AXIS.0, HISTOGRAM_AXIS.1)
        }
    };
    let x_lo = on_axis(d.bins.first().map_or(1.5, |b| b.from));
    let x_hi = on_axis(d.bins.last().map_or(4.0, |b| b.to)).max(x_lo + 0.1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Highest corrected calcium per patient (baseline and labs)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_lo..x_hi, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("Corrected calcium (mmol/L)")
        .y_desc("Patients")
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(d.bins.iter().map(|b| {
            Rectangle::new(
                [(on_axis(b.from), 0.0), (on_axis(b.to), count(&b.count))],
                PALETTE[0].mix(0.7).filled(),
            )
        }))
        .map_err(err)?;
    for (k, (label, value)) in d.thresholds.iter().enumerate() {
        if !(x_lo..=x_hi).contains(value) {
            continue;
        }
        let colour = PALETTE[(k + 1) % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                vec![(*value, 0.0), (*value, y_max)],
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{label} ({value:.2})"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

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
        // Every survival analysis is of death, but the time from a first SRE to a second.
        let (title, y_label) = if a.endpoint.starts_with("overall survival") {
            (format!("Overall survival: {}", a.population), "Survival")
        } else {
            (
                format!("Without a second SRE: {}", a.population),
                "Without a second SRE",
            )
        };
        let height = 480 + 18 * curves.len() as u32;
        let draw = |root: &DrawingArea<SVGBackend, Shift>| {
            draw_curves(root, &title, y_label, 1.0, &curves)
        };
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| {
            draw_curves(root, &title, y_label, 1.0, &curves)
        };
        charts.push(render(
            dir,
            &format!("km_{}", a.id),
            &title,
            height,
            &draw,
            &draw_png,
        )?);
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
        let title = if a.by == "overall" {
            format!(
                "{}, death competing: {}",
                capitalise(&a.outcome),
                a.population
            )
        } else {
            format!("{}, death competing: by {}", capitalise(&a.outcome), a.by)
        };
        let height = 480 + 18 * curves.len() as u32;
        let draw = |root: &DrawingArea<SVGBackend, Shift>| {
            draw_curves(root, &title, "Cumulative incidence", 0.0, &curves)
        };
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| {
            draw_curves(root, &title, "Cumulative incidence", 0.0, &curves)
        };
        charts.push(render(
            dir,
            &format!("cif_{}", a.id),
            &title,
            height,
            &draw,
            &draw_png,
        )?);
    }
    // Forest plots: crude odds ratios, adjusted odds ratios, hazard ratios.
    // (file name, caption in the report, title drawn on the chart, x axis, rows).
    let mut forests: Vec<(&str, &str, &str, &str, Vec<ForestRow>)> = vec![(
        "forest_odds_ratios",
        "Odds ratios (Woolf 95% CI)",
        "Odds ratios (Woolf 95% CI)",
        "Odds ratio (log scale)",
        s.associations
            .iter()
            .map(|a| ForestRow {
                label: format!("{}: {}", a.id, a.comparison),
                ratio: a.odds_ratio,
            })
            .collect(),
    )];
    // One forest plot per model, named after it: the models differ in outcome, population
    // and ratio, so they are never drawn on one axis (nor under one file name).
    let model_charts: Vec<(String, String, String, String, Vec<ForestRow>)> = s
        .models
        .iter()
        .map(|m| {
            (
                format!("forest_{}", m.id),
                format!(
                    "{} — {} ({}; 95% CI: {})",
                    capitalise(&m.model),
                    m.adjustment,
                    m.ratio,
                    m.variance
                ),
                // The chart's own title is short (the caption says the rest).
                format!("{}s: {}", capitalise(&m.ratio), m.id),
                format!("{} (log scale)", capitalise(&m.ratio)),
                m.terms
                    .iter()
                    .map(|t| ForestRow {
                        label: t.term.clone(),
                        ratio: t.ratio,
                    })
                    .collect(),
            )
        })
        .collect();
    for (name, caption, title, x_label, rows) in &model_charts {
        forests.push((name, caption, title, x_label, rows.clone()));
    }
    forests.push((
        "forest_hazard_ratios",
        "Hazard ratios of death (Cox, Efron ties)",
        "Hazard ratios of death (Cox, Efron ties)",
        "Hazard ratio (log scale)",
        s.survival
            .iter()
            .filter_map(|a| {
                a.hazard_ratio.as_ref().map(|h| ForestRow {
                    label: format!("{}: {}", a.id, h.term),
                    ratio: h.ratio,
                })
            })
            .collect(),
    ));
    for (name, caption, title, x_label, rows) in &forests {
        if rows.iter().all(|r| r.ratio.estimate.is_none()) {
            continue;
        }
        let height = 120 + 34 * rows.len() as u32;
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_forest(root, title, x_label, rows);
        let draw_png =
            |root: &DrawingArea<BitMapBackend, Shift>| draw_forest(root, title, x_label, rows);
        charts.push(render(dir, name, caption, height, &draw, &draw_png)?);
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
        let title = format!(
            "Cumulative incidence of each SRE type at {horizon} months without treatment (NSCLC, death competing)"
        );
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_bars(root, &title, &rows);
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_bars(root, &title, &rows);
        charts.push(render(dir, "sre_types", &title, 360, &draw, &draw_png)?);
    }
    if !s.corrected_calcium.bins.is_empty() {
        let d = &s.corrected_calcium;
        let title = "Highest corrected calcium per patient, with the class thresholds";
        let draw = |root: &DrawingArea<SVGBackend, Shift>| draw_histogram(root, d);
        let draw_png = |root: &DrawingArea<BitMapBackend, Shift>| draw_histogram(root, d);
        charts.push(render(
            dir,
            "corrected_calcium",
            title,
            420,
            &draw,
            &draw_png,
        )?);
    }
    Ok(charts)
}
