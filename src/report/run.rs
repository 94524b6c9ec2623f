//! The report of `bonemet run`, rendered from the result model (`summary.json`) and nothing
//! else: one layout of sections and tables, written as Markdown or as self-contained HTML (no
//! scripts, no external resources).

use std::io::Write;

use crate::analysis::model::{Estimate, ProportionJson, RunSummary};
use crate::plot::Chart;

/// A section of the report: a title, paragraphs, tables.
struct Section {
    title: String,
    paragraphs: Vec<String>,
    tables: Vec<Table>,
}

/// A table with an optional caption.
struct Table {
    caption: String,
    headers: Vec<&'static str>,
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

fn sections(s: &RunSummary) -> Vec<Section> {
    let mut out = Vec::new();
    let c = &s.cohort;
    out.push(Section {
        title: "Cohort".into(),
        paragraphs: vec![format!(
            "{} patients accepted, {} deaths; median follow-up {} months (reverse Kaplan–Meier, 95% CI); {:.0} person-years from diagnosis.",
            c.patients,
            c.deaths,
            months(&c.follow_up_months),
            c.person_years
        )],
        tables: vec![
            Table {
                caption: "Rows per input table".into(),
                headers: vec!["table", "read", "accepted", "rejected"],
                rows: c
                    .tables
                    .iter()
                    .map(|t| {
                        vec![
                            t.table.clone(),
                            t.read.to_string(),
                            t.accepted.to_string(),
                            t.rejected.to_string(),
                        ]
                    })
                    .collect(),
            },
            Table {
                caption: "Missing values among accepted patients".into(),
                headers: vec!["column", "missing", "share"],
                rows: c
                    .missingness
                    .iter()
                    .map(|m| {
                        vec![
                            m.column.clone(),
                            m.missing.to_string(),
                            m.share.map_or("—".into(), |v| format!("{:.1}%", 100.0 * v)),
                        ]
                    })
                    .collect(),
            },
        ],
    });
    out.push(Section {
        title: "Published figures beside the cohort".into(),
        paragraphs: vec![
            "Each published figure (domain.md §4) beside the cohort's own estimate with its 95% CI. The estimates are the cohort's: nothing is adjusted toward the literature; 'in CI' says whether the published value lies in the cohort's interval.".into(),
        ],
        tables: vec![Table {
            caption: String::new(),
            headers: vec!["id", "measure", "published", "source", "cohort (95% CI)", "n", "in CI", "note"],
            rows: s
                .published
                .iter()
                .map(|f| {
                    let is_share = f.literature.is_some_and(|v| v < 1.0) && !f.measure.contains("ratio");
                    let estimate = if is_share { percent(&f.cohort) } else if f.measure.contains("months") { months(&f.cohort) } else { ratio(&f.cohort) };
                    vec![
                        f.id.clone(),
                        f.measure.clone(),
                        f.literature_text.clone(),
                        f.source.clone(),
                        estimate,
                        f.n.map_or("—".into(), |n| n.to_string()),
                        f.literature_in_ci.map_or("—".into(), |b| if b { "yes".into() } else { "no".into() }),
                        f.note.clone(),
                    ]
                })
                .collect(),
        }],
    });
    out.push(Section {
        title: "Incidence".into(),
        paragraphs: vec!["Proportions with Wilson and exact (Clopper–Pearson) 95% CIs.".into()],
        tables: s
            .incidence
            .iter()
            .map(|a| Table {
                caption: format!("{} — {}, by {}", a.outcome, a.population, a.by),
                headers: vec![
                    "group",
                    "n",
                    "events",
                    "% (Wilson 95% CI)",
                    "% (exact 95% CI)",
                ],
                rows: a.groups.iter().map(proportion_row).collect(),
            })
            .collect(),
    });
    out.push(Section {
        title: "Associations".into(),
        paragraphs: vec!["Crude odds ratios with Woolf 95% CIs, conditional MLE odds ratios with exact CIs (as fisher.test), risk ratios, Fisher's exact and Pearson chi-square p-values.".into()],
        tables: vec![Table {
            caption: String::new(),
            headers: vec!["id", "comparison", "population", "exposed", "reference", "OR (Woolf)", "OR (exact)", "RR", "Fisher p", "chi-square p"],
            rows: s
                .associations
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
        }],
    });
    out.push(Section {
        title: "Regression models".into(),
        paragraphs: s
            .models
            .iter()
            .map(|m| {
                let intervals = m
                    .intervals
                    .as_ref()
                    .map_or(String::new(), |k| format!(", intervals = {k}"));
                format!(
                    "{} among {} (n = {}{intervals}, events = {}, left out for a missing covariate = {}; variance {}){}.",
                    m.model,
                    m.population,
                    m.n,
                    m.events,
                    m.n_dropped_missing,
                    m.variance,
                    m.not_fitted
                        .as_ref()
                        .map_or(String::new(), |why| format!(": not fitted, {why}"))
                )
            })
            .collect(),
        tables: s
            .models
            .iter()
            .map(|m| Table {
                caption: m.id.clone(),
                headers: vec![
                    "term",
                    match (m.ratio.as_str(), m.variance.starts_with("robust")) {
                        ("hazard ratio", true) => "HR (robust 95% CI)",
                        ("hazard ratio", false) => "HR (Wald 95% CI)",
                        _ => "OR (Wald 95% CI)",
                    },
                    "p",
                ],
                rows: m
                    .terms
                    .iter()
                    .map(|t| vec![t.term.clone(), ratio(&t.ratio), p_value(Some(t.p))])
                    .collect(),
            })
            .collect(),
    });
    out.push(Section {
        title: "Survival".into(),
        paragraphs: vec!["Kaplan–Meier with Greenwood variance and log-log 95% CIs; NR: not reached. Events are deaths, except for the time to a second SRE (where the event is the second SRE and the table shows the share still without one). Log-rank tests between groups; with two groups, the Cox hazard ratio (Efron ties) of the first against the second.".into()],
        tables: s
            .survival
            .iter()
            .map(|a| {
                let mut caption = format!("{} — {}", a.endpoint, a.population);
                let stratified = a.stratified_by.as_ref().map_or(String::new(), |s| format!(" stratified by {s}"));
                if let Some(t) = &a.logrank {
                    caption.push_str(&format!("; log-rank{stratified} chi-square {:.2} on {} df, p {}", t.chisq, t.df, p_value(Some(t.p))));
                }
                if let Some(h) = &a.hazard_ratio {
                    caption.push_str(&format!("; HR {} {}, p {}", h.term, ratio(&h.ratio), p_value(Some(h.p))));
                }
                let at = |g: &crate::analysis::model::SurvivalGroupJson, k: usize| {
                    g.at_months.get(k).map_or("—".into(), |a| percent(&a.survival))
                };
                Table {
                    caption,
                    headers: vec!["group", "n", "events", "median months (95% CI)", "6 months", "12 months", "24 months", "RMST to 24 months (95% CI)"],
                    rows: a
                        .groups
                        .iter()
                        .map(|g| vec![g.group.clone(), g.n.to_string(), g.events.to_string(), months(&g.median_months), at(g, 0), at(g, 1), at(g, 2), months(&g.rmst_24_months)])
                        .collect(),
                }
            })
            .collect(),
    });
    out.push(Section {
        title: "Skeletal-related events: first SRE with death as a competing risk".into(),
        paragraphs: vec!["Cumulative incidence (Aalen–Johansen) of the first SRE from the bone-metastasis diagnosis, death without an SRE as the competing event, with log(−log) 95% CIs from cmprsk's variance; Gray's test between groups. An SRE dated before the bone diagnosis counts at time 0.".into()],
        tables: s
            .sre_cumulative_incidence
            .iter()
            .map(|a| {
                let mut caption = format!("by {}; revealing SREs counted at time 0: {}", a.by, a.revealing_sres);
                if let Some(t) = &a.gray_test {
                    caption.push_str(&format!("; Gray's test chi-square {:.2} on {} df, p {}", t.chisq, t.df, p_value(Some(t.p))));
                }
                let at = |g: &crate::analysis::model::CifGroupJson, k: usize| {
                    g.at_months.get(k).map_or("—".into(), |a| percent(&a.survival))
                };
                Table {
                    caption,
                    headers: vec!["group", "n", "first SREs", "deaths first", "6 months", "12 months", "24 months"],
                    rows: a
                        .groups
                        .iter()
                        .map(|g| vec![g.group.clone(), g.n.to_string(), g.events.to_string(), g.competing.to_string(), at(g, 0), at(g, 1), at(g, 2)])
                        .collect(),
                }
            })
            .collect(),
    });
    out.push(Section {
        title: "Skeletal morbidity rate".into(),
        paragraphs: vec!["SREs (after the study's merge window) per patient-year from the bone-metastasis diagnosis to death or last contact, with exact Poisson 95% CIs.".into()],
        tables: s
            .sre_rates
            .iter()
            .map(|r| Table {
                caption: format!("{} — {}, by {}", r.measure, r.population, r.by),
                headers: vec!["group", "patients", "SREs", "person-years", "SREs per patient-year (95% CI)"],
                rows: r
                    .groups
                    .iter()
                    .map(|g| vec![g.group.clone(), g.patients.to_string(), g.events.to_string(), g.person_years.map_or("—".into(), |v| format!("{v:.1}")), interval(&g.rate, |v| format!("{v:.3}"))])
                    .collect(),
            })
            .collect(),
    });
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
    });
    out.push(Section {
        title: "Disclosure control".into(),
        paragraphs: vec![if s.min_cell == 0 {
            "Disclosure control is off (--min-cell 0): every count is shown.".into()
        } else {
            format!(
                "Counts from 1 to {} are shown as <{} and every figure derived from them (a proportion, an interval, a median, a test) is not shown: {} counts were suppressed. No patient-level identifier appears in this report.",
                s.min_cell - 1,
                s.min_cell,
                s.suppressed_counts
            )
        }],
        tables: Vec::new(),
    });
    out
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
        if section.title == "Survival" {
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
        if section.title == "Survival" {
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
    use crate::analysis::model::Count;

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
