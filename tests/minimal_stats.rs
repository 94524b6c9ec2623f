//! The minimal estimators the synthetic-cohort recovery test needs, written here on purpose:
//! the recovery test checks the generator, not the statistics module. Wilson intervals for
//! proportions, Woolf intervals for odds ratios, a Kaplan–Meier
//! median with the interval `survfit` reports (Greenwood variance, log scale), the
//! Aalen–Johansen cumulative incidence at a horizon (delta-method variance), and the Cox
//! hazard ratio of one binary covariate (Breslow ties, Wald interval).

/// 1.96: the two-sided 95% normal quantile.
pub const Z95: f64 = 1.959963984540054;

/// The two-sided normal quantile for confidence `level` (0.95 → 1.96).
pub fn z_for(level: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// A proportion with its Wilson interval (normal quantile `z`).
pub fn wilson(successes: usize, n: usize, z: f64) -> (f64, f64, f64) {
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (p, centre - half, centre + half)
}

/// The odds ratio of a 2×2 table (a/b exposed events/non-events, c/d unexposed) with its
/// Woolf interval.
pub fn woolf(a: usize, b: usize, c: usize, d: usize, z: f64) -> (f64, f64, f64) {
    let (a, b, c, d) = (a as f64, b as f64, c as f64, d as f64);
    let or = a * d / (b * c);
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    (or, or * (-z * se).exp(), or * (z * se).exp())
}

/// Kaplan–Meier median with its interval as `survfit` gives it (log-scale CI, quantile `z`):
/// the median is the first time S ≤ 0.5; the bounds are the first times the lower and upper
/// confidence limits reach 0.5. `None` where never reached.
pub fn km_median(mut data: Vec<(f64, bool)>, z: f64) -> (Option<f64>, Option<f64>, Option<f64>) {
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = data.len() as f64;
    let (mut s, mut greenwood) = (1.0f64, 0.0f64);
    let (mut median, mut lower, mut upper) = (None, None, None);
    let mut i = 0;
    while i < data.len() {
        let t = data[i].0;
        let (mut deaths, mut leaving) = (0.0, 0.0);
        while i < data.len() && data[i].0 == t {
            deaths += f64::from(u8::from(data[i].1));
            leaving += 1.0;
            i += 1;
        }
        if deaths > 0.0 {
            s *= 1.0 - deaths / at_risk;
            if at_risk > deaths {
                greenwood += deaths / (at_risk * (at_risk - deaths));
            }
            let se_log = greenwood.sqrt();
            let (lo, hi) = (s * (-z * se_log).exp(), (s * (z * se_log).exp()).min(1.0));
            if median.is_none() && s <= 0.5 {
                median = Some(t);
            }
            // The lower bound of the median is where the lower limit of S reaches 0.5.
            if lower.is_none() && lo <= 0.5 {
                lower = Some(t);
            }
            if upper.is_none() && hi <= 0.5 {
                upper = Some(t);
            }
        }
        at_risk -= leaving;
    }
    (median, lower, upper)
}

/// Aalen–Johansen cumulative incidence of cause 1 at `horizon` (right-continuous: events at
/// the horizon count), with the delta-method (Greenwood-type) variance and a linear interval
/// at quantile `z`. `data`: (time, status) with status 0 censored, 1 the event, 2 competing;
/// at one time every subject is at risk (events count before censorings).
pub fn aalen_johansen(mut data: Vec<(f64, u8)>, horizon: f64, z: f64) -> (f64, f64, f64) {
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Per event time: (n at risk, d1, all events d, S just before, F after).
    let mut steps: Vec<(f64, f64, f64, f64, f64)> = Vec::new();
    let (mut at_risk, mut s, mut f) = (data.len() as f64, 1.0f64, 0.0f64);
    let mut i = 0;
    while i < data.len() && data[i].0 <= horizon {
        let t = data[i].0;
        let (mut d1, mut d, mut leaving) = (0.0, 0.0, 0.0);
        while i < data.len() && data[i].0 == t {
            d1 += f64::from(u8::from(data[i].1 == 1));
            d += f64::from(u8::from(data[i].1 != 0));
            leaving += 1.0;
            i += 1;
        }
        if d > 0.0 {
            let before = s;
            f += before * d1 / at_risk;
            s *= 1.0 - d / at_risk;
            steps.push((at_risk, d1, d, before, f));
        }
        at_risk -= leaving;
    }
    let mut var = 0.0;
    for &(n, d1, d, before, f_j) in &steps {
        let gap = f - f_j;
        if n > d {
            var += gap * gap * d / (n * (n - d));
        }
        var += before * before * d1 * (n - d1) / (n * n * n);
        var -= 2.0 * gap * before * d1 * (n - d1) / (n * n * (n - d).max(1.0));
    }
    let se = var.max(0.0).sqrt();
    (f, f - z * se, f + z * se)
}

/// Cox hazard ratio of a binary covariate (Breslow ties) with its Wald interval at quantile
/// `z`: `data` is (time, event, exposed).
pub fn cox_binary(mut data: Vec<(f64, bool, bool)>, z: f64) -> (f64, f64, f64) {
    // Decreasing time: the risk set of a time is everyone seen so far, ties included.
    data.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut beta = 0.0f64;
    let mut info = 1.0;
    for _ in 0..50 {
        let r = beta.exp();
        let (mut n1, mut n0, mut score) = (0.0, 0.0, 0.0);
        info = 0.0;
        let mut i = 0;
        while i < data.len() {
            let t = data[i].0;
            let (mut d, mut dx) = (0.0, 0.0);
            while i < data.len() && data[i].0 == t {
                let (_, event, x) = data[i];
                if x {
                    n1 += 1.0;
                } else {
                    n0 += 1.0;
                }
                if event {
                    d += 1.0;
                    dx += f64::from(u8::from(x));
                }
                i += 1;
            }
            if d > 0.0 {
                let p = n1 * r / (n1 * r + n0);
                score += dx - d * p;
                info += d * p * (1.0 - p);
            }
        }
        let step = score / info;
        beta += step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    let se = 1.0 / info.sqrt();
    (beta.exp(), (beta - z * se).exp(), (beta + z * se).exp())
}

#[test]
fn wilson_and_woolf_match_hand_values() {
    // R: prop.test(135, 250, correct = FALSE)$conf.int (tests/data/reference/epi_2x2_logistic.json).
    let (p, lo, hi) = wilson(135, 250, Z95);
    assert!((z_for(0.95) - Z95).abs() < 1e-12);
    assert!((p - 0.54).abs() < 1e-12);
    assert!((lo - 0.4780800855664607).abs() < 1e-9, "{lo}");
    assert!((hi - 0.6007092504739038).abs() < 1e-9, "{hi}");
    // The same file's 2×2 table 135/115 vs 310/690: Woolf interval from R.
    let (or, lo, hi) = woolf(135, 115, 310, 690, Z95);
    assert!((or - 135.0 * 690.0 / (115.0 * 310.0)).abs() < 1e-12);
    assert!((lo - 1.9698166978393186).abs() < 1e-9, "{lo}");
    assert!((hi - 3.465938366203591).abs() < 1e-9, "{hi}");
}

#[test]
fn km_median_of_a_hand_example() {
    // Deaths at 1, 2, 3, 4: S = .75, .5 (median 2), .25, 0.
    let (m, _, _) = km_median(
        vec![(1.0, true), (2.0, true), (3.0, true), (4.0, true)],
        Z95,
    );
    assert_eq!(m, Some(2.0));
    // A censored time does not step: S(2) = 1 · (1 − 1/3)... with 3 at risk after censoring at 1.
    let (m, _, _) = km_median(
        vec![(1.0, false), (2.0, true), (3.0, true), (4.0, false)],
        Z95,
    );
    assert_eq!(m, Some(3.0));
}

#[test]
fn aalen_johansen_and_cox_of_hand_examples() {
    // No censoring: the cumulative incidence is the share with the event by the horizon.
    let data = vec![(1.0, 1), (2.0, 2), (3.0, 1), (4.0, 0), (5.0, 1)];
    let (f, lo, hi) = aalen_johansen(data.clone(), 3.0, Z95);
    assert!((f - 0.4).abs() < 1e-12);
    // Its variance is then the binomial one, p(1 − p)/n.
    let se = (0.4f64 * 0.6 / 5.0).sqrt();
    assert!((hi - f - Z95 * se).abs() < 1e-9 && (f - lo - Z95 * se).abs() < 1e-9);
    // A censoring at 4 before the event at 5: S(4) = 0.4, one at risk, F(5) = 0.4 + 0.4.
    assert!((aalen_johansen(data, 5.0, Z95).0 - 0.8).abs() < 1e-12);
    // Two groups with the same hazards: HR 1; with events only among the exposed, HR > 1.
    let same: Vec<(f64, bool, bool)> = (1..=10)
        .flat_map(|t| [(f64::from(t), true, true), (f64::from(t), true, false)])
        .collect();
    let (hr, lo, hi) = cox_binary(same, Z95);
    assert!((hr - 1.0).abs() < 1e-9 && lo < 1.0 && hi > 1.0);
}
