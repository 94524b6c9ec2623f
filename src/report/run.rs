//! The report of `bonemet run`, rendered from the result model (`summary.json`) and nothing
//! else: one layout of sections and tables, written as Markdown or as self-contained HTML (no
//! scripts, no external resources).

use std::io::Write;

use crate::analysis::model::{Count, Estimate, ProportionJson, RunSummary, SurvivalAtJson};
use crate::plot::Chart;

/// A section of the report: a title, paragraphs, tables.
struct Section {
    title: String,
    paragraphs: Vec<String>,
    tables: Vec<Table>,
    /// Whether the charts follow this section.
    charts_after: bool,
}

/// A table with an optional caption.
struct Table {
    caption: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn ratio(e: &Estimate) -> String {
    interval(e, |v| format!("{v:.2}"))
}

fn percent(e: &Estimate) -> String {
    interval(e, |v| format!("{:.1}%", 100.0 * v))
}

fn months(e: &Estimate) -> String {
    interval(e, |v| format!("{v:.1}"))
}

/// `est (lower–upper)`, with `NR` for a limit never reached and `—` for no estimate.
fn interval(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    match e.estimate {
        None => "—".into(),
        Some(v) => {
            let limit = |x: Option<f64>| x.map_or("NR".to_string(), &f);
            format!("{} ({}–{})", f(v), limit(e.lower), limit(e.upper))
        }
    }
}

fn p_value(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn proportion_row(g: &ProportionJson) -> Vec<String> {
    vec![
        g.group.clone(),
        g.n.to_string(),
        g.events.to_string(),
        percent(&g.wilson),
        percent(&g.exact),
    ]
}

/// The row of Table 1's or a published figure's value, by its scale.
fn by_scale(scale: &str, e: &Estimate) -> String {
    match scale {
        "proportion" | "cumulative_incidence" => percent(e),
        "median_months" => months(e),
        _ => ratio(e),
    }
}

/// The difference of a published row, by its scale (points of percentage, months, a ratio).
fn difference(scale: &str, e: &Estimate) -> String {
    match scale {
        "proportion" | "cumulative_incidence" => match e.estimate {
            None => "—".into(),
            Some(v) => {
                let limit =
                    |x: Option<f64>| x.map_or("NR".to_string(), |x| format!("{:+.1}", 100.0 * x));
                format!(
                    "{:+.1} ({} to {}) points",
                    100.0 * v,
                    limit(e.lower),
                    limit(e.upper)
                )
            }
        },
        "median_months" => interval(e, |v| format!("{v:+.1}")),
        _ => ratio(e),
    }
}

/// The tables of one analysis (A2–A12), from every result that names it.
fn analysis_tables(s: &RunSummary, id: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    for a in s.incidence.iter().filter(|a| a.analysis == id) {
        tables.push(Table {
            caption: format!(
                "{} — {}, by {} (share, Wilson and exact 95% CIs)",
                a.outcome, a.population, a.by
            ),
            headers: strings(&[
                "group",
                "n",
                "events",
                "% (Wilson 95% CI)",
                "% (exact 95% CI)",
            ]),
            rows: a.groups.iter().map(proportion_row).collect(),
        });
    }
    let associations: Vec<_> = s.associations.iter().filter(|a| a.analysis == id).collect();
    if !associations.is_empty() {
        tables.push(Table {
            caption: "Crude odds ratios (Woolf and exact 95% CIs), risk ratios, Fisher's exact and Pearson chi-square p".into(),
            headers: strings(&["id", "comparison", "population", "exposed", "reference", "OR (Woolf)", "OR (exact)", "RR", "Fisher p", "chi-square p"]),
            rows: associations
                .iter()
                .map(|a| {
                    let share = |g: &ProportionJson| format!("{}/{} {}", g.events, g.n, a_percent(g));
                    vec![
                        a.id.clone(),
                        a.comparison.clone(),
                        a.population.clone(),
                        share(&a.exposed),
                        share(&a.reference),
                        ratio(&a.odds_ratio),
                        ratio(&a.exact_odds_ratio),
                        ratio(&a.risk_ratio),
                        p_value(a.fisher_p),
                        p_value(a.chisq_p),
                    ]
                })
                .collect(),
        });
    }
    for a in s.survival.iter().filter(|a| a.analysis == id) {
        let mut caption = format!("{} — {}", a.endpoint, a.population);
        let stratified = a
            .stratified_by
            .as_ref()
            .map_or(String::new(), |s| format!(" stratified by {s}"));
        if let Some(t) = &a.logrank {
            caption.push_str(&format!(
                "; log-rank{stratified} chi-square {:.2} on {} df, p {}",
                t.chisq,
                t.df,
                p_value(Some(t.p))
            ));
        }
        if let Some(h) = &a.hazard_ratio {
            caption.push_str(&format!(
                "; HR {} {}, p {}",
                h.term,
                ratio(&h.ratio),
                p_value(Some(h.p))
            ));
        }
        if !a.not_estimated.is_empty() {
            caption.push_str(&format!("; not estimated: {}", a.not_estimated.join("; ")));
        }
        let mut headers = strings(&["group", "n", "deaths", "median months (95% CI)"]);
        let horizons: Vec<String> = s
            .settings
            .horizons_months
            .iter()
            .map(|m| format!("{m} months"))
            .collect();
        headers.extend(horizons.iter().cloned());
        headers.push("RMST to 24 months (95% CI)".into());
        tables.push(Table {
            caption,
            headers,
            rows: a
                .groups
                .iter()
                .map(|g| {
                    let mut row = vec![
                        g.group.clone(),
                        g.n.to_string(),
                        g.events.to_string(),
                        months(&g.median_months),
                    ];
                    row.extend(at_horizons(&g.at_months, horizons.len()));
                    row.push(months(&g.rmst_24_months));
                    row
                })
                .collect(),
        });
    }
    for a in s.cumulative_incidence.iter().filter(|a| a.analysis == id) {
        let mut caption = format!(
            "Cumulative incidence of {} — {}; {}",
            a.outcome, a.population, a.endpoint
        );
        if a.by != "overall" {
            caption.push_str(&format!("; by {}", a.by));
        }
        if a.events_at_origin != Count::Shown(0) {
            caption.push_str(&format!(
                "; events counted at time 0 (revealing SREs, synchronous bone disease): {}",
                a.events_at_origin
            ));
        }
        if let Some(t) = &a.gray_test {
            caption.push_str(&format!(
                "; Gray's test chi-square {:.2} on {} df, p {}",
                t.chisq,
                t.df,
                p_value(Some(t.p))
            ));
        }
        if !a.not_estimated.is_empty() {
            caption.push_str(&format!("; not estimated: {}", a.not_estimated.join("; ")));
        }
        // The horizons as the groups with estimates read them (a hidden group has none).
        let horizons: Vec<String> = a
            .groups
            .iter()
            .map(|g| &g.at_months)
            .max_by_key(|at| at.len())
            .map_or(Vec::new(), |at| {
                at.iter().map(|m| format!("{} months", m.months)).collect()
            });
        let mut headers = strings(&["group", "n", "events", "deaths first"]);
        headers.extend(horizons.iter().cloned());
        tables.push(Table {
            caption,
            headers,
            rows: a
                .groups
                .iter()
                .map(|g| {
                    let mut row = vec![
                        g.group.clone(),
                        g.n.to_string(),
                        g.events.to_string(),
                        g.competing.to_string(),
                    ];
                    row.extend(at_horizons(&g.at_months, horizons.len()));
                    row
                })
                .collect(),
        });
    }
    for r in s.rates.iter().filter(|r| r.analysis == id) {
        let mut caption = format!("{} — {}, by {}", r.measure, r.population, r.by);
        if let Some(rr) = &r.rate_ratio {
            caption.push_str(&format!(
                "; rate ratio treated vs untreated {} (exact)",
                ratio(rr)
            ));
        }
        tables.push(Table {
            caption,
            headers: strings(&[
                "person-time",
                "patients",
                "events",
                "person-years",
                "rate per patient-year (95% CI)",
            ]),
            rows: r
                .groups
                .iter()
                .map(|g| {
                    vec![
                        g.group.clone(),
                        g.patients.to_string(),
                        g.events.to_string(),
                        g.person_years.map_or("—".into(), |v| format!("{v:.1}")),
                        interval(&g.rate, |v| format!("{v:.3}")),
                    ]
                })
                .collect(),
        });
    }
    for m in s.models.iter().filter(|m| m.analysis == id) {
        let intervals = m
            .intervals
            .as_ref()
            .map_or(String::new(), |k| format!(", rows = {k}"));
        let mut caption = format!(
            "{} ({}) among {}: n = {}{intervals}, events = {}, left out of the model = {}; variance {}",
            m.model, m.adjustment, m.population, m.n, m.events, m.n_dropped_missing, m.variance
        );
        if !m.constant_terms.is_empty() {
            caption.push_str(&format!(
                "; left out as constant here: {}",
                m.constant_terms.join(", ")
            ));
        }
        if let Some(why) = &m.not_fitted {
            caption.push_str(&format!("; not estimated: {why}"));
        }
        tables.push(Table {
            caption,
            headers: strings(&[
                "term",
                match (m.ratio.as_str(), m.variance.starts_with("robust")) {
                    ("hazard ratio", true) => "HR (robust 95% CI)",
                    ("hazard ratio", false) => "HR (Wald 95% CI)",
                    _ => "OR (Wald 95% CI)",
                },
                "p",
            ]),
            rows: m
                .terms
                .iter()
                .map(|t| vec![t.term.clone(), ratio(&t.ratio), p_value(Some(t.p))])
                .collect(),
        });
    }
    tables
}

/// A curve's values at the horizons, as percentages (`—` where there is none).
fn at_horizons(at_months: &[SurvivalAtJson], horizons: usize) -> impl Iterator<Item = String> + '_ {
    (0..horizons).map(|k| {
        at_months
            .get(k)
            .map_or("—".into(), |a| percent(&a.survival))
    })
}

/// Column headings.
fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

fn sections(s: &RunSummary) -> Vec<Section> {
    let mut out = Vec::new();
    let c = &s.cohort;
    out.push(Section {
        title: "Cohort".into(),
        paragraphs: vec![format!(
            "{} patients accepted, {} deaths; median follow-up {} months (reverse Kaplan–Meier, 95% CI){}; {:.0} person-years from diagnosis.",
            c.patients,
            c.deaths,
            months(&c.follow_up_months),
            c.follow_up_not_estimated
                .as_ref()
                .map_or(String::new(), |why| format!(", not estimated: {why}")),
            c.person_years
        )],
        tables: vec![
            Table {
                caption: "Rows per input table".into(),
                headers: strings(&["table", "read", "accepted", "rejected"]),
                rows: c
                    .tables
                    .iter()
                    .map(|t| vec![t.table.clone(), t.read.to_string(), t.accepted.to_string(), t.rejected.to_string()])
                    .collect(),
            },
            Table {
                caption: "Missing values among accepted patients".into(),
                headers: strings(&["column", "missing", "share"]),
                rows: c
                    .missingness
                    .iter()
                    .map(|m| vec![m.column.clone(), m.missing.to_string(), m.share.map_or("—".into(), |v| format!("{:.1}%", 100.0 * v))])
                    .collect(),
            },
        ],
        charts_after: false,
    });
    let one = &s.table_one;
    let mut headers = strings(&["variable", "level"]);
    headers.extend(
        one.columns
            .iter()
            .zip(&one.n)
            .map(|(c, n)| format!("{c} (n = {n})")),
    );
    headers.push("SMD".into());
    out.push(Section {
        title: "Table 1 (A1)".into(),
        paragraphs: vec!["Patient characteristics at diagnosis, overall and by bone metastases at diagnosis: n (%) of the patients with a value, median (IQR), missing counts; SMD is the standardised mean difference between the two groups (Yang and Dalton for categorical variables).".into()],
        tables: vec![Table {
            caption: String::new(),
            headers,
            rows: one
                .rows
                .iter()
                .map(|r| {
                    let mut row = vec![r.variable.clone(), r.level.clone()];
                    row.extend(r.cells.iter().cloned());
                    row.push(r.smd.map_or(String::new(), |v| format!("{v:.3}")));
                    row
                })
                .collect(),
        }],
        charts_after: false,
    });
    out.push(Section {
        title: "Published figures beside the cohort".into(),
        paragraphs: vec![format!(
            "Each published figure beside the cohort's estimate in the source's population (the analysis named; docs/analysis-plan.md). Shares and cumulative incidences are percentages, medians months. The difference is cohort minus published (points of percentage, months) or cohort / published for ratios, its 95% CI widened by the published CI where there is one; p is its two-sided test and Holm's correction runs over all rows. Verdict: differs when Holm p < 0.05; consistent when not, and the cohort's 95% CI half-width is at most {:.0}% of the published value; imprecise otherwise. Nothing is adjusted toward the literature.",
            100.0 * s.settings.consistent_half_width_share
        )],
        tables: vec![Table {
            caption: String::new(),
            headers: strings(&["key", "analysis", "measure", "published", "source", "cohort (95% CI)", "n", "difference (95% CI)", "p", "Holm p", "verdict", "note"]),
            rows: s
                .published
                .iter()
                .map(|f| {
                    let estimate = Estimate { estimate: f.estimate, lower: f.lower, upper: f.upper };
                    vec![
                        f.key.clone(),
                        f.analysis.clone(),
                        f.measure.clone(),
                        f.literature_text.clone(),
                        f.source.clone(),
                        by_scale(&f.scale, &estimate),
                        f.n.map_or("—".into(), |n| n.to_string()),
                        difference(&f.scale, &f.difference),
                        p_value(f.p),
                        p_value(f.p_holm),
                        f.verdict.clone(),
                        f.note.clone(),
                    ]
                })
                .collect(),
        }],
        charts_after: false,
    });
    let last = s
        .analyses
        .iter()
        .rev()
        .find(|a| a.declared.id != "A1")
        .map(|a| a.declared.id);
    for (a, n) in s
        .analyses
        .iter()
        .map(|a| (&a.declared, a.n))
        .filter(|(a, _)| a.id != "A1")
    {
        out.push(Section {
            title: format!("{} {}", a.id, a.name.replace('_', " ")),
            paragraphs: vec![format!(
                "{}. Outcome: {}; exposure: {}. n = {n}.",
                a.population, a.outcome, a.exposure
            )],
            tables: analysis_tables(s, a.id),
            charts_after: Some(a.id) == last,
        });
    }
    let c = &s.corrected_calcium;
    out.push(Section {
        title: "Corrected calcium".into(),
        paragraphs: vec![format!(
            "{} among {} (n = {}): quartiles {}. Thresholds: {}.",
            c.variable,
            c.population,
            c.n,
            c.quartiles.map_or("—".into(), |q| format!(
                "{:.2}, {:.2}, {:.2}",
                q[0], q[1], q[2]
            )),
            c.thresholds
                .iter()
                .map(|(l, v)| format!("{l} {v:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        )],
        tables: Vec::new(),
        charts_after: false,
    });
    let st = &s.settings;
    out.push(Section {
        title: "Methods".into(),
        paragraphs: vec![
            format!(
                "Every analysis follows the plan of docs/analysis-plan.md: no group is defined by what happens after its time origin (the bone-targeted agent is a time-varying exposure or a landmark group; NTX groups count time from the sample when it is later than the bone diagnosis), with one exception the clinical definition imposes: bone metastases at diagnosis are known by the end of the synchronous window, so A4 and A5 compare groups known up to that many days after diagnosis, and A5 repeats its comparison from the end of the window (a landmark) to show what it weighs. Risks over follow-up are Aalen–Johansen cumulative incidences with death competing, compared groups follow one rule, and each published figure is compared in its source's population. Settings: horizons {} months; SRE horizon {} months; landmark {} months after the bone-metastasis diagnosis; synchronous window {} days; SRE merge window {} days; hypercalcaemia {} an SRE; corrected calcium by the {} formula, crisis above {} mmol/L; NTX at bone diagnosis within ±{} days.",
                st.horizons_months.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", "),
                st.sre_horizon_months,
                st.landmark_months,
                st.synchronous_window_days,
                st.sre_merge_window_days,
                if st.hypercalcaemia_is_sre { "counts as" } else { "does not count as" },
                st.corrected_calcium_formula,
                st.crisis_threshold_mmol_l,
                st.ntx_window_days,
            ),
            "Time: Kaplan–Meier and cumulative incidences use months (days / 30.4375) from the origin, an event dated before it at 0 (revealing SREs, synchronous bone disease dated before the diagnosis). Cox models and person-time count whole days, day k being (k, k + 1]: an SRE on the day a bone agent starts happened untreated; an event on the day of a censoring counts; an SRE and death on one day count as the SRE.".into(),
        ],
        tables: vec![Table {
            caption: "The analysis plan as run".into(),
            headers: strings(&["id", "population", "exposure (when known)", "outcome", "origin", "censoring", "competing event", "estimator", "n", "excluded"]),
            rows: s
                .analyses
                .iter()
                .map(|run| {
                    let a = &run.declared;
                    vec![
                        format!("{} {}", a.id, a.name),
                        a.population.into(),
                        a.exposure.into(),
                        a.outcome.into(),
                        a.origin.into(),
                        a.censoring.into(),
                        a.competing.into(),
                        a.estimator.into(),
                        run.n.to_string(),
                        run.excluded.iter().map(|e| format!("{}: {}", e.reason, e.n)).collect::<Vec<_>>().join("; "),
                    ]
                })
                .collect(),
        }],
        charts_after: false,
    });
    out.push(disclosure_section(s));
    out
}

/// What disclosure control hid, rule by rule, and why.
fn disclosure_section(s: &RunSummary) -> Section {
    let d = &s.disclosure;
    if d.min_cell <= 1 {
        return Section {
            title: "Disclosure control".into(),
            paragraphs: vec![format!(
                "Disclosure control is off (--min-cell {}): every count and every curve is shown in full.",
                d.min_cell
            )],
            tables: Vec::new(),
            charts_after: false,
        };
    }
    let m = d.min_cell;
    let rows = [
        (
            format!("counts from 1 to {} shown as <{m}", m - 1),
            "a small count could identify patients".to_string(),
            d.below_threshold,
        ),
        (
            "counts shown as suppressed".into(),
            "complementary suppression: with the total shown, or patients without the event \
             implied by n and the events, the count would give a hidden one away by subtraction"
                .into(),
            d.complementary,
        ),
        (
            "counts of groups of fewer than the threshold shown as suppressed".into(),
            format!("fewer than {m} patients: even <{m} or 0 would tell how they split"),
            d.few_patients,
        ),
        (
            "counts not shown at all (—)".into(),
            "hiding counts one by one could not keep a small count from being worked out".into(),
            d.not_shown,
        ),
        (
            "estimates not shown (proportions, curves, medians, tests, models, rates)".into(),
            "made from a hidden count".into(),
            d.estimates_hidden,
        ),
        (
            "curve steps merged into the next".into(),
            format!("fewer than {m} events at that step"),
            d.curve_steps_merged,
        ),
        (
            "curve steps not drawn".into(),
            format!("fewer than {m} at risk, or fewer than {m} events left at the end"),
            d.curve_steps_cut,
        ),
        (
            "at-risk table rows not shown".into(),
            format!("fewer than {m} at risk"),
            d.at_risk_rows_cut,
        ),
        (
            "histogram bins shown as <N or suppressed".into(),
            format!("fewer than {m} patients in the bin (edges fixed in advance)"),
            d.bins_hidden,
        ),
    ];
    Section {
        title: "Disclosure control".into(),
        paragraphs: vec![format!(
            "Every figure of this report, of summary.json and of the tables went through one disclosure \
             pass (threshold --min-cell {m}). A count from 1 to {} reads <{m}; a count that, with the \
             totals shown elsewhere, would let a reader work a hidden count out by subtraction reads \
             suppressed; every figure made from a hidden count is left out. Curves and at-risk tables \
             stop where fewer than {m} patients remain at risk. No patient identifier, date of birth \
             or event date appears in any aggregate output.",
            m - 1
        )],
        tables: vec![Table {
            caption: "What disclosure control hid, and why".into(),
            headers: strings(&["what was hidden", "why", "how many"]),
            rows: rows
                .into_iter()
                .map(|(what, why, n)| vec![what, why, n.to_string()])
                .collect(),
        }],
        charts_after: false,
    }
}

fn a_percent(g: &ProportionJson) -> String {
    g.wilson
        .estimate
        .map_or(String::new(), |v| format!("({:.1}%)", 100.0 * v))
}

fn cell_md(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Writes the report as Markdown (charts linked as charts/NAME.png). `run_timestamp` is the
/// only run-time value in it.
pub fn write_markdown(
    s: &RunSummary,
    run_timestamp: &str,
    charts: &[Chart],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "# bonemet report: bone metastases in lung cancer\n")?;
    writeln!(
        out,
        "Run {run_timestamp} with bonemet {}.\n",
        s.bonemet_version
    )?;
    for section in sections(s) {
        writeln!(out, "## {}\n", section.title)?;
        for p in &section.paragraphs {
            writeln!(out, "{p}\n")?;
        }
        for t in &section.tables {
            if !t.caption.is_empty() {
                writeln!(out, "**{}**\n", cell_md(&t.caption))?;
            }
            writeln!(out, "| {} |", t.headers.join(" | "))?;
            writeln!(out, "|{}|", vec!["---"; t.headers.len()].join("|"))?;
            for r in &t.rows {
                let cells: Vec<String> = r.iter().map(|c| cell_md(c)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
            writeln!(out)?;
        }
        if section.charts_after {
            writeln!(out, "## Charts\n")?;
            for c in charts {
                writeln!(out, "![{}](charts/{}.png)\n", cell_md(&c.title), c.name)?;
            }
        }
    }
    Ok(())
}

/// An SVG document as an element to inline in HTML: no XML declaration, no namespace URL
/// (HTML parsers know the SVG namespace), the chart's title as its accessible name.
fn inline_svg(chart: &Chart) -> String {
    let svg = chart.svg.trim();
    let svg = svg
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(svg);
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(&chart.title)),
            1,
        )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes the report as one self-contained HTML page (inline style and SVG charts, no script,
/// no link).
pub fn write_html(
    s: &RunSummary,
    run_timestamp: &str,
    charts: &[Chart],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(out, "<title>bonemet report</title>")?;
    writeln!(
        out,
        "<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:0.5em 0 1.5em}}th,td{{border:1px solid #bbb;padding:0.25em 0.5em;text-align:left;vertical-align:top}}th{{background:#eee}}caption{{text-align:left;font-weight:bold;padding:0.25em 0}}</style>"
    )?;
    writeln!(out, "</head>\n<body>")?;
    writeln!(
        out,
        "<h1>bonemet report: bone metastases in lung cancer</h1>"
    )?;
    writeln!(
        out,
        "<p>Run {} with bonemet {}.</p>",
        escape(run_timestamp),
        escape(s.bonemet_version)
    )?;
    for section in sections(s) {
        writeln!(out, "<h2>{}</h2>", escape(&section.title))?;
        for p in &section.paragraphs {
            writeln!(out, "<p>{}</p>", escape(p))?;
        }
        for t in &section.tables {
            writeln!(out, "<table>")?;
            if !t.caption.is_empty() {
                writeln!(out, "<caption>{}</caption>", escape(&t.caption))?;
            }
            let head: String = t
                .headers
                .iter()
                .map(|h| format!("<th>{}</th>", escape(h)))
                .collect();
            writeln!(out, "<tr>{head}</tr>")?;
            for r in &t.rows {
                let cells: String = r
                    .iter()
                    .map(|c| format!("<td>{}</td>", escape(c)))
                    .collect();
                writeln!(out, "<tr>{cells}</tr>")?;
            }
            writeln!(out, "</table>")?;
        }
        if section.charts_after {
            writeln!(out, "<h2>Charts</h2>")?;
            for c in charts {
                writeln!(
                    out,
                    "<figure>{}<figcaption>{}</figcaption></figure>",
                    inline_svg(c),
                    escape(&c.title)
                )?;
            }
        }
    }
    writeln!(out, "</body>\n</html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_print_limits_never_reached_as_nr() {
        let e = Estimate {
            estimate: Some(12.34),
            lower: Some(10.0),
            upper: None,
        };
        assert_eq!(months(&e), "12.3 (10.0–NR)");
        assert_eq!(months(&Estimate::NONE), "—");
        assert_eq!(p_value(Some(0.0004)), "<0.001");
        assert_eq!(Count::Suppressed(5).to_string(), "<5");
    }
}
