//! Solving the model's free constants so that the published figures hold exactly in
//! expectation: logistic intercepts of bone metastases at diagnosis per subgroup (over the 16
//! covariate cells), baseline death rates per subgroup × bone status (exponential mixtures
//! over visceral status), and the SRE "proneness" that reproduces F9's shares and F11's RR.

use super::params::Params;

/// Root of an increasing function on [lo, hi] by bisection (to machine precision).
pub fn bisect(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64, target: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The logistic function.
pub fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The covariates of the bone logit, as independent binary variables with their shares:
/// male, tumour > 20 mm, N1–N3, a visceral site drawn.
pub fn covariate_cells(p: &Params) -> Vec<([bool; 4], f64)> {
    let size_over_20 = (-(20.0 - p.tumor_size_min_mm) / p.tumor_size_mean_excess_mm).exp();
    let nodes = p.n_stage[1] + p.n_stage[2] + p.n_stage[3];
    let shares = [p.male, size_over_20, nodes, p.visceral_at_diagnosis];
    (0..16u32)
        .map(|bits| {
            let x = [bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0];
            let w = x
                .iter()
                .zip(shares)
                .map(|(&on, s)| if on { s } else { 1.0 - s })
                .product();
            (x, w)
        })
        .collect()
}

/// The bone logit's covariate part for one cell.
pub fn covariate_logit(p: &Params, x: [bool; 4]) -> f64 {
    let b = [
        p.bone_log_or_male,
        p.bone_log_or_size,
        p.bone_log_or_nodes,
        p.bone_log_or_visceral,
    ];
    x.iter()
        .zip(b)
        .map(|(&on, b)| if on { b } else { 0.0 })
        .sum()
}

/// The intercept making the average bone probability over the cells equal `target`.
pub fn bone_intercept(p: &Params, target: f64) -> f64 {
    let cells = covariate_cells(p);
    bisect(
        -20.0,
        20.0,
        |a| {
            cells
                .iter()
                .map(|(x, w)| w * expit(a + covariate_logit(p, *x)))
                .sum()
        },
        target,
    )
}

/// P(visceral site drawn | bone at diagnosis), for a subgroup's intercept.
pub fn visceral_given_bone(p: &Params, intercept: f64) -> f64 {
    let cells = covariate_cells(p);
    let (mut joint, mut bone) = (0.0, 0.0);
    for (x, w) in &cells {
        let pb = w * expit(intercept + covariate_logit(p, *x));
        bone += pb;
        if x[3] {
            joint += pb;
        }
    }
    joint / bone
}

/// The baseline death rate (per month) that gives an exponential mixture — a share
/// `visceral` with hazard ratio `hr`, the rest without — the median `months`.
pub fn death_rate_for_median(months: f64, visceral: f64, hr: f64) -> f64 {
    // Survival at the median falls as the rate rises: bisect on 1 − S(median).
    bisect(
        1e-9,
        10.0,
        |rate| {
            1.0 - (visceral * (-rate * hr * months).exp()
                + (1.0 - visceral) * (-rate * months).exp())
        },
        0.5,
    )
}

/// SRE proneness: with the per-type probabilities given proneness fixed at `p_t / q`, the
/// share of patients with any SRE is `q · (1 − Π(1 − p_t / q))`; returns the `q` giving
/// `any` (the shares of each type then hold exactly).
pub fn sre_proneness(any: f64, types: &[f64; 4]) -> f64 {
    let max_type = types.iter().copied().fold(0.0, f64::max);
    bisect(
        max_type,
        1.0,
        |q| q * (1.0 - types.iter().map(|t| 1.0 - t / q).product::<f64>()),
        any,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::params::PARAMS;

    #[test]
    fn intercepts_reproduce_the_targets() {
        for target in [0.315, 0.429, 0.538] {
            let a = bone_intercept(&PARAMS, target);
            let mean: f64 = covariate_cells(&PARAMS)
                .iter()
                .map(|(x, w)| w * expit(a + covariate_logit(&PARAMS, *x)))
                .sum();
            assert!((mean - target).abs() < 1e-12);
        }
        let weights: f64 = covariate_cells(&PARAMS).iter().map(|(_, w)| w).sum();
        assert!((weights - 1.0).abs() < 1e-12);
    }

    #[test]
    fn death_rates_reproduce_the_medians() {
        let rate = death_rate_for_median(18.5, 0.6, 1.6);
        let s = 0.6 * (-rate * 1.6 * 18.5f64).exp() + 0.4 * (-rate * 18.5f64).exp();
        assert!((s - 0.5).abs() < 1e-12);
        assert!((death_rate_for_median(10.0, 0.0, 1.6) - 2f64.ln() / 10.0).abs() < 1e-12);
    }

    #[test]
    fn proneness_reproduces_any_sre() {
        let q = sre_proneness(0.48, &PARAMS.sre_types);
        let any = q
            * (1.0
                - PARAMS
                    .sre_types
                    .iter()
                    .map(|t| 1.0 - t / q)
                    .product::<f64>());
        assert!((any - 0.48).abs() < 1e-12);
        assert!(q <= 1.0 && q > 0.34);
    }
}
