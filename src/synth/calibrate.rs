//! Solving the model's free constants so that the published figures hold exactly in
//! expectation: logistic intercepts of bone metastases at diagnosis per subgroup (over the 16
//! covariate cells), baseline death rates per subgroup × bone status (exponential mixtures
//! over visceral status), and the death hazard before metachronous bone metastases that gives
//! the whole course its median (closed form of the two-state process). The SRE hazards and
//! the metachronous bone hazards are calibrated by simulation (docs/synthetic-cohort.md).

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

/// Survival at `t` months of a patient whose death hazard is `d0` until metachronous bone
/// metastases, `d1` after them, the bone hazard `b` starting `delay` months after diagnosis
/// (constant hazards; bone metastases compete with death):
/// S(t) = e^{−d0·δ} [e^{−(d0+b)u} + b/(d0+b−d1) (e^{−d1·u} − e^{−(d0+b)u})], u = t − δ.
pub fn survival_with_bone_progression(t: f64, d0: f64, b: f64, d1: f64, delay: f64) -> f64 {
    if t <= delay {
        return (-d0 * t).exp();
    }
    let u = t - delay;
    let k = d0 + b;
    let after = if (k - d1).abs() < 1e-12 {
        b * u * (-d1 * u).exp()
    } else {
        b / (k - d1) * ((-d1 * u).exp() - (-k * u).exp())
    };
    (-d0 * delay).exp() * ((-k * u).exp() + after)
}

/// The death hazard before bone metastases giving the whole course (metachronous bone
/// metastases and the hazard `d1` after them included) the median `months`.
pub fn death_rate_before_bone(months: f64, b: f64, d1: f64, delay: f64) -> f64 {
    bisect(
        1e-9,
        10.0,
        |d0| 1.0 - survival_with_bone_progression(months, d0, b, d1, delay),
        0.5,
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
    fn the_death_rate_before_bone_reproduces_the_median() {
        // Without a bone hazard it is the exponential rate of the median.
        let d0 = death_rate_before_bone(10.0, 0.0, 0.3, 1.0);
        assert!((d0 - 2f64.ln() / 10.0).abs() < 1e-12);
        // With one, survival at the median is one half, and a worse course after bone
        // metastases needs a lower hazard before them.
        let d0 = death_rate_before_bone(9.8, 0.02, 0.3, 1.0);
        assert!((survival_with_bone_progression(9.8, d0, 0.02, 0.3, 1.0) - 0.5).abs() < 1e-12);
        assert!(d0 < 2f64.ln() / 9.8);
        // The closed form against a crude numerical integration of the two-state process.
        let (d0, b, d1, delay, t) = (0.05, 0.03, 0.2, 1.0, 12.0);
        let steps = 200_000;
        let h = t / steps as f64;
        let (mut before, mut after) = (1.0f64, 0.0f64);
        for i in 0..steps {
            let s = i as f64 * h;
            let bh = if s >= delay { b } else { 0.0 };
            let moved = before * bh * h;
            before -= before * (d0 + bh) * h;
            after += moved - after * d1 * h;
        }
        let closed = survival_with_bone_progression(t, d0, b, d1, delay);
        assert!(
            (before + after - closed).abs() < 1e-4,
            "{} {}",
            before + after,
            closed
        );
    }
}
