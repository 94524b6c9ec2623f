//! The published figures F1–F11 (`published.csv`, a data table: key, figure, value, its CI
//! and group size where published, source) set beside the cohort's estimate in the source's
//! population (docs/analysis-plan.md), with their difference and its 95% CI, a p-value,
//! Holm's correction over every row with a p-value and a verdict: `differs` (Holm p < 0.05),
//! `consistent` (not different, and the cohort's CI half-width at most
//! `consistent_half_width_share` of the published value), `imprecise` otherwise. Never
//! adjust an estimate toward the literature.
//!
//! Each row is tested on the scale its interval is built on, so that the p-value and the
//! interval agree:
//! - a share: the score test against the published value (the test the Wilson interval
//!   inverts), or, where the source gives its group size, the two-sample Wald test; the
//!   difference's CI is the cohort's Wilson interval minus the published value (Wald with the
//!   source's size);
//! - a cumulative incidence: on the log(−log) scale of its interval (cmprsk's variance);
//! - a median: on the log scale of its interval (the limits of a Kaplan–Meier median come from
//!   a test inversion: the p-value is approximate); no p-value when a limit is not reached;
//! - a ratio: cohort / literature on the log scale, the published CI (where given) widening it;
//! - a direction (F10's adjusted odds ratios, published as "raises the risk"): the Wald test
//!   of the odds ratio against 1, in Holm; `consistent` when significant in the published
//!   direction, `differs` when significant against it, `imprecise` otherwise.

use statrs::distribution::{ContinuousCDF, Normal};

use super::model::*;
use super::Study;
use crate::schema::vocab::{Histology, Vocabulary};
use crate::stats::multiplicity::holm;

/// The published figures, one row per compared number.
const TABLE: &str = include_str!("published.csv");

/// A row of `published.csv`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Literature {
    key: String,
    id: String,
    analysis: String,
    scale: String,
    literature: Option<f64>,
    literature_lower: Option<f64>,
    literature_upper: Option<f64>,
    literature_n: Option<u64>,
    literature_text: String,
    source: String,
    figure: String,
    measure: String,
}

/// The published figures' table, parsed (it ships in the binary; a test reads it).
fn literature() -> Vec<Literature> {
    csv::Reader::from_reader(TABLE.as_bytes())
        .deserialize()
        .collect::<Result<Vec<Literature>, _>>()
        .unwrap_or_else(|e| unreachable!("src/analysis/published.csv is valid: {e}"))
}

/// The cohort's side of a row: estimate, n, and how it was made or why there is none.
struct Cohort {
    estimate: Estimate,
    n: Option<Count>,
    note: String,
}

/// The 97.5% normal quantile.
fn z95() -> f64 {
    crate::stats::km::z_for(0.95)
}

/// Two-sided normal p-value of z.
fn two_sided(z: f64) -> f64 {
    let normal = Normal::standard();
    2.0 * normal.cdf(-z.abs())
}

/// The difference (with its CI) and its p-value for one row.
/// `direction_p`: a direction row's Wald p-value against 1.
fn difference(lit: &Literature, c: &Cohort, direction_p: Option<f64>) -> (Estimate, Option<f64>) {
    let e = &c.estimate;
    if lit.scale == "direction" {
        return (Estimate::NONE, direction_p);
    }
    let (Some(value), Some(est)) = (lit.literature, e.estimate) else {
        return (Estimate::NONE, None);
    };
    let z = z95();
    // The cohort's interval shifted by the published value.
    let shifted = Estimate {
        estimate: Some(est - value),
        lower: e.lower.map(|x| x - value),
        upper: e.upper.map(|x| x - value),
    };
    // The standard error on a scale where the interval is symmetric.
    let ci_se = |lo: Option<f64>, hi: Option<f64>, f: &dyn Fn(f64) -> f64| match (lo, hi) {
        (Some(lo), Some(hi)) if f(lo).is_finite() && f(hi).is_finite() => {
            Some((f(hi) - f(lo)).abs() / (2.0 * z))
        }
        _ => None,
    };
    let test = |d: f64, se: Option<f64>| se.filter(|se| *se > 0.0).map(|se| two_sided(d / se));
    match lit.scale.as_str() {
        "ratio" => {
            let Some(se_c) = ci_se(e.lower, e.upper, &f64::ln) else {
                return (Estimate::NONE, None);
            };
            let se_l = ci_se(lit.literature_lower, lit.literature_upper, &f64::ln).unwrap_or(0.0);
            let se = (se_c * se_c + se_l * se_l).sqrt();
            let d = est.ln() - value.ln();
            (
                Estimate::new(d.exp(), Some((d - z * se).exp()), Some((d + z * se).exp())),
                test(d, Some(se)),
            )
        }
        "median_months" => (
            shifted,
            test(est.ln() - value.ln(), ci_se(e.lower, e.upper, &f64::ln)),
        ),
        "cumulative_incidence" => {
            let cll = |x: f64| (-x.ln()).ln();
            (
                shifted,
                test(cll(est) - cll(value), ci_se(e.lower, e.upper, &cll)),
            )
        }
        _ => {
            let Some(Count::Shown(n)) = c.n else {
                return (shifted, None);
            };
            let n = n as f64;
            match lit.literature_n {
                Some(n0) => {
                    let n0 = n0 as f64;
                    let se = (est * (1.0 - est) / n + value * (1.0 - value) / n0).sqrt();
                    let d = est - value;
                    (
                        Estimate::new(d, Some(d - z * se), Some(d + z * se)),
                        test(d, Some(se)),
                    )
                }
                None => (
                    shifted,
                    test(est - value, Some((value * (1.0 - value) / n).sqrt())),
                ),
            }
        }
    }
}

/// The verdict of a row.
fn verdict(lit: &Literature, e: &Estimate, p_holm: Option<f64>, share: f64) -> &'static str {
    let Some(estimate) = e.estimate else {
        return "not_estimated";
    };
    let significant = p_holm.is_some_and(|p| p < 0.05);
    if lit.scale == "direction" {
        return match (significant, estimate > 1.0) {
            (true, true) => "consistent",
            (true, false) => "differs",
            (false, _) => "imprecise",
        };
    }
    if significant {
        return "differs";
    }
    match (p_holm, lit.literature, e.lower, e.upper) {
        (Some(_), Some(value), Some(lo), Some(hi)) if (hi - lo) / 2.0 <= share * value.abs() => {
            "consistent"
        }
        _ => "imprecise",
    }
}

/// Every row of the published table with the cohort's estimate.
pub fn published_figures(s: &Study, summary: &RunSummary) -> Vec<PublishedJson> {
    let rows = literature();
    let cohorts: Vec<Cohort> = rows
        .iter()
        .map(|r| cohort_estimate(s, summary, r))
        .collect();
    let differences: Vec<(Estimate, Option<f64>)> = rows
        .iter()
        .zip(&cohorts)
        .map(|(r, c)| difference(r, c, f10_term(summary, &r.key).map(|t| t.p)))
        .collect();
    let p: Vec<Option<f64>> = differences.iter().map(|(_, p)| *p).collect();
    let p_holm = holm(&p);
    rows.into_iter()
        .zip(cohorts)
        .zip(differences)
        .zip(p_holm)
        .map(|(((lit, c), (diff, p)), p_holm)| PublishedJson {
            verdict: verdict(
                &lit,
                &c.estimate,
                p_holm,
                s.settings.consistent_half_width_share,
            )
            .into(),
            key: lit.key,
            id: lit.id,
            analysis: lit.analysis,
            figure: lit.figure,
            measure: lit.measure,
            scale: lit.scale,
            literature: lit.literature,
            literature_lower: lit.literature_lower,
            literature_upper: lit.literature_upper,
            literature_text: lit.literature_text,
            source: lit.source,
            estimate: c.estimate.estimate,
            lower: c.estimate.lower,
            upper: c.estimate.upper,
            n: c.n,
            difference: diff,
            p,
            p_holm,
            note: c.note,
        })
        .collect()
}

fn none(note: &str) -> Cohort {
    Cohort {
        estimate: Estimate::NONE,
        n: None,
        note: note.into(),
    }
}

/// The sum of two counts, withheld when either is hidden.
fn sum(a: Count, b: Count) -> Count {
    match (a, b) {
        (Count::Shown(x), Count::Shown(y)) => Count::Shown(x + y),
        _ => Count::Withheld,
    }
}

/// The cohort's estimate for one published row.
fn cohort_estimate(s: &Study, summary: &RunSummary, lit: &Literature) -> Cohort {
    let share = |e: Estimate, n: Count, note: &str| Cohort {
        estimate: e,
        n: Some(n),
        note: note.into(),
    };
    let association = |id: &str| summary.associations.iter().find(|a| a.id == id);
    let survival = |id: &str| summary.survival.iter().find(|a| a.id == id);
    let model = |id: &str| summary.models.iter().find(|m| m.id == id);
    let cif = |id: &str, horizon: f64| {
        let Some(a) = summary.cumulative_incidence.iter().find(|a| a.id == id) else {
            return none("not estimated: the analysis did not run");
        };
        let g = &a.groups[0];
        let at = g.at_months.iter().find(|x| x.months == horizon);
        Cohort {
            estimate: at.map_or(Estimate::NONE, |x| x.survival),
            n: Some(g.n),
            note: match at {
                Some(x) if x.survival.estimate.is_some() => {
                    format!("Aalen-Johansen at {horizon} months, death competing; log(-log) 95% CI")
                }
                _ if g.n.is_suppressed() || g.events.is_suppressed() => {
                    "not estimated: a count below the disclosure threshold".into()
                }
                _ => format!("not estimated: follow-up ends before {horizon} months"),
            },
        }
    };
    let median = |id: &str, k: usize| match survival(id).and_then(|a| a.groups.get(k)) {
        Some(g) => Cohort {
            estimate: g.median_months,
            n: Some(g.n),
            note: if g.median_months.estimate.is_some() {
                "Kaplan-Meier median, log-log 95% CI (NR: not reached)".into()
            } else {
                "not estimated: median not reached, or a count below the disclosure threshold"
                    .into()
            },
        },
        None => none("not estimated: the analysis did not run"),
    };
    let first_term = |id: &str| match model(id) {
        Some(m) => match (m.terms.first(), &m.not_fitted) {
            (Some(t), _) => Cohort {
                estimate: t.ratio,
                n: Some(m.n),
                note: format!("{}: {}", m.model, m.adjustment),
            },
            (None, why) => Cohort {
                estimate: Estimate::NONE,
                n: Some(m.n),
                note: format!("not estimated: {}", why.as_deref().unwrap_or("no term")),
            },
        },
        None => none("not estimated: the model did not run"),
    };
    let sre_horizon = s.settings.sre_horizon_months;
    match lit.key.as_str() {
        "F1.cumulative_incidence" => cif("bone_all_advanced", 24.0),
        "F2.autopsy" => none(
            "not estimable: a registry records clinically diagnosed metastases, not autopsy findings",
        ),
        "F3.egfr" | "F3.triple_negative" | "F4.kras_g12a" => {
            let a = association(if lit.id == "F3" { "F3" } else { "F4" });
            match a {
                Some(a) => {
                    let g = if lit.key == "F3.triple_negative" { &a.reference } else { &a.exposed };
                    share(g.wilson, g.n, "share at diagnosis, Wilson 95% CI")
                }
                None => none("not estimated"),
            }
        }
        "F3.odds_ratio" | "F4.odds_ratio_crude" => match association(&lit.id) {
            Some(a) => Cohort {
                estimate: a.odds_ratio,
                n: Some(sum(a.exposed.n, a.reference.n)),
                note: a.not_estimated.as_ref().map_or("crude odds ratio, Woolf 95% CI".into(), |why| format!("not estimated: {why}")),
            },
            None => none("not estimated"),
        },
        "F3.all" => match summary
            .incidence
            .iter()
            .find(|a| a.id == "bone_at_diagnosis_stage_iv_non_squamous")
            .and_then(|a| a.groups.first())
        {
            Some(g) => share(g.wilson, g.n, "share at diagnosis, Wilson 95% CI"),
            None => none("not estimated"),
        },
        "F4.odds_ratio_adjusted" => first_term("F4_adjusted"),
        "F5.median_bone" => median("F5", 0),
        "F5.median_no_bone" => median("F5", 1),
        "F6.median_bone" => median("F6", 0),
        "F6.median_no_bone" => median("F6", 1),
        "F7.median_kras_wild_type" => median("F7", 0),
        "F7.median_kras_mutant" => median("F7", 1),
        "F7.hazard_ratio" => match survival("F7") {
            Some(a) => Cohort {
                estimate: a.hazard_ratio.as_ref().map_or(Estimate::NONE, |h| h.ratio),
                n: Some(sum(a.groups[0].n, a.groups[1].n)),
                note: "Cox, Efron ties, Wald 95% CI; from the bone-metastasis diagnosis".into(),
            },
            None => none("not estimated"),
        },
        "F8.first_sre" => cif("sre_untreated", sre_horizon),
        "F9.any_sre" => cif("sre_untreated_nsclc", sre_horizon),
        "F9.pathologic_fracture" => cif("sre_untreated_nsclc_pathologic_fracture", sre_horizon),
        "F9.radiotherapy_bone" => cif("sre_untreated_nsclc_radiotherapy_to_bone", sre_horizon),
        "F9.bone_surgery" => cif("sre_untreated_nsclc_surgery_to_bone", sre_horizon),
        "F9.spinal_cord_compression" => cif("sre_untreated_nsclc_spinal_cord_compression", sre_horizon),
        "F10.at_diagnosis" => histology_share(summary, None),
        "F10.adenocarcinoma" => histology_share(summary, Some(Histology::Adenocarcinoma)),
        "F10.squamous" => histology_share(summary, Some(Histology::Squamous)),
        "F10.small_cell" => histology_share(summary, Some(Histology::SmallCell)),
        "F10.large_cell" => histology_share(summary, Some(Histology::LargeCell)),
        "F10.nsclc_nos" => histology_share(summary, Some(Histology::NsclcNos)),
        "F10.male_sex" | "F10.tumour_size" | "F10.nodal_involvement" | "F10.other_sites" => {
            match (model("risk_factors_bone_at_diagnosis"), f10_term(summary, &lit.key)) {
                (Some(m), Some(t)) => Cohort {
                    estimate: t.ratio,
                    n: Some(m.n),
                    note: format!(
                        "logistic regression, {}; Wald 95% CI; p tests the odds ratio against 1",
                        m.adjustment
                    ),
                },
                (Some(m), None) => Cohort {
                    estimate: Estimate::NONE,
                    n: Some(m.n),
                    note: format!(
                        "not estimated: {}",
                        m.not_fitted.as_deref().unwrap_or("the term does not vary")
                    ),
                },
                (None, _) => none("not estimated"),
            }
        }
        "F11.hazard_ratio" => first_term("F11_first_sre_by_ntx"),
        _ => none("not estimated: no analysis is mapped to this row"),
    }
}

/// F10's adjusted odds ratio for a direction row, from A2's logistic model.
fn f10_term<'a>(summary: &'a RunSummary, key: &str) -> Option<&'a TermJson> {
    let term = match key {
        "F10.male_sex" => "sex=m",
        "F10.tumour_size" => "tumour size > 20 mm",
        "F10.nodal_involvement" => "N1-N3",
        "F10.other_sites" => "non-bone metastatic site at diagnosis",
        _ => return None,
    };
    summary
        .models
        .iter()
        .find(|m| m.id == "risk_factors_bone_at_diagnosis")?
        .terms
        .iter()
        .find(|t| t.term == term)
}

/// F10: the share with bone metastases at diagnosis, all stages, overall or in one histology
/// as recorded (A2's shares, as disclosed).
fn histology_share(summary: &RunSummary, histology: Option<Histology>) -> Cohort {
    let (id, group) = match histology {
        None => ("bone_at_diagnosis_overall", "all"),
        Some(h) => ("bone_at_diagnosis_by_recorded_histology", h.as_str()),
    };
    let found = summary
        .incidence
        .iter()
        .find(|a| a.id == id)
        .and_then(|a| a.groups.iter().find(|g| g.group == group));
    match found {
        Some(g) => Cohort {
            estimate: g.wilson,
            n: Some(g.n),
            note: "share at diagnosis, all stages; Wilson 95% CI".into(),
        },
        None => Cohort {
            estimate: Estimate::NONE,
            n: None,
            note: "not estimated: no patient with this histology".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_unique_keys_and_every_figure() {
        let rows = literature();
        let mut keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "keys are unique");
        for k in 1..=11 {
            assert!(rows.iter().any(|r| r.id == format!("F{k}")), "F{k}");
        }
        for r in &rows {
            assert!(r.key.starts_with(&format!("{}.", r.id)), "{}", r.key);
            assert!(
                [
                    "proportion",
                    "cumulative_incidence",
                    "median_months",
                    "ratio",
                    "direction"
                ]
                .contains(&r.scale.as_str()),
                "{}",
                r.key
            );
        }
    }

    #[test]
    fn ratio_differences_are_on_the_log_scale_with_the_published_ci() {
        let lit = literature()
            .into_iter()
            .find(|r| r.key == "F7.hazard_ratio")
            .unwrap();
        let e = Estimate::new(0.49, Some(0.49 / 1.5), Some(0.49 * 1.5));
        let c = Cohort {
            estimate: e,
            n: Some(Count::Shown(100)),
            note: String::new(),
        };
        let (d, p) = difference(&lit, &c, None);
        assert!((d.estimate.unwrap() - 1.0).abs() < 1e-12);
        assert!((p.unwrap() - 1.0).abs() < 1e-12);
        // Wider than the cohort's own CI: the published one adds to it.
        assert!(d.upper.unwrap() > 1.5);
        assert_eq!(verdict(&lit, &e, Some(1.0), 0.25), "imprecise");
        let tight = Estimate::new(0.49, Some(0.45), Some(0.53));
        assert_eq!(verdict(&lit, &tight, Some(1.0), 0.25), "consistent");
        assert_eq!(verdict(&lit, &tight, Some(0.01), 0.25), "differs");
        assert_eq!(verdict(&lit, &Estimate::NONE, None, 0.25), "not_estimated");
    }

    fn row(key: &str) -> Literature {
        literature().into_iter().find(|r| r.key == key).unwrap()
    }

    /// A share against a published value: the score test the Wilson interval inverts (R:
    /// prop.test(60, 100, p = 0.538, correct = FALSE)$p.value would use the same statistic;
    /// here z = (0.6 − 0.538) / sqrt(0.538 × 0.462 / 100) by hand), or, with the source's group
    /// size, the two-sample Wald test.
    #[test]
    fn shares_are_tested_as_their_interval_is_built() {
        let c = |e: f64, lo: f64, hi: f64, n: u64| Cohort {
            estimate: Estimate::new(e, Some(lo), Some(hi)),
            n: Some(Count::Shown(n)),
            note: String::new(),
        };
        let mut lit = row("F3.egfr");
        lit.literature_n = None;
        let (d, p) = difference(&lit, &c(0.6, 0.5, 0.69, 100), None);
        let z = (0.6 - 0.538) / (0.538f64 * 0.462 / 100.0).sqrt();
        assert!((p.unwrap() - two_sided(z)).abs() < 1e-15);
        assert!((d.lower.unwrap() - (0.5 - 0.538)).abs() < 1e-15);
        let lit = row("F3.egfr");
        let (d, p) = difference(&lit, &c(0.6, 0.5, 0.69, 100), None);
        let se = (0.6f64 * 0.4 / 100.0 + 0.538 * 0.462 / 160.0).sqrt();
        assert!((p.unwrap() - two_sided((0.6 - 0.538) / se)).abs() < 1e-15);
        assert!((d.upper.unwrap() - (0.062 + z95() * se)).abs() < 1e-12);
        // A cumulative incidence on the log(-log) scale of its interval; a median on the log
        // scale, with no p-value when a limit is not reached.
        let cll = |x: f64| (-x.ln()).ln();
        let (_, p) = difference(&row("F8.first_sre"), &c(0.45, 0.4, 0.5, 500), None);
        let se = (cll(0.4) - cll(0.5)) / (2.0 * z95());
        assert!((p.unwrap() - two_sided((cll(0.45) - cll(0.5)) / se)).abs() < 1e-15);
        let nr = Cohort {
            estimate: Estimate::new(9.0, Some(7.0), None),
            n: Some(Count::Shown(80)),
            note: String::new(),
        };
        assert_eq!(difference(&row("F7.median_kras_mutant"), &nr, None).1, None);
        // A direction row takes the model's Wald p.
        let dir = c(1.3, 1.1, 1.5, 400);
        assert_eq!(
            difference(&row("F10.male_sex"), &dir, Some(0.01)).1,
            Some(0.01)
        );
        assert_eq!(
            verdict(&row("F10.male_sex"), &dir.estimate, Some(0.01), 0.25),
            "consistent"
        );
        let against = Estimate::new(0.7, Some(0.6), Some(0.8));
        assert_eq!(
            verdict(&row("F10.male_sex"), &against, Some(0.01), 0.25),
            "differs"
        );
        assert_eq!(
            verdict(&row("F10.male_sex"), &against, Some(0.2), 0.25),
            "imprecise"
        );
    }
}
