//! The statistics core against R: every expected value below comes from
//! tests/data/reference/*.json (R 4.2.2, survival 3.5.3; the R call is in each file's `meta`
//! and in each test's doc line), on the NCCTG lung data.

use bonemet::stats::km::{ConfType, KaplanMeier};
use bonemet::stats::logrank::survdiff;
use bonemet::stats::rmst::rmst;
use serde_json::Value;

use crate::util::data;

/// Relative tolerance for estimates, SEs, statistics and p-values (the contract).
const REL_TOL: f64 = 1e-6;

fn close(actual: f64, expected: f64, what: &str) {
    let tol = REL_TOL * expected.abs().max(1e-300) + 1e-12;
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: {actual} vs R {expected}"
    );
}

fn close_opt(actual: Option<f64>, expected: &Value, what: &str) {
    match (actual, expected.as_f64()) {
        (Some(a), Some(e)) => close(a, e, what),
        (None, None) => {}
        (a, _) => panic!("{what}: {a:?} vs R {expected}"),
    }
}

fn reference(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(&format!("reference/{name}"))).unwrap())
        .unwrap()
}

/// The JSON of `bonemet survival ARGS`, which must succeed (its stderr shown if not).
fn survival_json(args: &[&str]) -> Value {
    let out = crate::util::bonemet(&[&["survival"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `bonemet survival` with `args` expecting it to refuse (exit 2); its stderr.
fn survival_refused(args: &[&str]) -> String {
    let out = crate::util::bonemet(&[&["survival"], args].concat());
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A JSON array of numbers.
fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// A row of survival::lung: (time, dead, sex, ph.ecog).
type LungRow = (f64, bool, usize, Option<usize>);

/// survival::lung.
fn lung() -> Vec<LungRow> {
    let mut reader = csv::Reader::from_path(data("reference/lung.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (t, s, sex, ecog) = (col("time"), col("status"), col("sex"), col("ph.ecog"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[t].parse().unwrap(),
                &r[s] == "2",
                r[sex].parse::<usize>().unwrap(),
                r[ecog].parse::<usize>().ok(),
            )
        })
        .collect()
}

fn fit(rows: &[LungRow], conf_type: ConfType) -> KaplanMeier {
    let time: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
    KaplanMeier::fit(&time, &event, None, 0.95, conf_type).unwrap()
}

fn groups() -> Vec<(&'static str, Vec<LungRow>)> {
    let rows = lung();
    vec![
        ("all", rows.clone()),
        ("sex=1", rows.iter().copied().filter(|r| r.2 == 1).collect()),
        ("sex=2", rows.iter().copied().filter(|r| r.2 == 2).collect()),
    ]
}

/// `survfit(Surv(time, status) ~ sex)` and `~ 1` with conf.type log, log-log and plain:
/// n, events, median and its CI, quantiles 0.25/0.5/0.75 with CIs, and
/// `summary(fit, times = c(180, 365, 730))`.
#[test]
fn kaplan_meier_summaries_match_survfit() {
    let r = reference("lung_km.json");
    for (key, conf_type) in [
        ("conf_type_log", ConfType::Log),
        ("conf_type_log-log", ConfType::LogLog),
        ("conf_type_plain", ConfType::Plain),
    ] {
        for (name, rows) in groups() {
            let part = if name == "all" {
                &r[key]["overall"]
            } else {
                &r[key]["by_sex"]
            };
            let km = fit(&rows, conf_type);
            let what = |s: &str| format!("{key} {name} {s}");
            let table = &part["summary_table"][name];
            assert_eq!(km.n as u64, table["n"].as_u64().unwrap());
            assert_eq!(km.events as u64, table["events"].as_u64().unwrap());
            let median = km.median();
            close_opt(median.estimate, &table["median"], &what("median"));
            close_opt(median.lower, &table["lcl_0.95"], &what("median lcl"));
            close_opt(median.upper, &table["ucl_0.95"], &what("median ucl"));
            if let Some(q) = part
                .get("quantiles")
                .map(|q| &q[name])
                .filter(|q| !q.is_null())
            {
                let probs: Vec<f64> = floats(&q["probs"]);
                for (i, quantile) in km.quantiles(&probs).iter().enumerate() {
                    close_opt(
                        quantile.estimate,
                        &q["quantile"][i],
                        &what(&format!("q{}", probs[i])),
                    );
                    close_opt(
                        quantile.lower,
                        &q["lower"][i],
                        &what(&format!("q{} lower", probs[i])),
                    );
                    close_opt(
                        quantile.upper,
                        &q["upper"][i],
                        &what(&format!("q{} upper", probs[i])),
                    );
                }
            }
            let at = &part["at_times"][name];
            let times: Vec<f64> = floats(&at["time"]);
            for (i, a) in km.at_times(&times).iter().enumerate() {
                let w = |s: &str| what(&format!("t={} {s}", times[i]));
                close(a.n_risk, at["n_risk"][i].as_f64().unwrap(), &w("n_risk"));
                close(
                    a.n_event,
                    at["n_event_in_interval"][i].as_f64().unwrap(),
                    &w("n_event"),
                );
                close(
                    a.n_censor,
                    at["n_censor_in_interval"][i].as_f64().unwrap(),
                    &w("n_censor"),
                );
                close(a.survival, at["surv"][i].as_f64().unwrap(), &w("surv"));
                close(
                    a.std_err,
                    at["std_err_surv"][i].as_f64().unwrap(),
                    &w("std_err"),
                );
                close_opt(a.lower, &at["lower"][i], &w("lower"));
                close_opt(a.upper, &at["upper"][i], &w("upper"));
                close(a.cumhaz, at["cumhaz"][i].as_f64().unwrap(), &w("cumhaz"));
                close(
                    a.std_err_cumhaz,
                    at["std_err_cumhaz"][i].as_f64().unwrap(),
                    &w("std_err_cumhaz"),
                );
            }
        }
    }
}

/// `survfit(Surv(time, status) ~ 1)` and `~ sex`, conf.type log: every point of the curves.
#[test]
fn kaplan_meier_curves_match_survfit_point_by_point() {
    let r = reference("lung_km.json");
    for (name, rows) in groups() {
        let part = if name == "all" {
            &r["curves_conf_type_log"]["overall"]
        } else {
            &r["curves_conf_type_log"]["by_sex"]
        };
        let c = &part[name];
        let km = fit(&rows, ConfType::Log);
        assert_eq!(
            km.curve.len(),
            c["time"].as_array().unwrap().len(),
            "{name}"
        );
        for (i, p) in km.curve.iter().enumerate() {
            let w = |s: &str| format!("{name} point {i} {s}");
            close(p.time, c["time"][i].as_f64().unwrap(), &w("time"));
            close(p.n_risk, c["n_risk"][i].as_f64().unwrap(), &w("n_risk"));
            close(p.n_event, c["n_event"][i].as_f64().unwrap(), &w("n_event"));
            close(
                p.n_censor,
                c["n_censor"][i].as_f64().unwrap(),
                &w("n_censor"),
            );
            close(p.survival, c["surv"][i].as_f64().unwrap(), &w("surv"));
            close(
                p.std_err_log,
                c["std_err_log_surv"][i].as_f64().unwrap(),
                &w("std_err"),
            );
            close_opt(p.lower, &c["lower"][i], &w("lower"));
            close_opt(p.upper, &c["upper"][i], &w("upper"));
            close(p.cumhaz, c["cumhaz"][i].as_f64().unwrap(), &w("cumhaz"));
            close(
                p.std_err_cumhaz,
                c["std_err_cumhaz"][i].as_f64().unwrap(),
                &w("std_err_cumhaz"),
            );
        }
        // A Kaplan-Meier curve never rises.
        assert!(km.curve.windows(2).all(|w| w[1].survival <= w[0].survival));
    }
}

fn check_test(t: &bonemet::stats::logrank::LogRank, r: &Value, what: &str) {
    close(
        t.chisq,
        r["chisq"].as_f64().unwrap(),
        &format!("{what} chisq"),
    );
    assert_eq!(t.df as u64, r["df"].as_u64().unwrap(), "{what} df");
    close(t.p, r["p"].as_f64().unwrap(), &format!("{what} p"));
    for g in 0..2 {
        close(
            t.observed[g],
            r["observed"][g].as_f64().unwrap(),
            &format!("{what} observed {g}"),
        );
        close(
            t.expected[g],
            r["expected"][g].as_f64().unwrap(),
            &format!("{what} expected {g}"),
        );
        for h in 0..2 {
            close(
                t.variance[g][h],
                r["var"][g][h].as_f64().unwrap(),
                &format!("{what} var {g}{h}"),
            );
        }
    }
}

/// `survdiff(Surv(time, status) ~ sex, data = lung)` (rho 0 and rho 1) and
/// `survdiff(Surv(time, status) ~ sex + strata(ph.ecog), data = lung[!is.na(lung$ph.ecog), ])`.
#[test]
fn log_rank_family_matches_survdiff() {
    let r = reference("lung_logrank.json");
    let rows = lung();
    let time: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let sex: Vec<usize> = rows.iter().map(|r| r.2 - 1).collect();
    check_test(
        &survdiff(&time, &event, &sex, None, 0.0).unwrap(),
        &r["logrank_sex"],
        "log-rank",
    );
    check_test(
        &survdiff(&time, &event, &sex, None, 1.0).unwrap(),
        &r["peto_rho1_sex"],
        "Peto rho=1",
    );
    let complete: Vec<_> = rows.iter().filter(|r| r.3.is_some()).collect();
    let time: Vec<f64> = complete.iter().map(|r| r.0).collect();
    let event: Vec<bool> = complete.iter().map(|r| r.1).collect();
    let sex: Vec<usize> = complete.iter().map(|r| r.2 - 1).collect();
    let ecog: Vec<usize> = complete.iter().map(|r| r.3.unwrap()).collect();
    check_test(
        &survdiff(&time, &event, &sex, Some(&ecog), 0.0).unwrap(),
        &r["stratified_sex_by_ph_ecog"],
        "stratified",
    );
}

/// `print(survfit(Surv(time, status) ~ sex, data = lung), rmean = tau)` and `~ 1`, tau 365,
/// 730 and the common largest time (1022).
#[test]
fn rmst_matches_survfit_rmean() {
    let r = reference("lung_rmst.json");
    for (key, tau) in [
        ("tau_365", 365.0),
        ("tau_730", 730.0),
        ("tau_common", 1022.0),
    ] {
        for (name, rows) in groups() {
            let part = if name == "all" {
                &r[key]["overall"]
            } else {
                &r[key]["by_sex"]
            };
            if part.is_null() {
                continue;
            }
            let expected = &part[name];
            let result = rmst(&fit(&rows, ConfType::Log), tau).unwrap();
            close(
                result.estimate,
                expected["rmean"].as_f64().unwrap(),
                &format!("{key} {name} rmean"),
            );
            close(
                result.std_err,
                expected["se_rmean"].as_f64().unwrap(),
                &format!("{key} {name} se"),
            );
        }
    }
}

/// Hand-checkable cases: all censored, one event, every time tied, delayed entry.
#[test]
fn small_cases_by_hand() {
    // All censored: S stays 1, no median.
    let km = KaplanMeier::fit(&[1.0, 2.0, 3.0], &[false; 3], None, 0.95, ConfType::Log).unwrap();
    assert!(km.curve.iter().all(|p| p.survival == 1.0));
    assert_eq!(km.median().estimate, None);
    // One event at time 2 after a censoring at 1: 3 at risk, S = 2/3; Greenwood var of
    // log S = d / (n (n - d)) = 1 / (3 * 2).
    let km = KaplanMeier::fit(
        &[1.0, 2.0, 3.0, 4.0],
        &[false, true, false, false],
        None,
        0.95,
        ConfType::Log,
    )
    .unwrap();
    close(km.curve[1].survival, 2.0 / 3.0, "S");
    close(km.curve[1].std_err_log, (1.0f64 / 6.0).sqrt(), "greenwood");
    assert_eq!(km.curve[1].n_risk, 3.0);
    // Every time tied: one step to 0; the median is that time.
    let km = KaplanMeier::fit(&[5.0; 4], &[true; 4], None, 0.95, ConfType::Log).unwrap();
    assert_eq!(km.curve.len(), 1);
    assert_eq!(km.curve[0].survival, 0.0);
    assert_eq!(km.median().estimate, Some(5.0));
    // S exactly 0.5 on a flat: the median is the midpoint to the next event (2 and 3 -> 2.5).
    let km = KaplanMeier::fit(
        &[1.0, 2.0, 3.0, 4.0],
        &[true, true, true, true],
        None,
        0.95,
        ConfType::Log,
    )
    .unwrap();
    assert_eq!(km.median().estimate, Some(2.5));
    // Delayed entry: subject entering at 2 is not at risk at 1.5 or 2, is at risk at 3.
    let km = KaplanMeier::fit(
        &[1.5, 3.0, 4.0],
        &[true, true, false],
        Some(&[0.0, 2.0, 0.0]),
        0.95,
        ConfType::Log,
    )
    .unwrap();
    assert_eq!(km.curve[0].n_risk, 2.0);
    assert_eq!(km.curve[0].survival, 0.5);
    assert_eq!(km.curve[1].n_risk, 2.0);
    assert_eq!(km.curve[1].survival, 0.25);
    assert_eq!(
        km.n_risk(2.0),
        1.0,
        "at risk on (entry, exit]: not yet at its entry time"
    );
    assert_eq!(km.n_risk(2.5), 2.0);
    // A group with no events cannot be tested alone.
    assert!(survdiff(&[1.0, 2.0], &[false, false], &[0, 1], None, 0.0).is_err());
}

/// `prop.test(135, 250, correct = FALSE)`, `prop.test(135, 250)` and `binom.test(135, 250)`.
#[test]
fn proportions_match_prop_test_and_binom_test() {
    use bonemet::stats::proportion::{clopper_pearson, wilson};
    let r = &reference("epi_2x2_logistic.json")["proportion_135_of_250"];
    let check = |p: bonemet::stats::proportion::Proportion, key: &str| {
        close(p.estimate, r["estimate"].as_f64().unwrap(), key);
        close(
            p.lower,
            r[key]["ci_0.95"][0].as_f64().unwrap(),
            &format!("{key} lower"),
        );
        close(
            p.upper,
            r[key]["ci_0.95"][1].as_f64().unwrap(),
            &format!("{key} upper"),
        );
    };
    check(
        wilson(135, 250, 0.95, false).unwrap(),
        "wilson_prop_test_correct_false",
    );
    check(
        wilson(135, 250, 0.95, true).unwrap(),
        "wilson_cc_prop_test_correct_true",
    );
    check(
        clopper_pearson(135, 250, 0.95).unwrap(),
        "clopper_pearson_binom_test",
    );
    // Edges: 0 and n successes.
    let none = clopper_pearson(0, 20, 0.95).unwrap();
    assert_eq!(none.lower, 0.0);
    close(
        none.upper,
        1.0 - 0.025f64.powf(1.0 / 20.0),
        "CP upper at 0/20 = 1 - (alpha/2)^(1/n)",
    );
    assert_eq!(clopper_pearson(20, 20, 0.95).unwrap().upper, 1.0);
}

/// The 2×2 table 135/115 vs 310/690: Woolf, Katz, Wald, `chisq.test` (with and without
/// Yates) and `fisher.test` (MLE and CI compared with the converged `fisher_tight_tolerance`).
#[test]
fn two_by_two_matches_r() {
    use bonemet::stats::two_by_two::analyse;
    let r = &reference("epi_2x2_logistic.json")["two_by_two"];
    let t = analyse(135, 115, 310, 690, 0.95).unwrap();
    let num = |v: &Value| v.as_f64().unwrap();
    close(t.odds_ratio.estimate, num(&r["odds_ratio"]), "OR");
    close(
        t.odds_ratio.lower,
        num(&r["woolf_ci_0.95"][0]),
        "Woolf lower",
    );
    close(
        t.odds_ratio.upper,
        num(&r["woolf_ci_0.95"][1]),
        "Woolf upper",
    );
    close(t.risk_ratio.estimate, num(&r["risk_ratio"]), "RR");
    close(
        t.risk_ratio.lower,
        num(&r["rr_ci_0.95_katz"][0]),
        "Katz lower",
    );
    close(
        t.risk_ratio.upper,
        num(&r["rr_ci_0.95_katz"][1]),
        "Katz upper",
    );
    close(t.risk_difference.estimate, num(&r["risk_difference"]), "RD");
    close(
        t.risk_difference.lower,
        num(&r["rd_ci_0.95_wald"][0]),
        "RD lower",
    );
    close(
        t.risk_difference.upper,
        num(&r["rd_ci_0.95_wald"][1]),
        "RD upper",
    );
    close(
        t.chisq.statistic,
        num(&r["chisq_no_correction"]["stat"]),
        "chisq",
    );
    close(t.chisq.p, num(&r["chisq_no_correction"]["p"]), "chisq p");
    close(
        t.chisq_yates.statistic,
        num(&r["chisq_yates"]["stat"]),
        "Yates",
    );
    close(t.chisq_yates.p, num(&r["chisq_yates"]["p"]), "Yates p");
    close(t.fisher.p, num(&r["fisher"]["p"]), "Fisher p");
    let tight = &r["fisher_tight_tolerance"];
    close(
        t.fisher.odds_ratio,
        num(&tight["or_conditional_mle"]),
        "conditional MLE",
    );
    close(t.fisher.lower, num(&tight["ci_0.95"][0]), "exact lower");
    close(t.fisher.upper, num(&tight["ci_0.95"][1]), "exact upper");
    // At the support's edge the MLE is infinite and the upper limit too.
    let edge = analyse(10, 0, 5, 5, 0.95).unwrap();
    assert_eq!(edge.fisher.odds_ratio, f64::INFINITY);
    assert_eq!(edge.fisher.upper, f64::INFINITY);
    assert!(edge.fisher.lower > 0.0);
}

/// `glm(dead ~ sex + age + ph.ecog, binomial, lung)` (n = 227 after na.omit). Coefficients,
/// SEs and profile intervals against `tight_refit` (R refitted at epsilon 1e-15, profile roots
/// solved exactly: the reference notes that default glm SEs sit ~5e-7 from convergence and
/// MASS's profile spline ~5e-5 from the root); z, p and Wald intervals are R's formulas
/// (coef/se, 2·pnorm(−|z|), coef ± qnorm(.975)·se) on those values.
#[test]
fn logistic_regression_matches_glm() {
    use bonemet::stats::logistic::LogisticFit;
    use statrs::distribution::{ContinuousCDF, Normal};
    let r = &reference("epi_2x2_logistic.json")["logistic_lung"];
    let rows: Vec<LungRow> = lung().into_iter().filter(|r| r.3.is_some()).collect();
    assert_eq!(rows.len() as u64, r["n"].as_u64().unwrap());
    let mut reader = csv::Reader::from_path(data("reference/lung.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let age_col = header.iter().position(|h| h == "age").unwrap();
    let ecog_col = header.iter().position(|h| h == "ph.ecog").unwrap();
    let ages: Vec<f64> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[ecog_col].is_empty() && &r[ecog_col] != "NA")
        .map(|r| r[age_col].parse().unwrap())
        .collect();
    let dead: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let columns = vec![
        rows.iter().map(|r| r.2 as f64).collect(),
        ages,
        rows.iter().map(|r| r.3.unwrap() as f64).collect(),
    ];
    let names: Vec<String> = ["sex", "age", "ph.ecog"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let fit = LogisticFit::fit(&dead, &columns, &names).unwrap();
    let num = |v: &Value| v.as_f64().unwrap();
    let tight = &r["tight_refit"];
    let normal = Normal::standard();
    for j in 0..4 {
        let term = &fit.terms[j];
        assert_eq!(term, r["terms"][j].as_str().unwrap());
        let (coef, se) = (num(&tight["coef"][j]), num(&tight["se"][j]));
        close(fit.coef[j], coef, &format!("{term} coef"));
        close(fit.se[j], se, &format!("{term} se"));
        close(fit.z[j], coef / se, &format!("{term} z"));
        close(
            fit.p[j],
            2.0 * normal.cdf(-(coef / se).abs()),
            &format!("{term} p"),
        );
        let (lo, hi) = fit.wald_interval(j, 0.95);
        close(
            lo,
            coef - 1.959963984540054 * se,
            &format!("{term} Wald lower"),
        );
        close(
            hi,
            coef + 1.959963984540054 * se,
            &format!("{term} Wald upper"),
        );
        let (plo, phi) = fit.profile_interval(j, 0.95).unwrap();
        close(
            plo,
            num(&tight["profile_ci_coef_exact"]["lower"][j]),
            &format!("{term} profile lower"),
        );
        close(
            phi,
            num(&tight["profile_ci_coef_exact"]["upper"][j]),
            &format!("{term} profile upper"),
        );
    }
    close(fit.deviance, num(&r["deviance"]), "deviance");
    close(fit.null_deviance, num(&r["null_deviance"]), "null deviance");
    close(fit.loglik, num(&r["loglik"]), "loglik");
    close(fit.aic, num(&r["aic"]), "AIC");
    // The same data as covariate patterns (sex, age, ECOG) with their deaths: the grouped fit
    // (glm(cbind(deaths, n - deaths) ~ ...)) gives R's coefficients, SEs and profile limits.
    let mut patterns: Vec<([f64; 3], f64, f64)> = Vec::new();
    for (i, &y) in dead.iter().enumerate() {
        let key = [columns[0][i], columns[1][i], columns[2][i]];
        let at = match patterns.iter().position(|p| p.0 == key) {
            Some(k) => k,
            None => {
                patterns.push((key, 0.0, 0.0));
                patterns.len() - 1
            }
        };
        patterns[at].1 += f64::from(u8::from(y));
        patterns[at].2 += 1.0;
    }
    assert!(patterns.len() < dead.len());
    let grouped = LogisticFit::fit_grouped(
        &patterns.iter().map(|p| p.1).collect::<Vec<_>>(),
        &patterns.iter().map(|p| p.2).collect::<Vec<_>>(),
        (0..3)
            .map(|j| patterns.iter().map(|p| p.0[j]).collect())
            .collect(),
        &names,
    )
    .unwrap();
    assert_eq!(grouped.n, dead.len());
    for j in 0..4 {
        let term = &grouped.terms[j];
        close(
            grouped.coef[j],
            num(&tight["coef"][j]),
            &format!("grouped {term} coef"),
        );
        close(
            grouped.se[j],
            num(&tight["se"][j]),
            &format!("grouped {term} se"),
        );
        let (plo, phi) = grouped.profile_interval(j, 0.95).unwrap();
        close(
            plo,
            num(&tight["profile_ci_coef_exact"]["lower"][j]),
            &format!("grouped {term} profile lower"),
        );
        close(
            phi,
            num(&tight["profile_ci_coef_exact"]["upper"][j]),
            &format!("grouped {term} profile upper"),
        );
    }
    // The likelihood-ratio statistic of the covariates does not depend on the grouping.
    close(
        grouped.null_deviance - grouped.deviance,
        num(&r["null_deviance"]) - num(&r["deviance"]),
        "grouped likelihood ratio",
    );
}

/// A constant or duplicated covariate, and perfect separation, are errors naming the terms.
#[test]
fn logistic_errors_name_the_covariates() {
    use bonemet::stats::logistic::LogisticFit;
    use bonemet::stats::StatsError;
    let y = vec![false, true, false, true, true, false, true, false];
    let x: Vec<f64> = (0..8).map(|i| i as f64).collect();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = LogisticFit::fit(
        &y,
        &[x.clone(), x.iter().map(|v| 2.0 * v).collect()],
        &names(&["dose", "dose_x2"]),
    )
    .unwrap_err();
    assert_eq!(err, StatsError::SingularDesign(vec!["dose_x2".into()]));
    let err = LogisticFit::fit(&y, &[vec![1.0; 8]], &names(&["constant"])).unwrap_err();
    assert!(err.to_string().contains("constant"), "{err}");
    // Outcome true exactly when x > 3.5: complete separation by x.
    let separated: Vec<bool> = x.iter().map(|v| *v > 3.5).collect();
    let noise: Vec<f64> = vec![0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.8, 0.5];
    let err =
        LogisticFit::fit(&separated, &[x.clone(), noise], &names(&["x", "noise"])).unwrap_err();
    assert!(
        matches!(&err, StatsError::Separation(terms) if terms.contains(&"x".to_string())),
        "{err}"
    );
}

/// `coxph(Surv(time, status) ~ sex + age + ph.ecog, data = lung)` with ties efron and breslow
/// (n = 227 after na.omit): coefficients, SEs, z, p, hazard ratios with CIs, vcov, log
/// likelihoods, the LR, Wald and score tests, and Harrell's concordance counts.
#[test]
fn cox_regression_matches_coxph() {
    use bonemet::stats::cox::{coxph, Ties};
    let r = reference("lung_cox.json");
    let mut reader = csv::Reader::from_path(data("reference/lung.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (t, s, sex, age, ecog) = (
        col("time"),
        col("status"),
        col("sex"),
        col("age"),
        col("ph.ecog"),
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[ecog].is_empty() && &r[ecog] != "NA")
        .collect();
    let num = |r: &csv::StringRecord, c: usize| r[c].parse::<f64>().unwrap();
    let time: Vec<f64> = rows.iter().map(|r| num(r, t)).collect();
    let event: Vec<bool> = rows.iter().map(|r| &r[s] == "2").collect();
    let covariates = vec![
        rows.iter().map(|r| num(r, sex)).collect::<Vec<f64>>(),
        rows.iter().map(|r| num(r, age)).collect(),
        rows.iter().map(|r| num(r, ecog)).collect(),
    ];
    let value = |v: &Value| v.as_f64().unwrap();
    for (key, ties) in [("efron", Ties::Efron), ("breslow", Ties::Breslow)] {
        let e = &r[key];
        let fit = coxph(&time, &event, None, &covariates, None, ties).unwrap();
        assert_eq!(fit.n as u64, e["n"].as_u64().unwrap());
        assert_eq!(fit.events as u64, e["nevent"].as_u64().unwrap());
        for j in 0..3 {
            let w = |s: &str| format!("{key} term {j} {s}");
            close(fit.coef[j], value(&e["coef"][j]), &w("coef"));
            close(fit.se[j], value(&e["se"][j]), &w("se"));
            close(fit.z[j], value(&e["z"][j]), &w("z"));
            close(fit.p[j], value(&e["p"][j]), &w("p"));
            let (hr, lo, hi) = fit.hazard_ratio(j, 0.95);
            close(hr, value(&e["hr"][j]), &w("hr"));
            close(lo, value(&e["hr_lower_0.95"][j]), &w("hr lower"));
            close(hi, value(&e["hr_upper_0.95"][j]), &w("hr upper"));
            for k in 0..3 {
                close(
                    fit.vcov[j][k],
                    value(&e["vcov"][j][k]),
                    &w(&format!("vcov {k}")),
                );
            }
        }
        close(fit.loglik, value(&e["loglik"]), &format!("{key} loglik"));
        close(
            fit.loglik_null,
            value(&e["loglik_null"]),
            &format!("{key} loglik null"),
        );
        for (test, name) in [
            (&fit.lr_test, "lr_test"),
            (&fit.wald_test, "wald_test"),
            (&fit.score_test, "score_test"),
        ] {
            close(
                test.chisq,
                value(&e[name]["stat"]),
                &format!("{key} {name}"),
            );
            assert_eq!(test.df as u64, e[name]["df"].as_u64().unwrap());
            close(test.p, value(&e[name]["p"]), &format!("{key} {name} p"));
        }
        let c = &e["concordance"];
        assert_eq!(
            fit.concordance.unwrap().concordant,
            c["concordant"].as_u64().unwrap(),
            "{key} concordant"
        );
        assert_eq!(
            fit.concordance.unwrap().discordant,
            c["discordant"].as_u64().unwrap(),
            "{key} discordant"
        );
        assert_eq!(
            fit.concordance.unwrap().tied_x,
            c["tied_x"].as_u64().unwrap(),
            "{key} tied_x"
        );
        assert_eq!(
            fit.concordance.unwrap().tied_y,
            c["tied_y"].as_u64().unwrap(),
            "{key} tied_y"
        );
        close(
            fit.concordance.unwrap().estimate,
            value(&c["C"]),
            &format!("{key} C"),
        );
        close(
            fit.concordance.unwrap().std_err,
            value(&c["se"]),
            &format!("{key} concordance se"),
        );
    }
    // Delayed entry: `coxph(Surv(entry, time, status) ~ age + sex + ph.ecog)` with entry =
    // floor(time / 3), and its concordance (pairs only while both are at risk) with its SE
    // (tests/reference/survival_lung_entry.R).
    let r = reference("lung_entry.json");
    let entry: Vec<f64> = time.iter().map(|t| (t / 3.0).floor()).collect();
    let by_r_order = vec![
        covariates[1].clone(),
        covariates[0].clone(),
        covariates[2].clone(),
    ];
    let fit = coxph(&time, &event, Some(&entry), &by_r_order, None, Ties::Efron).unwrap();
    for j in 0..3 {
        close(
            fit.coef[j],
            value(&r["coef"][j]),
            &format!("entry coef {j}"),
        );
        close(fit.se[j], value(&r["se"][j]), &format!("entry se {j}"));
    }
    close(fit.loglik_null, value(&r["loglik"][0]), "entry loglik null");
    close(fit.loglik, value(&r["loglik"][1]), "entry loglik");
    let c = &r["concordance"];
    assert_eq!(
        (
            fit.concordance.unwrap().concordant,
            fit.concordance.unwrap().discordant,
            fit.concordance.unwrap().tied_x,
            fit.concordance.unwrap().tied_y
        ),
        (
            c["concordant"].as_u64().unwrap(),
            c["discordant"].as_u64().unwrap(),
            c["tied_x"].as_u64().unwrap(),
            c["tied_y"].as_u64().unwrap()
        ),
        "entry concordance counts"
    );
    close(fit.concordance.unwrap().estimate, value(&c["C"]), "entry C");
    close(
        fit.concordance.unwrap().std_err,
        value(&c["se"]),
        "entry concordance se",
    );
}

/// Exact properties where R gave no reference: two identical strata leave the coefficients
/// unchanged and double the log-likelihood; entry times before every exit change nothing.
#[test]
fn cox_strata_and_delayed_entry_properties() {
    use bonemet::stats::cox::{coxph, Ties};
    let rows: Vec<LungRow> = lung().into_iter().filter(|r| r.3.is_some()).collect();
    let time: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let x = vec![
        rows.iter().map(|r| r.2 as f64).collect::<Vec<f64>>(),
        rows.iter().map(|r| r.3.unwrap() as f64).collect(),
    ];
    let base = coxph(&time, &event, None, &x, None, Ties::Efron).unwrap();
    let twice = |v: &Vec<f64>| v.iter().chain(v).copied().collect::<Vec<f64>>();
    let time2 = twice(&time);
    let event2: Vec<bool> = event.iter().chain(&event).copied().collect();
    let x2: Vec<Vec<f64>> = x.iter().map(twice).collect();
    let strata: Vec<usize> = (0..time2.len())
        .map(|i| usize::from(i >= time.len()))
        .collect();
    let stratified = coxph(&time2, &event2, None, &x2, Some(&strata), Ties::Efron).unwrap();
    for j in 0..2 {
        close(stratified.coef[j], base.coef[j], "coef, duplicated strata");
        close(
            stratified.se[j],
            base.se[j] / 2f64.sqrt(),
            "se halves in variance",
        );
    }
    close(stratified.loglik, 2.0 * base.loglik, "loglik doubles");
    let entry = vec![-1.0; time.len()];
    let delayed = coxph(&time, &event, Some(&entry), &x, None, Ties::Efron).unwrap();
    close(delayed.coef[0], base.coef[0], "entry before every exit");
    close(
        delayed.loglik,
        base.loglik,
        "entry before every exit, loglik",
    );
    // Entry after some exits does change the fit: late entrants leave earlier risk sets.
    let late: Vec<f64> = time.iter().map(|t| (t / 2.0).floor()).collect();
    let truncated = coxph(&time, &event, Some(&late), &x, None, Ties::Efron).unwrap();
    assert!((truncated.loglik - base.loglik).abs() > 1.0);
}

/// `bonemet survival` end to end on lung.csv: the JSON contract's keys carry R's values.
#[test]
fn the_survival_command_writes_the_contract_with_rs_numbers() {
    let lung_csv = data("reference/lung.csv");
    let run = |args: &[&str]| -> Value {
        let mut all = vec![
            lung_csv.to_str().unwrap(),
            "--time",
            "time",
            "--event",
            "status",
            "--event-value",
            "2",
        ];
        all.extend_from_slice(args);
        survival_json(&all)
    };
    let km_ref = reference("lung_km.json");
    let lr_ref = reference("lung_logrank.json");
    // survfit(Surv(time, status) ~ sex) and survdiff on all 228 rows.
    let j = run(&["--by", "sex", "--times", "365,180"]);
    assert_eq!(
        (
            j["n"].as_u64(),
            j["n_dropped_missing"].as_u64(),
            j["events"].as_u64()
        ),
        (Some(228), Some(0), Some(165))
    );
    for (g, name) in [(0, "sex=1"), (1, "sex=2")] {
        let group = &j["km"]["groups"][g];
        assert_eq!(group["group"], name);
        let table = &km_ref["conf_type_log"]["by_sex"]["summary_table"][name];
        close(
            group["median"].as_f64().unwrap(),
            table["median"].as_f64().unwrap(),
            "median",
        );
        close(
            group["median_lower"].as_f64().unwrap(),
            table["lcl_0.95"].as_f64().unwrap(),
            "lcl",
        );
        close(
            group["median_upper"].as_f64().unwrap(),
            table["ucl_0.95"].as_f64().unwrap(),
            "ucl",
        );
        let at = &km_ref["conf_type_log"]["by_sex"]["at_times"][name];
        // Times are reported in ascending order.
        close(
            group["at_times"][0]["survival"].as_f64().unwrap(),
            at["surv"][0].as_f64().unwrap(),
            "S(180)",
        );
        close(
            group["at_times"][1]["std_err"].as_f64().unwrap(),
            at["std_err_surv"][1].as_f64().unwrap(),
            "SE(365)",
        );
    }
    close(
        j["logrank"]["chisq"].as_f64().unwrap(),
        lr_ref["logrank_sex"]["chisq"].as_f64().unwrap(),
        "log-rank",
    );
    assert!(j.get("cox").is_none(), "cox only with --covariates");
    // coxph on complete cases; sex as a factor gives the term sex=2 with the numeric coefficient.
    let cox_ref = &reference("lung_cox.json")["efron"];
    let j = run(&[
        "--covariates",
        "sex,age,ph.ecog",
        "--factor",
        "sex",
        "--reference",
        "sex=1",
    ]);
    assert_eq!(j["n_dropped_missing"], 1);
    assert_eq!(j["km"]["groups"][0]["group"], "all");
    let terms = j["cox"]["terms"].as_array().unwrap();
    assert_eq!(terms[0]["term"], "sex=2");
    for (k, term) in terms.iter().enumerate() {
        close(
            term["coef"].as_f64().unwrap(),
            cox_ref["coef"][k].as_f64().unwrap(),
            "coef",
        );
        close(
            term["hr_upper"].as_f64().unwrap(),
            cox_ref["hr_upper_0.95"][k].as_f64().unwrap(),
            "hr upper",
        );
    }
    close(
        j["cox"]["score_test"]["chisq"].as_f64().unwrap(),
        cox_ref["score_test"]["stat"].as_f64().unwrap(),
        "score",
    );
    close(
        j["cox"]["concordance"]["estimate"].as_f64().unwrap(),
        cox_ref["concordance"]["C"].as_f64().unwrap(),
        "C",
    );
    // A missing column is exit 2 naming it.
    let stderr = survival_refused(&[
        lung_csv.to_str().unwrap(),
        "--time",
        "months",
        "--event",
        "status",
    ]);
    assert!(stderr.contains("missing required column 'months'"));
}

/// A row whose entry is not before its exit is dropped as missing, as R's `Surv(entry, time,
/// event)` makes it NA: lung with delayed entry gives the same analyses with such rows as
/// without them, counted in `n_dropped_missing` with a warning.
#[test]
fn the_survival_command_drops_intervals_that_end_before_they_start() {
    let lung = std::fs::read_to_string(data("reference/lung.csv")).unwrap();
    let mut lines = lung.lines();
    let header = lines.next().unwrap();
    let (mut with_bad, mut without) = (
        format!("{header},\"entry\"\n"),
        format!("{header},\"entry\"\n"),
    );
    for (k, line) in lines.enumerate() {
        let time: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        // Every seventh row enters at or after its exit; the others at a third of it.
        let entry = if k % 7 == 3 {
            time + (k % 2) as f64
        } else {
            (time / 3.0).floor()
        };
        let row = format!("{line},{entry}\n");
        with_bad.push_str(&row);
        if k % 7 != 3 {
            without.push_str(&row);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str| -> Value {
        let path = crate::util::write(dir.path(), name, text);
        survival_json(&[
            path.to_str().unwrap(),
            "--time",
            "time",
            "--event",
            "status",
            "--event-value",
            "2",
            "--entry",
            "entry",
            "--by",
            "sex",
            "--covariates",
            "age",
        ])
    };
    let (mut bad, mut good) = (run("bad.csv", &with_bad), run("good.csv", &without));
    let dropped = 228 / 7 + usize::from(228 % 7 > 3);
    assert_eq!(bad["n"], good["n"]);
    assert_eq!(bad["n_dropped_missing"], dropped);
    assert_eq!(good["n_dropped_missing"], 0);
    let warning = format!("missing as R's Surv() makes them NA: {dropped}");
    assert!(bad["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().ends_with(&warning)));
    for j in [&mut bad, &mut good] {
        let j = j.as_object_mut().unwrap();
        j.remove("n_dropped_missing");
        j.remove("warnings");
    }
    assert_eq!(bad, good);
    // With no row left, the command stops (exit 2) saying why, naming the file.
    let none = crate::util::write(dir.path(), "none.csv", "time,status,entry\n5,1,5\n6,0,7\n");
    let stderr = survival_refused(&[
        none.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--entry",
        "entry",
    ]);
    assert!(
        stderr.contains("none.csv: nothing to analyse: none of its 2 rows")
            && stderr.contains("(2 rows do not)"),
        "{stderr}"
    );
}

/// What `bonemet survival` cannot read it says: text in a numeric column is read as missing
/// with a warning naming the column, the count and the first line; a file that is not there
/// is exit 2 naming it.
#[test]
fn the_survival_command_says_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::util::write(
        dir.path(),
        "text.csv",
        "time,status,x\n5,1,1\nabc,0,2\n7,1,3\nn/a,1,1\n9,0,1\n",
    );
    let j = survival_json(&[
        path.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--covariates",
        "x",
    ]);
    assert_eq!(
        (j["n"].as_u64(), j["n_dropped_missing"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        j["warnings"][0],
        "time: cells with text that is not a number, read as missing: 2 (the first at line 3: 'abc')"
    );
    let absent = dir.path().join("absent.csv");
    let stderr = survival_refused(&[
        absent.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--covariates",
        "x",
    ]);
    assert!(stderr.contains("absent.csv: cannot read: "), "{stderr}");
}

/// `bonemet survival` reads only the columns it uses, from CSV or Parquet alike: lung.csv (ten
/// columns, four used) and the same table as Parquet give the same JSON, and a column the
/// Parquet file lacks is exit 2 naming it.
#[test]
fn the_survival_command_reads_the_same_numbers_from_parquet() {
    use polars::prelude::*;
    let lung_csv = data("reference/lung.csv");
    let dir = tempfile::tempdir().unwrap();
    let lung_parquet = dir.path().join("lung.parquet");
    let mut frame = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(lung_csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    crate::util::write_parquet(&mut frame, &lung_parquet);
    // `bonemet survival` on lung's sex, age and ECOG score, with `time` as the time column.
    fn args<'a>(path: &'a std::path::Path, time: &'a str) -> [&'a str; 13] {
        [
            path.to_str().unwrap(),
            "--time",
            time,
            "--event",
            "status",
            "--event-value",
            "2",
            "--by",
            "sex",
            "--covariates",
            "age,ph.ecog",
            "--factor",
            "ph.ecog",
        ]
    }
    let parquet_json = survival_json(&args(&lung_parquet, "time"));
    assert_eq!(parquet_json, survival_json(&args(&lung_csv, "time")));
    assert_eq!(parquet_json["n"], 227);
    let stderr = survival_refused(&args(&lung_parquet, "months"));
    assert!(stderr.contains("missing required column 'months'"));
}

/// The O(n log n) concordance equals the definition counted pair by pair, on random data with
/// ties in times and scores, with and without strata and delayed entry; its standard error
/// equals survival's jackknife formula computed from per-subject pair counts.
#[test]
fn concordance_equals_the_pairwise_definition() {
    use bonemet::stats::cox::concordance;
    let mut rng = crate::random_cohort::Rng::new(99);
    for n in [2usize, 7, 60, 300] {
        let time: Vec<f64> = (0..n).map(|_| 1.0 + rng.below(20) as f64).collect();
        let event: Vec<bool> = (0..n).map(|_| rng.chance(0.6)).collect();
        let eta: Vec<f64> = (0..n).map(|_| rng.below(8) as f64 * 0.5).collect();
        let strata: Vec<usize> = (0..n).map(|_| rng.below(3) as usize).collect();
        let entry: Vec<f64> = time
            .iter()
            .map(|t| (t - 1.0 - rng.below(12) as f64).max(0.0))
            .collect();
        for s in [None, Some(strata.as_slice())] {
            for e in [None, Some(entry.as_slice())] {
                let fast = concordance(&time, &event, e, &eta, s);
                let (mut c, mut d, mut tx, mut ty, mut txy) = (0u64, 0u64, 0u64, 0u64, 0u64);
                // Per subject: concordant, discordant, tied pairs it belongs to.
                let mut own = vec![[0.0f64; 3]; n];
                for i in 0..n {
                    for j in 0..n {
                        if i == j || !event[i] || s.is_some_and(|s| s[i] != s[j]) {
                            continue;
                        }
                        if e.is_some_and(|e| e[j] >= time[i]) {
                            continue;
                        }
                        if time[j] == time[i] && event[j] {
                            // Tied on time: tied.y, or tied.xy when tied on score too (R's).
                            if j > i && eta[i] == eta[j] {
                                txy += 1;
                            } else if j > i {
                                ty += 1;
                            }
                            continue;
                        }
                        if time[j] < time[i] {
                            continue;
                        }
                        let k = match eta[i].total_cmp(&eta[j]) {
                            std::cmp::Ordering::Greater => {
                                c += 1;
                                0
                            }
                            std::cmp::Ordering::Less => {
                                d += 1;
                                1
                            }
                            std::cmp::Ordering::Equal => {
                                tx += 1;
                                2
                            }
                        };
                        own[i][k] += 1.0;
                        own[j][k] += 1.0;
                    }
                }
                let what = format!("n={n} strata={} entry={}", s.is_some(), e.is_some());
                assert_eq!(
                    (
                        fast.concordant,
                        fast.discordant,
                        fast.tied_x,
                        fast.tied_y,
                        fast.tied_xy
                    ),
                    (c, d, tx, ty, txy),
                    "{what}"
                );
                let pairs = (c + d + tx) as f64;
                if pairs == 0.0 {
                    continue;
                }
                let somers = (c as f64 - d as f64) / pairs;
                let var: f64 = own
                    .iter()
                    .map(|[c, d, t]| {
                        let dfbeta = (c - d) / pairs - somers / pairs * (c + d + t);
                        dfbeta * dfbeta
                    })
                    .sum::<f64>()
                    / 4.0;
                close(fast.std_err, var.sqrt(), &what);
            }
        }
    }
}

/// `cuminc(etime, event, group = sex, cencode = 0)` on survival::mgus2 (progression = 1,
/// death = 2), `timepoints(fit, c(60, 120, 240, 360))`: estimates and variances per sex and
/// cause. R script: tests/reference/cmprsk_mgus2.R.
#[test]
fn cumulative_incidence_matches_cmprsk_cuminc() {
    use bonemet::stats::cuminc::cumulative_incidence;
    let r = reference("mgus2_cuminc.json");
    let mut reader = csv::Reader::from_path(data("reference/mgus2.csv")).unwrap();
    let rows: Vec<(f64, u32, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].to_string(),
            )
        })
        .collect();
    let times: Vec<f64> = floats(&r["times"]);
    for (g, group) in r["groups"].as_array().unwrap().iter().enumerate() {
        let (sex, cause) = group.as_str().unwrap().split_once(' ').unwrap();
        let cause: u32 = cause.parse().unwrap();
        let subset: Vec<&(f64, u32, String)> = rows.iter().filter(|r| r.2 == sex).collect();
        let t: Vec<f64> = subset.iter().map(|r| r.0).collect();
        let s: Vec<u32> = subset.iter().map(|r| r.1).collect();
        let curve = cumulative_incidence(&t, &s, cause).unwrap();
        for (k, &at) in times.iter().enumerate() {
            let (estimate, variance) = curve.at(at).unwrap();
            close(
                estimate,
                r["est"][g][k].as_f64().unwrap(),
                &format!("{sex} cause {cause} t={at} estimate"),
            );
            close(
                variance,
                r["var"][g][k].as_f64().unwrap(),
                &format!("{sex} cause {cause} t={at} variance"),
            );
        }
    }
}

/// Gray's test from the same `cuminc(etime, event, group = sex)` call: `fit$Tests` per cause.
#[test]
fn gray_test_matches_cmprsk() {
    use bonemet::stats::cuminc::gray_test;
    let r = reference("mgus2_cuminc.json");
    let mut reader = csv::Reader::from_path(data("reference/mgus2.csv")).unwrap();
    let rows: Vec<(f64, u32, usize)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                usize::from(&r[3] == "M"),
            )
        })
        .collect();
    let t: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let s: Vec<u32> = rows.iter().map(|r| r.1).collect();
    let g: Vec<usize> = rows.iter().map(|r| r.2).collect();
    let tests = &r["tests"];
    for (k, cause) in tests["cause"].as_array().unwrap().iter().enumerate() {
        let cause: u32 = cause.as_str().unwrap().parse().unwrap();
        let test = gray_test(&t, &s, cause, &g, None, 0.0).unwrap();
        close(
            test.chisq,
            tests["stat"][k].as_f64().unwrap(),
            &format!("cause {cause} stat"),
        );
        close(
            test.p,
            tests["pv"][k].as_f64().unwrap(),
            &format!("cause {cause} p"),
        );
        assert_eq!(test.df as u64, tests["df"][k].as_u64().unwrap());
    }
}

/// survival::mgus2 as (etime, event, age, male).
fn mgus2() -> Vec<(f64, u32, f64, f64)> {
    let mut reader = csv::Reader::from_path(data("reference/mgus2.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[4].parse().unwrap(),
                f64::from(u8::from(&r[3] == "M")),
            )
        })
        .collect()
}

/// `crr(etime, event, cbind(age, male), failcode = 1)` and `failcode = 2` on survival::mgus2
/// (R's defaults; the fully converged fit, gtol 1e-14, agrees to ~1e-8 and is checked too):
/// coefficients, sandwich SEs and variance matrix, z, p, sHR intervals, pseudo
/// log-likelihoods. R script: tests/reference/cmprsk_mgus2.R.
#[test]
fn fine_gray_matches_cmprsk_crr() {
    use bonemet::stats::fine_gray::fine_gray;
    let r = reference("mgus2_crr.json");
    let rows = mgus2();
    let t: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let s: Vec<u32> = rows.iter().map(|r| r.1).collect();
    let x = vec![
        rows.iter().map(|r| r.2).collect::<Vec<f64>>(),
        rows.iter().map(|r| r.3).collect(),
    ];
    for (name, cause) in [
        ("progression", 1),
        ("death", 2),
        ("progression_tight", 1),
        ("death_tight", 2),
    ] {
        let fit = fine_gray(&t, &s, cause, &x).unwrap();
        let e = &r[name];
        assert!(fit.converged, "{name}: {fit:?}");
        assert_eq!(fit.n as u64, e["n"].as_u64().unwrap());
        for j in 0..2 {
            let what = |k: &str| format!("{name} term {j} {k}");
            close(fit.coef[j], e["coef"][j].as_f64().unwrap(), &what("coef"));
            close(fit.se[j], e["se"][j].as_f64().unwrap(), &what("se"));
            close(fit.z[j], e["z"][j].as_f64().unwrap(), &what("z"));
            close(fit.p[j], e["p"][j].as_f64().unwrap(), &what("p"));
            let (shr, lower, upper) = fit.hazard_ratio(j, 0.95);
            close(shr, e["shr"][j].as_f64().unwrap(), &what("shr"));
            close(lower, e["shr_lower"][j].as_f64().unwrap(), &what("lower"));
            close(upper, e["shr_upper"][j].as_f64().unwrap(), &what("upper"));
            for k in 0..2 {
                close(
                    fit.vcov[j][k],
                    e["var"][j][k].as_f64().unwrap(),
                    &what(&format!("var {k}")),
                );
            }
        }
        close(fit.loglik, e["loglik"].as_f64().unwrap(), name);
        close(fit.loglik_null, e["loglik_null"].as_f64().unwrap(), name);
    }
}

/// Without competing events the Fine–Gray model is the Cox model with Breslow ties (every
/// censoring weight drops out): same coefficients and log-likelihoods, on survival::lung.
#[test]
fn fine_gray_without_competing_events_is_breslow_cox() {
    use bonemet::stats::cox::{coxph, Ties};
    use bonemet::stats::fine_gray::fine_gray;
    let rows = lung();
    let t: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let dead: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let status: Vec<u32> = dead.iter().map(|&d| u32::from(d)).collect();
    let x = vec![rows.iter().map(|r| r.2 as f64).collect::<Vec<f64>>()];
    let cox = coxph(&t, &dead, None, &x, None, Ties::Breslow).unwrap();
    let fg = fine_gray(&t, &status, 1, &x).unwrap();
    assert_eq!(fg.competing, 0);
    close(fg.coef[0], cox.coef[0], "coef");
    close(fg.loglik, cox.loglik, "loglik");
    close(fg.loglik_null, cox.loglik_null, "loglik_null");
    // An event of another cause code makes the model differ.
    let mut other = status.clone();
    other[0] = 2;
    let moved = fine_gray(&t, &other, 1, &x).unwrap();
    assert_eq!(moved.competing, 1);
    assert_ne!(moved.coef[0], fg.coef[0]);
    // No event of the cause: a typed error, not a NaN fit.
    let none = vec![0u32; t.len()];
    assert!(fine_gray(&t, &none, 1, &x).is_err());
}

/// `bonemet survival --competing-value` on survival::mgus2 reproduces `cuminc(etime, event,
/// group = sex)` with `timepoints(fit, c(60, 120, 240, 360))` (the event's rows), its Gray's
/// test, and `crr(etime, event, cbind(age, male), failcode = 1)` (the factor sex coded against
/// F gives the same design); a time after the last observation is null, as timepoints' NA.
#[test]
fn the_survival_command_writes_competing_risks_with_cmprsks_numbers() {
    let mgus2_csv = data("reference/mgus2.csv");
    let j = survival_json(&[
        mgus2_csv.to_str().unwrap(),
        "--time",
        "etime",
        "--event",
        "event",
        "--competing-value",
        "2",
        "--by",
        "sex",
        "--covariates",
        "age,sex",
        "--factor",
        "sex",
        "--times",
        "60,120,240,360,1000",
    ]);
    assert_eq!(
        (j["events"].as_u64(), j["competing_events"].as_u64()),
        (Some(115), Some(860))
    );
    let cuminc = reference("mgus2_cuminc.json");
    for (g, sex) in ["F", "M"].iter().enumerate() {
        let group = &j["cif"]["groups"][g];
        assert_eq!(group["group"], format!("sex={sex}"));
        let row = cuminc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .position(|name| name == &format!("{sex} 1"))
            .unwrap();
        for k in 0..4 {
            let at = &group["at_times"][k];
            close(
                at["estimate"].as_f64().unwrap(),
                cuminc["est"][row][k].as_f64().unwrap(),
                &format!("{sex} estimate {k}"),
            );
            close(
                at["variance"].as_f64().unwrap(),
                cuminc["var"][row][k].as_f64().unwrap(),
                &format!("{sex} variance {k}"),
            );
        }
        assert!(group["at_times"][4]["estimate"].is_null());
    }
    let tests = &cuminc["tests"];
    let k = tests["cause"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "1")
        .unwrap();
    let gray = &j["cif"]["gray_test"];
    close(
        gray["chisq"].as_f64().unwrap(),
        tests["stat"][k].as_f64().unwrap(),
        "gray chisq",
    );
    close(
        gray["p"].as_f64().unwrap(),
        tests["pv"][k].as_f64().unwrap(),
        "gray p",
    );
    let crr = &reference("mgus2_crr.json")["progression_tight"];
    for (t, term) in ["age", "sex=M"].iter().enumerate() {
        let got = &j["fine_gray"]["terms"][t];
        assert_eq!(got["term"], *term);
        for (key, r_key) in [
            ("coef", "coef"),
            ("shr", "shr"),
            ("se", "se"),
            ("z", "z"),
            ("p", "p"),
            ("shr_lower", "shr_lower"),
            ("shr_upper", "shr_upper"),
        ] {
            close(
                got[key].as_f64().unwrap(),
                crr[r_key][t].as_f64().unwrap(),
                &format!("fine_gray {term} {key}"),
            );
        }
    }
    assert_eq!(j["warnings"].as_array().map(Vec::len), Some(0));
}

/// R's warnings reach the JSON and stderr: no row with the event value, and a Cox
/// coefficient that runs off to infinity (every event has x = 1, every censored row x = 0:
/// coxph warns "Loglik converged before variable 1; coefficient may be infinite").
#[test]
fn the_survival_command_warns_as_r_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monotone.csv");
    let mut text = String::from("time,status,x\n");
    for k in 0..20 {
        let (status, x) = if k % 2 == 0 { (1, 1) } else { (0, 0) };
        text.push_str(&format!("{},{status},{x}\n", k + 1));
    }
    std::fs::write(&path, text).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "survival",
            path.to_str().unwrap(),
            "--time",
            "time",
            "--event",
            "status",
        ];
        args.extend_from_slice(extra);
        let out = crate::util::bonemet(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        (j, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (j, stderr) = run(&["--covariates", "x"]);
    let warnings = j["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("x; coefficient may be infinite"));
    assert!(stderr.contains("coefficient may be infinite"), "{stderr}");
    let (j, _) = run(&["--event-value", "2"]);
    assert_eq!(j["events"], 0);
    assert!(j["warnings"][0]
        .as_str()
        .unwrap()
        .contains("no row has the event value '2' in status (values: 0, 1)"));
}

/// Competing risks by hand. 5 subjects: times 1..5, status event, competing, censored, event,
/// censored (the example checked against `cuminc(c(1,2,3,4,5), c(1,2,0,1,0))`: F = 0.2 at 1,
/// 0.5 at 4, variance 0.04 then 0.115625; NA after 5). All censored: F stays 0. One subject:
/// F jumps to 1. Every time tied: one step to the cause's share.
#[test]
fn competing_risks_small_cases_by_hand() {
    use bonemet::stats::cuminc::cumulative_incidence;
    use bonemet::stats::fine_gray::fine_gray;
    let t = [1.0, 2.0, 3.0, 4.0, 5.0];
    let f = cumulative_incidence(&t, &[1, 2, 0, 1, 0], 1).unwrap();
    assert_eq!(f.times, vec![1.0, 4.0]);
    close(f.estimate[0], 0.2, "F(1)");
    close(f.estimate[1], 0.5, "F(4)");
    close(f.variance[0], 0.04, "var(1)");
    close(f.variance[1], 0.115625, "var(4)");
    assert_eq!(f.at(0.5), Some((0.0, 0.0)));
    assert_eq!(f.at(4.5).map(|a| a.0), Some(0.5));
    assert_eq!(f.at(6.0), None, "after the last time, as timepoints' NA");
    let none = cumulative_incidence(&t, &[0; 5], 1).unwrap();
    assert!(none.times.is_empty());
    assert_eq!(none.at(3.0), Some((0.0, 0.0)));
    let one = cumulative_incidence(&[2.0], &[1], 1).unwrap();
    assert_eq!(
        (one.times.clone(), one.estimate.clone()),
        (vec![2.0], vec![1.0])
    );
    let tied = cumulative_incidence(&[3.0; 4], &[1, 2, 1, 0], 1).unwrap();
    assert_eq!(tied.estimate, vec![0.5]);
    // Fine–Gray on five subjects gives a finite fit; a constant covariate is a singular
    // design, reported as an error, never a silent NaN.
    let x = vec![vec![0.0, 1.0, 0.0, 1.0, 0.0]];
    let fit = fine_gray(&t, &[1, 2, 0, 1, 0], 1, &x).unwrap();
    assert!(fit.coef[0].is_finite() && fit.se[0].is_finite());
    let constant = vec![vec![1.0; 5]];
    assert!(fine_gray(&t, &[1, 2, 0, 1, 0], 1, &constant).is_err());
}

/// Exact Poisson rate intervals as `poisson.test(k, T)$conf.int` (R 4.2.2): k = 47 over
/// 70.41752224503766 person-years, k = 0 over 10, k = 5 over 2.5.
#[test]
fn poisson_rates_match_poisson_test() {
    use bonemet::stats::rate::exact_poisson_rate;
    for (k, t, lower, upper) in [
        (47, 70.41752224503766, 0.490415326556017, 0.887563696478277),
        (0, 10.0, 0.0, 0.368887945411394),
        (5, 2.5, 0.649394556047368, 4.667332831729067),
    ] {
        let r = exact_poisson_rate(k, t, 0.95).unwrap();
        close(r.estimate, k as f64 / t, "rate");
        close(r.lower, lower, &format!("lower {k}/{t}"));
        close(r.upper, upper, &format!("upper {k}/{t}"));
    }
    assert!(exact_poisson_rate(1, 0.0, 0.95).is_err());
}

/// A Cox fit's coefficients, model-based SEs and log-likelihoods against R's: `expected` holds
/// `coef`, `se` and `loglik` (at β = 0, then fitted) as the reference scripts write them.
fn close_to_coxph(fit: &bonemet::stats::cox::CoxFit, expected: &Value, what: &str) {
    let value = |v: &Value| v.as_f64().unwrap();
    for j in 0..fit.coef.len() {
        close(
            fit.coef[j],
            value(&expected["coef"][j]),
            &format!("{what} coef {j}"),
        );
        close(
            fit.se[j],
            value(&expected["se"][j]),
            &format!("{what} se {j}"),
        );
    }
    close(
        fit.loglik_null,
        value(&expected["loglik"][0]),
        &format!("{what} loglik null"),
    );
    close(
        fit.loglik,
        value(&expected["loglik"][1]),
        &format!("{what} loglik"),
    );
}

/// Andersen–Gill models of recurrent events with a cluster-robust variance, as
/// `coxph(Surv(start, stop, event) ~ ... + cluster(id), ties = ...)` fits them on survival's
/// bladder2 (rx + number + size) and cgd (treat + sex + age, strata(hos)), Efron and Breslow
/// ties (tests/reference/survival_recurrent.R).
#[test]
fn andersen_gill_robust_variance_matches_coxph_cluster() {
    use bonemet::stats::cox::{coxph_with, CoxOptions, Ties};
    let r = reference("recurrent.json");
    let value = |v: &Value| v.as_f64().unwrap();
    let column = |data: &Value, name: &str| floats(&data[name]);
    let cases = [
        (
            "bladder2",
            ["start", "stop", "event"],
            ["rx", "number", "size"],
            None,
        ),
        (
            "cgd",
            ["tstart", "tstop", "status"],
            ["treat", "sex", "age"],
            Some("hos"),
        ),
    ];
    for (name, [start, stop, event], terms, strata) in cases {
        let data = &r[name]["data"];
        let entry = column(data, start);
        let time = column(data, stop);
        let event: Vec<bool> = column(data, event).iter().map(|&e| e == 1.0).collect();
        let cluster: Vec<usize> = column(data, "id").iter().map(|&v| v as usize).collect();
        let strata: Option<Vec<usize>> =
            strata.map(|s| column(data, s).iter().map(|&v| v as usize).collect());
        let covariates: Vec<Vec<f64>> = terms.iter().map(|t| column(data, t)).collect();
        for (key, ties) in [("efron", Ties::Efron), ("breslow", Ties::Breslow)] {
            let expected = &r[name][key];
            let options = CoxOptions {
                cluster: Some(&cluster),
                ..CoxOptions::new(ties)
            };
            let fit = coxph_with(
                &time,
                &event,
                Some(&entry),
                &covariates,
                strata.as_deref(),
                options,
            )
            .unwrap();
            close_to_coxph(&fit, expected, &format!("{name} {key}"));
            let robust = fit.robust.as_ref().unwrap();
            for j in 0..terms.len() {
                close(
                    robust.se[j],
                    value(&expected["robust_se"][j]),
                    &format!("{name} {key} {} robust se", terms[j]),
                );
            }
            close(
                robust.wald_test.chisq,
                value(&expected["robust_wald"]),
                &format!("{name} {key} robust Wald"),
            );
            let ids: std::collections::BTreeSet<usize> = cluster.iter().copied().collect();
            assert_eq!(robust.clusters, ids.len());
        }
    }
}

/// `bonemet survival --entry start --cluster id` on bladder2 reproduces
/// `coxph(Surv(start, stop, event) ~ rx + number + size + cluster(id))`: model-based and
/// robust SEs, z and p from the robust SE, and the robust Wald test
/// (tests/reference/survival_recurrent.R).
#[test]
fn the_survival_command_fits_andersen_gill_with_clusters() {
    let csv = data("reference/bladder2.csv");
    let j = survival_json(&[
        csv.to_str().unwrap(),
        "--entry",
        "start",
        "--time",
        "stop",
        "--event",
        "event",
        "--covariates",
        "rx,number,size",
        "--cluster",
        "id",
    ]);
    let r = &reference("recurrent.json")["bladder2"]["efron"];
    let value = |v: &Value| v.as_f64().unwrap();
    let cox = &j["cox"];
    assert_eq!(cox["clusters"], 85);
    for (k, term) in ["rx", "number", "size"].iter().enumerate() {
        let t = &cox["terms"][k];
        assert_eq!(t["term"], *term);
        close(value(&t["coef"]), value(&r["coef"][k]), "coef");
        close(value(&t["se"]), value(&r["se"][k]), "se");
        close(
            value(&t["robust_se"]),
            value(&r["robust_se"][k]),
            "robust se",
        );
        close(
            value(&t["z"]),
            value(&r["coef"][k]) / value(&r["robust_se"][k]),
            "robust z",
        );
    }
    close(
        value(&cox["wald_test"]["chisq"]),
        value(&r["robust_wald"]),
        "robust Wald",
    );
    // Clusters give the Cox model its robust variance: without covariates, an error.
    survival_refused(&[
        csv.to_str().unwrap(),
        "--time",
        "stop",
        "--event",
        "event",
        "--cluster",
        "id",
    ]);
}

/// Cox models on heavily tied exit times (survival's mgus2 with follow-up in whole years:
/// 32 distinct times for 1,349 patients), where the partial likelihood is summed tied run by
/// tied run: `coxph(Surv([entry,] year, death) ~ ..., ties = ...)` with Efron and Breslow
/// ties, strata and delayed entry, and `concordance(fit)` (tests/reference/survival_tied.R).
#[test]
fn cox_on_heavily_tied_times_matches_coxph() {
    use bonemet::stats::cox::{coxph, Ties};
    let r = reference("mgus2_tied_cox.json");
    let data = &r["data"];
    let column = |name: &str| floats(&data[name]);
    let (time, entry) = (column("year"), column("entry"));
    let event: Vec<bool> = column("death").iter().map(|&d| d == 1.0).collect();
    let male: Vec<usize> = column("male").iter().map(|&m| m as usize).collect();
    let with_sex = ["age", "male", "hgb", "creat"].map(column).to_vec();
    let without_sex = ["age", "hgb", "creat"].map(column).to_vec();
    let cases = [
        ("efron", None, &with_sex, None, Ties::Efron),
        ("strata_efron", None, &without_sex, Some(&male), Ties::Efron),
        (
            "strata_breslow",
            None,
            &without_sex,
            Some(&male),
            Ties::Breslow,
        ),
        ("entry_efron", Some(&entry), &with_sex, None, Ties::Efron),
    ];
    for (key, entry, covariates, strata, ties) in cases {
        let expected = &r[key];
        let fit = coxph(
            &time,
            &event,
            entry.map(|e| e.as_slice()),
            covariates,
            strata.map(|s| s.as_slice()),
            ties,
        )
        .unwrap();
        assert!(fit.converged, "{key}: converged");
        let value = |v: &Value| v.as_f64().unwrap();
        close_to_coxph(&fit, expected, key);
        close(
            fit.score_test.chisq,
            value(&expected["score"]),
            &format!("{key} score test"),
        );
        close(
            fit.wald_test.chisq,
            value(&expected["wald"]),
            &format!("{key} Wald test"),
        );
        let c = fit.concordance.unwrap();
        let cr = &expected["concordance"];
        let counts: Vec<u64> = (0..4).map(|k| cr["counts"][k].as_u64().unwrap()).collect();
        assert_eq!(
            vec![c.concordant, c.discordant, c.tied_x, c.tied_y],
            counts,
            "{key} concordance counts"
        );
        close(c.estimate, value(&cr["C"]), &format!("{key} C"));
        close(c.std_err, value(&cr["se"]), &format!("{key} se(C)"));
    }
}

/// A Cox model on collinear covariates cannot be estimated: exit 2, and the message says so
/// with the estimator's own error, naming the covariates (not an empty list, not a setting).
#[test]
fn a_singular_cox_design_names_its_covariates() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("collinear.csv");
    let mut text = String::from("time,status,dose,twice\n");
    for i in 0..40 {
        let dose = (i % 5) as f64;
        text.push_str(&format!(
            "{},{},{dose},{}\n",
            10 + i,
            i % 3 == 0,
            2.0 * dose
        ));
    }
    std::fs::write(&table, text.replace("true", "1").replace("false", "0")).unwrap();
    let stderr = survival_refused(&[
        table.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--covariates",
        "dose,twice",
    ]);
    assert!(
        stderr.contains("cox: cannot estimate: singular design"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dose") && stderr.contains("twice"),
        "{stderr}"
    );
}
