//! The report of `bonemet run`, rendered from the result model (`summary.json`) and nothing
//! else: one layout of sections and tables, written as Markdown or as self-contained HTML (no
//! scripts, no external resources).

use std::io::Write;

use crate::analysis::model::{Count, Estimate, ProportionJson, RunSummary, SurvivalAtJson};
use crate::plot::Chart;
use crate::report::flow;

/// A section of the report: a title (its anchor is made from it), paragraphs, then tables and
/// charts in reading order.
struct Section {
    title: String,
    paragraphs: Vec<String>,
    blocks: Vec<Block>,
}

/// What a section shows after its paragraphs.
enum Block {
    /// A table.
    Table(Table),
    /// The chart of that name (under charts/), when one was drawn.
    Chart(String),
    /// The patient flow diagram.
    Flow,
}

/// A table with an optional caption.
struct Table {
    caption: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Tables longer than this collapse in the HTML report (`<details>`), open by default for the
/// ones a reader comes for (Table 1, the published figures).
const LONG_TABLE: usize = 15;

/// Who ran what, for the report's header and footer: what run.json records of the run.
#[derive(Debug, Clone, Default)]
pub struct RunIdentity {
    /// The run's timestamp (UTC).
    pub timestamp: String,
    /// The cohort as given on the command line.
    pub cohort: String,
    /// Each input file: table, path, SHA-256.
    pub inputs: Vec<(String, String, String)>,
    /// The study and mapping files, when given: (what, path, SHA-256).
    pub settings_files: Vec<(String, String, String)>,
    /// Rows rejected per table and reason: (table, reason, rows).
    pub rejections: Vec<(String, String, u64)>,
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

/// The tables of one analysis (A2–A12), from every result that names it, each followed by
/// its chart.
fn analysis_blocks(s: &RunSummary, id: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for a in s.incidence.iter().filter(|a| a.analysis == id) {
        blocks.push(Block::Table(Table {
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
        }));
    }
    let associations: Vec<_> = s.associations.iter().filter(|a| a.analysis == id).collect();
    if !associations.is_empty() {
        blocks.push(Block::Table(Table {
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
        }));
        blocks.push(Block::Chart("forest_odds_ratios".into()));
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
        blocks.push(Block::Table(Table {
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
        }));
        blocks.push(Block::Chart(format!("km_{}", a.id)));
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
        blocks.push(Block::Table(Table {
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
        }));
        blocks.push(Block::Chart(format!("cif_{}", a.id)));
    }
    for r in s.rates.iter().filter(|r| r.analysis == id) {
        let mut caption = format!("{} — {}, by {}", r.measure, r.population, r.by);
        if let Some(rr) = &r.rate_ratio {
            caption.push_str(&format!(
                "; rate ratio treated vs untreated {} (exact)",
                ratio(rr)
            ));
        }
        blocks.push(Block::Table(Table {
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
        }));
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
        blocks.push(Block::Table(Table {
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
        }));
        blocks.push(Block::Chart(format!("forest_{}", m.id)));
    }
    blocks
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

/// The anchor of a section: its title in lower case, letters and digits kept, the rest made
/// single hyphens (as Markdown renderers make heading anchors).
fn anchor(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == ' ' || c == '-' {
            out.push('-');
        }
    }
    out
}

/// The title of an analysis's section.
fn analysis_title(id: &str, title: &str) -> String {
    format!("{id}. {title}")
}

/// The section title of analysis `id` (A1–A12), for links.
fn analysis_anchor(s: &RunSummary, id: &str) -> String {
    if id == "A1" {
        return anchor(TABLE_ONE);
    }
    s.analyses
        .iter()
        .find(|a| a.declared.id == id)
        .map_or(String::new(), |a| {
            anchor(&analysis_title(a.declared.id, a.declared.title))
        })
}

const KEY_FINDINGS: &str = "Key findings";
const FLOW: &str = "Patient flow";
const TABLE_ONE: &str = "Table 1 (A1)";
const PUBLISHED: &str = "Published figures beside the cohort";
const METHODS: &str = "Methods";
const DISCLOSURE: &str = "Disclosure control";
const MORE_CHARTS: &str = "Charts across analyses";

/// A share as `19.0% (17.9–20.1)` (two decimals below 1%, where one would read 0.0%).
fn share_text(e: &Estimate) -> Option<String> {
    let v = e.estimate?;
    let places = if v < 0.01 { 2 } else { 1 };
    let limit =
        |x: Option<f64>| x.map_or("NR".to_string(), |x| format!("{:.*}", places, 100.0 * x));
    Some(format!(
        "{:.*}% ({}–{})",
        places,
        100.0 * v,
        limit(e.lower),
        limit(e.upper)
    ))
}

/// The key findings: one sentence per headline figure of the run, each with the anchor of the
/// section that holds it. A figure not shown (not estimable, or hidden by disclosure control)
/// is left out rather than stated as a number.
fn key_findings(s: &RunSummary) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let c = &s.cohort;
    let patient_rows = c.tables.iter().find(|t| t.table == "patients");
    out.push((
        format!(
            "{} patients accepted{}; {} died; median follow-up {} months.",
            flow::count(&c.patients),
            patient_rows.map_or(String::new(), |t| format!(
                " of {} patient rows read ({} rejected)",
                flow::thousands(t.read),
                flow::thousands(t.rejected)
            )),
            flow::count(&c.deaths),
            months(&c.follow_up_months)
        ),
        anchor(FLOW),
    ));
    let incidence_all = |id: &str| {
        s.incidence
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.groups.iter().find(|g| g.group == "all"))
    };
    if let Some(g) = incidence_all("bone_at_diagnosis_overall") {
        if let Some(text) = share_text(&g.wilson) {
            out.push((
                format!(
                    "Bone metastases at diagnosis: {text} of {} patients.",
                    flow::count(&g.n)
                ),
                analysis_anchor(s, "A2"),
            ));
        }
    }
    let cumulative_at = |id: &str, horizon: Option<f64>| {
        let a = s.cumulative_incidence.iter().find(|a| a.id == id)?;
        let g = a.groups.iter().find(|g| g.group == "all")?;
        let at = match horizon {
            Some(h) => g.at_months.iter().find(|m| m.months == h)?,
            None => g
                .at_months
                .iter()
                .rev()
                .find(|m| m.survival.estimate.is_some())?,
        };
        Some((share_text(&at.survival)?, at.months, a.analysis))
    };
    if let Some((text, h, analysis)) = cumulative_at("bone_metachronous_advanced", None) {
        out.push((
            format!(
                "Bone metastases after diagnosis in stage III–IV disease free of them at diagnosis: {text} by {h} months (cumulative incidence, death competing)."
            ),
            analysis_anchor(s, analysis),
        ));
    }
    if let Some(a) = s
        .survival
        .iter()
        .find(|a| a.id == "os_by_bone_at_diagnosis_stratified")
    {
        let medians: Vec<String> = a
            .groups
            .iter()
            .filter(|g| g.median_months.estimate.is_some())
            .map(|g| format!("{}, {} months", g.group, months(&g.median_months)))
            .collect();
        if medians.len() == a.groups.len() && !medians.is_empty() {
            let hr = a.hazard_ratio.as_ref().map_or(String::new(), |h| {
                format!("; hazard ratio {} (stratified Cox)", ratio(&h.ratio))
            });
            out.push((
                format!("Median overall survival: {}{hr}.", medians.join("; ")),
                analysis_anchor(s, a.analysis),
            ));
        }
    }
    let sre_horizon = s.settings.sre_horizon_months;
    if let Some((text, h, analysis)) = cumulative_at("sre_untreated", Some(sre_horizon)) {
        out.push((
            format!(
                "A first skeletal-related event without a bone-targeted agent: {text} by {h} months after the bone-metastasis diagnosis (death competing)."
            ),
            analysis_anchor(s, analysis),
        ));
    }
    if let Some(r) = s.rates.iter().find(|r| r.analysis == "A9") {
        let rates: Vec<String> = r
            .groups
            .iter()
            .filter_map(|g| {
                let v = g.rate.estimate?;
                Some(format!("{v:.2} per patient-year in {}", g.group))
            })
            .collect();
        if rates.len() == r.groups.len() && !rates.is_empty() {
            let rr = r
                .rate_ratio
                .as_ref()
                .map_or(String::new(), |rr| format!("; rate ratio {}", ratio(rr)));
            out.push((
                format!("Skeletal-related events: {}{rr}.", rates.join(", ")),
                analysis_anchor(s, "A9"),
            ));
        }
    }
    if let Some(g) = incidence_all("crisis_at_diagnosis") {
        if let Some(text) = share_text(&g.wilson) {
            out.push((
                format!(
                    "Hypercalcaemic crisis at diagnosis: {text} of {} patients with a corrected calcium.",
                    flow::count(&g.n)
                ),
                analysis_anchor(s, "A12"),
            ));
        }
    }
    let verdicts = |v: &str| s.published.iter().filter(|p| p.verdict == v).count();
    out.push((
        format!(
            "{} published figures set beside the cohort's estimates: {} consistent, {} differ, {} imprecise, {} not estimated.",
            s.published.len(),
            verdicts("consistent"),
            verdicts("differs"),
            verdicts("imprecise"),
            verdicts("not_estimated")
        ),
        anchor(PUBLISHED),
    ));
    out
}

fn sections(s: &RunSummary, identity: &RunIdentity) -> Vec<Section> {
    let mut out = Vec::new();
    let c = &s.cohort;
    // The patient flow: the diagram, then its numbers.
    let mut flow_blocks = vec![
        Block::Flow,
        Block::Table(Table {
            caption: "Rows per input table".into(),
            headers: strings(&["table", "read", "accepted", "rejected"]),
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
        }),
    ];
    if !identity.rejections.is_empty() {
        flow_blocks.push(Block::Table(Table {
            caption: "Rules broken by the rejected rows (a row can break several; rejected.csv lists each row)".into(),
            headers: strings(&["table", "reason", "rows"]),
            rows: identity
                .rejections
                .iter()
                .map(|(t, r, n)| vec![t.clone(), r.clone(), n.to_string()])
                .collect(),
        }));
    }
    out.push(Section {
        title: FLOW.into(),
        paragraphs: vec!["From the rows read to the patients each analysis counts: rows that break the input contract are rejected (rejected.csv gives each with its reasons); each analysis then selects its population, and the patients it leaves out are counted by reason.".into()],
        blocks: flow_blocks,
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
        title: TABLE_ONE.into(),
        paragraphs: vec![
            format!(
                "{} patients accepted, {} deaths; median follow-up {} months (reverse Kaplan–Meier, 95% CI){}; {:.0} person-years from diagnosis.",
                flow::count(&c.patients),
                flow::count(&c.deaths),
                months(&c.follow_up_months),
                c.follow_up_not_estimated
                    .as_ref()
                    .map_or(String::new(), |why| format!(", not estimated: {why}")),
                c.person_years
            ),
            "Patient characteristics at diagnosis, overall and by bone metastases at diagnosis: n (%) of the patients with a value, median (IQR), missing counts; SMD is the standardised mean difference between the two groups (Yang and Dalton for categorical variables).".into(),
        ],
        blocks: vec![
            Block::Table(Table {
                caption: "Table 1".into(),
                headers,
                rows: one
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        // The variable on its first row only, as clinical tables print it.
                        let first = k == 0 || one.rows[k - 1].variable != r.variable;
                        let variable = if first { r.variable.clone() } else { String::new() };
                        let mut row = vec![variable, r.level.clone()];
                        row.extend(r.cells.iter().cloned());
                        row.push(r.smd.map_or(String::new(), |v| format!("{v:.3}")));
                        row
                    })
                    .collect(),
            }),
            Block::Table(Table {
                caption: "Missing values among accepted patients".into(),
                headers: strings(&["column", "missing", "share"]),
                rows: c
                    .missingness
                    .iter()
                    .map(|m| {
                        vec![
                            m.column.clone(),
                            m.missing.to_string(),
                            m.share
                                .map_or("—".into(), |v| format!("{:.1}%", 100.0 * v)),
                        ]
                    })
                    .collect(),
            }),
        ],
    });
    out.push(Section {
        title: PUBLISHED.into(),
        paragraphs: vec![format!(
            "Each published figure beside the cohort's estimate in the source's population (the analysis named; docs/analysis-plan.md). Shares and cumulative incidences are percentages, medians months. The difference is cohort minus published (points of percentage, months) or cohort / published for ratios, its 95% CI widened by the published CI where there is one; p is its two-sided test and Holm's correction runs over all rows. Verdict: differs when Holm p < 0.05; consistent when not, and the cohort's 95% CI half-width is at most {:.0}% of the published value; imprecise otherwise. Nothing is adjusted toward the literature.",
            100.0 * s.settings.consistent_half_width_share
        )],
        blocks: vec![Block::Table(Table {
            caption: "Published figures and the cohort's estimates".into(),
            headers: strings(&["figure (analysis): measure", "published (source)", "cohort (95% CI)", "n", "difference (95% CI)", "p (Holm p)", "verdict", "note"]),
            rows: s
                .published
                .iter()
                .map(|f| {
                    let estimate = Estimate { estimate: f.estimate, lower: f.lower, upper: f.upper };
                    let analysis = if f.analysis.is_empty() { String::new() } else { format!(" ({})", f.analysis) };
                    vec![
                        format!("{}{analysis}: {}", f.key, f.measure),
                        format!("{} ({})", f.literature_text, f.source),
                        by_scale(&f.scale, &estimate),
                        f.n.map_or("—".into(), |n| n.to_string()),
                        difference(&f.scale, &f.difference),
                        format!("{} ({})", p_value(f.p), p_value(f.p_holm)),
                        f.verdict.replace('_', " "),
                        f.note.clone(),
                    ]
                })
                .collect(),
        })],
    });
    for (a, n) in s
        .analyses
        .iter()
        .map(|a| (&a.declared, a.n))
        .filter(|(a, _)| a.id != "A1")
    {
        let mut blocks = analysis_blocks(s, a.id);
        let mut paragraphs = vec![format!(
            "{}. Outcome: {}; exposure: {}. n = {n}.",
            a.population, a.outcome, a.exposure
        )];
        if a.id == "A8" {
            blocks.push(Block::Chart("sre_types".into()));
        }
        if a.id == "A12" {
            let c = &s.corrected_calcium;
            paragraphs.push(format!(
                "The {} among {} (n = {}): quartiles {}. Thresholds: {}.",
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
            ));
            blocks.push(Block::Chart("corrected_calcium".into()));
        }
        out.push(Section {
            title: analysis_title(a.id, a.title),
            paragraphs,
            blocks,
        });
    }
    out.push(Section {
        title: MORE_CHARTS.into(),
        paragraphs: vec!["Hazard ratios of death of the survival comparisons (A4–A6, A11), side by side; each comparison's numbers are in its section.".into()],
        blocks: vec![Block::Chart("forest_hazard_ratios".into())],
    });
    let st = &s.settings;
    out.push(Section {
        title: METHODS.into(),
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
        blocks: vec![Block::Table(Table {
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
        })],
    });
    out.push(disclosure_section(s));
    out
}

/// What disclosure control hid, rule by rule, and why.
fn disclosure_section(s: &RunSummary) -> Section {
    let d = &s.disclosure;
    if d.min_cell <= 1 {
        return Section {
            title: DISCLOSURE.into(),
            paragraphs: vec![format!(
                "Disclosure control is off (--min-cell {}): every count and every curve is shown in full.",
                d.min_cell
            )],
            blocks: Vec::new(),
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
        title: DISCLOSURE.into(),
        paragraphs: vec![format!(
            "Every figure of this report, of summary.json and of the tables went through one disclosure \
             pass (threshold --min-cell {m}). A count from 1 to {} reads <{m}; a count that, with the \
             totals shown elsewhere, would let a reader work a hidden count out by subtraction reads \
             suppressed; every figure made from a hidden count is left out. Curves and at-risk tables \
             stop where fewer than {m} patients remain at risk. No patient identifier, date of birth \
             or event date appears in any aggregate output.",
            m - 1
        )],
        blocks: vec![Block::Table(Table {
            caption: "What disclosure control hid, and why".into(),
            headers: strings(&["what was hidden", "why", "how many"]),
            rows: rows
                .into_iter()
                .map(|(what, why, n)| vec![what, why, n.to_string()])
                .collect(),
        })],
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

/// The report's sections with the charts placed: each chart where a block names it; a chart
/// no block names goes to the cross-analysis section, and blocks naming a chart that was not
/// drawn (nothing to show) are dropped, as is a section left with nothing but its text.
fn placed_sections<'a>(
    s: &RunSummary,
    identity: &RunIdentity,
    charts: &'a [Chart],
) -> (Vec<Section>, std::collections::BTreeMap<&'a str, &'a Chart>) {
    let by_name: std::collections::BTreeMap<&str, &Chart> =
        charts.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut sections = sections(s, identity);
    let named: std::collections::BTreeSet<String> = sections
        .iter()
        .flat_map(|sec| &sec.blocks)
        .filter_map(|b| match b {
            Block::Chart(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    for sec in &mut sections {
        sec.blocks
            .retain(|b| !matches!(b, Block::Chart(name) if !by_name.contains_key(name.as_str())));
        if sec.title == MORE_CHARTS {
            sec.blocks.extend(
                charts
                    .iter()
                    .filter(|c| !named.contains(&c.name))
                    .map(|c| Block::Chart(c.name.clone())),
            );
        }
    }
    sections.retain(|sec| sec.title != MORE_CHARTS || !sec.blocks.is_empty());
    (sections, by_name)
}

/// The identity line under the title.
fn identity_line(s: &RunSummary, identity: &RunIdentity) -> String {
    format!(
        "Cohort {} · {} patients · run {} · bonemet {} · disclosure threshold {}",
        identity.cohort,
        flow::count(&s.cohort.patients),
        identity.timestamp,
        s.bonemet_version,
        if s.min_cell <= 1 {
            "off".to_string()
        } else {
            s.min_cell.to_string()
        }
    )
}

const TITLE: &str = "Bone metastases in lung cancer: cohort report";
const RUN: &str = "Run";

/// Writes the report as Markdown, in the HTML report's order (charts linked as
/// charts/NAME.png, the flow diagram as charts/flow.svg). The run's timestamp is its only
/// run-time value.
pub fn write_markdown(
    s: &RunSummary,
    identity: &RunIdentity,
    charts: &[Chart],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let (sections, by_name) = placed_sections(s, identity, charts);
    writeln!(out, "# {TITLE}\n")?;
    writeln!(out, "{}\n", identity_line(s, identity))?;
    writeln!(out, "## {KEY_FINDINGS}\n")?;
    let title_of = |a: &str| {
        sections
            .iter()
            .find(|sec| anchor(&sec.title) == a)
            .map_or(String::new(), |sec| sec.title.clone())
    };
    for (sentence, target) in key_findings(s) {
        writeln!(out, "- {sentence} ([{}](#{target}))", title_of(&target))?;
    }
    writeln!(out, "\n## Contents\n")?;
    for sec in &sections {
        writeln!(out, "- [{}](#{})", sec.title, anchor(&sec.title))?;
    }
    writeln!(out, "- [{RUN}](#{})\n", anchor(RUN))?;
    for sec in &sections {
        writeln!(out, "## {}\n", sec.title)?;
        for p in &sec.paragraphs {
            writeln!(out, "{p}\n")?;
        }
        for block in &sec.blocks {
            match block {
                Block::Table(t) => {
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
                Block::Chart(name) => {
                    if let Some(c) = by_name.get(name.as_str()) {
                        writeln!(out, "![{}](charts/{}.png)\n", cell_md(&c.title), c.name)?;
                    }
                }
                Block::Flow => writeln!(out, "![{FLOW}](charts/flow.svg)\n")?,
            }
        }
    }
    writeln!(out, "## {RUN}\n")?;
    writeln!(
        out,
        "bonemet {}, run {}. Inputs (SHA-256):\n",
        s.bonemet_version, identity.timestamp
    )?;
    writeln!(out, "| file | path | SHA-256 |\n|---|---|---|")?;
    for (what, path, sha) in identity.inputs.iter().chain(&identity.settings_files) {
        writeln!(out, "| {} | {} | {} |", cell_md(what), cell_md(path), sha)?;
    }
    Ok(())
}

/// An SVG document as an element to inline in HTML: no XML declaration, no namespace URL
/// (HTML parsers know the SVG namespace), the chart's title as its accessible name.
fn inline_svg(svg: &str, title: &str) -> String {
    let svg = svg.trim();
    let svg = svg
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(svg);
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(title)),
            1,
        )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's style: readable tables, charts at the text's width, and a print stylesheet
/// (collapsed tables open, no navigation, figures and tables not split across pages).
const STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;max-width:72em;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4}\
header{border-bottom:2px solid #0072b2;margin-bottom:1em}header p{color:#555}\
h2{border-bottom:1px solid #ddd;padding-bottom:0.2em;margin-top:2em}\
#key-findings ul{font-size:1.08em}#key-findings li{margin:0.3em 0}\
nav ol{columns:2;padding-left:1.5em}nav a,#key-findings a{color:#0072b2}\
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.92em}\
th,td{border:1px solid #bbb;padding:0.25em 0.5em;text-align:left;vertical-align:top}th{background:#eee}\
table.wide{width:100%}table.wide td,table.wide th{overflow-wrap:break-word}td.short{white-space:nowrap}\
caption{text-align:left;font-weight:bold;padding:0.25em 0}\
details{margin:0.5em 0 1.5em}summary{cursor:pointer;font-weight:bold;color:#0072b2}\
figure{margin:1em 0 2em}figure svg{max-width:100%;height:auto}figcaption{font-size:0.9em;color:#444}\
footer{margin-top:3em;border-top:1px solid #ddd;font-size:0.85em;color:#555}code{word-break:break-all}\
@media print{body{max-width:none;margin:0;font-size:10pt}nav{display:none}a{color:inherit;text-decoration:none}\
details::details-content{content-visibility:visible;display:block}details>summary{list-style:none}\
table,figure{break-inside:avoid}h2{break-after:avoid}}";

/// Writes one table as HTML, collapsed when long (`open` keeps it open at first).
fn html_table(out: &mut dyn Write, t: &Table, open: bool) -> std::io::Result<()> {
    let collapse = t.rows.len() > LONG_TABLE;
    if collapse {
        writeln!(
            out,
            "<details{}><summary>{} ({} rows)</summary>",
            if open { " open" } else { "" },
            escape(if t.caption.is_empty() {
                "Table"
            } else {
                &t.caption
            }),
            t.rows.len()
        )?;
    }
    // A table of many columns takes the page's width and wraps its cells anywhere, so that it
    // never runs off the page (or the printed sheet).
    if t.headers.len() > 7 {
        writeln!(out, "<table class=\"wide\">")?;
    } else {
        writeln!(out, "<table>")?;
    }
    if !t.caption.is_empty() && !collapse {
        writeln!(out, "<caption>{}</caption>", escape(&t.caption))?;
    }
    let head: String = t
        .headers
        .iter()
        .map(|h| format!("<th>{}</th>", escape(h)))
        .collect();
    writeln!(out, "<thead><tr>{head}</tr></thead><tbody>")?;
    for r in &t.rows {
        // Short cells (numbers, p-values, verdicts) never break; long text wraps.
        let cells: String = r
            .iter()
            .map(|c| {
                if c.chars().count() <= 14 {
                    format!("<td class=\"short\">{}</td>", escape(c))
                } else {
                    format!("<td>{}</td>", escape(c))
                }
            })
            .collect();
        writeln!(out, "<tr>{cells}</tr>")?;
    }
    writeln!(out, "</tbody></table>")?;
    if collapse {
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// Writes the report as one self-contained HTML page (inline style and SVG charts, no script,
/// no link): the header, key findings, contents, the sections with each chart beside its
/// table, and a footer with the run's inputs.
pub fn write_html(
    s: &RunSummary,
    identity: &RunIdentity,
    charts: &[Chart],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let (sections, by_name) = placed_sections(s, identity, charts);
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>{} — {}</title>",
        escape(TITLE),
        escape(&identity.cohort)
    )?;
    writeln!(out, "<style>{STYLE}</style>")?;
    writeln!(out, "</head>\n<body>")?;
    writeln!(
        out,
        "<header><h1>{}</h1><p>{}</p></header>",
        escape(TITLE),
        escape(&identity_line(s, identity))
    )?;
    writeln!(
        out,
        "<section id=\"{}\"><h2>{KEY_FINDINGS}</h2><ul>",
        anchor(KEY_FINDINGS)
    )?;
    for (sentence, target) in key_findings(s) {
        let title = sections
            .iter()
            .find(|sec| anchor(&sec.title) == target)
            .map_or(String::new(), |sec| sec.title.clone());
        writeln!(
            out,
            "<li>{} <a href=\"#{target}\">{}</a></li>",
            escape(&sentence),
            escape(&title)
        )?;
    }
    writeln!(out, "</ul></section>")?;
    writeln!(out, "<nav aria-label=\"Contents\"><h2>Contents</h2><ol>")?;
    for sec in &sections {
        writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            anchor(&sec.title),
            escape(&sec.title)
        )?;
    }
    writeln!(out, "<li><a href=\"#{}\">{RUN}</a></li>", anchor(RUN))?;
    writeln!(out, "</ol></nav>\n<main>")?;
    for sec in &sections {
        writeln!(
            out,
            "<section id=\"{}\"><h2>{}</h2>",
            anchor(&sec.title),
            escape(&sec.title)
        )?;
        for p in &sec.paragraphs {
            writeln!(out, "<p>{}</p>", escape(p))?;
        }
        let open = sec.title == TABLE_ONE || sec.title == PUBLISHED;
        for block in &sec.blocks {
            match block {
                Block::Table(t) => html_table(out, t, open)?,
                Block::Chart(name) => {
                    if let Some(c) = by_name.get(name.as_str()) {
                        writeln!(
                            out,
                            "<figure>{}<figcaption>{}</figcaption></figure>",
                            inline_svg(&c.svg, &c.title),
                            escape(&c.title)
                        )?;
                    }
                }
                Block::Flow => writeln!(
                    out,
                    "<figure class=\"flow\">{}<figcaption>{FLOW}: rows read, rejected and accepted, and each analysis's population with its exclusions.</figcaption></figure>",
                    inline_svg(&flow::flow_svg(s, identity), FLOW)
                )?,
            }
        }
        writeln!(out, "</section>")?;
    }
    writeln!(out, "</main>")?;
    writeln!(
        out,
        "<footer id=\"{}\"><h2>{RUN}</h2><p>bonemet {}, run {}. Inputs and settings files with their SHA-256:</p><table><thead><tr><th>file</th><th>path</th><th>SHA-256</th></tr></thead><tbody>",
        anchor(RUN),
        escape(s.bonemet_version),
        escape(&identity.timestamp)
    )?;
    for (what, path, sha) in identity.inputs.iter().chain(&identity.settings_files) {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(what),
            escape(path),
            escape(sha)
        )?;
    }
    writeln!(out, "</tbody></table></footer>\n</body>\n</html>")
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
