//! Restricted mean survival time up to a horizon τ, as `print(survfit(...), rmean = τ)`
//! computes it (survival's `survmean`): the area under the Kaplan–Meier step function on
//! [0, τ], and its SE from the Greenwood-type sum Σ A_j² d_j / (n_j (n_j − d_j)) over event
//! times t_j ≤ τ, with A_j the area from t_j to τ (no small-sample correction).

use super::km::KaplanMeier;
use super::StatsError;

/// A restricted mean with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rmst {
    /// The horizon τ.
    pub tau: f64,
    /// ∫₀^τ S(t) dt.
    pub estimate: f64,
    /// Its standard error.
    pub std_err: f64,
}

/// RMST of a fitted curve up to `tau`.
pub fn rmst(fit: &KaplanMeier, tau: f64) -> Result<Rmst, StatsError> {
    if !(tau > 0.0 && tau.is_finite()) {
        return Err(StatsError::Horizon(tau));
    }
    // Step function: S = 1 on [0, t_1), then the curve's values; only drops matter.
    let steps: Vec<(f64, f64, f64, f64)> = fit
        .curve
        .iter()
        .filter(|p| p.n_event > 0.0 && p.time <= tau)
        .map(|p| (p.time, p.survival, p.n_event, p.n_risk))
        .collect();
    // Area from each step time to tau, computed backwards.
    let mut area_after = vec![0.0; steps.len()];
    let mut acc = 0.0;
    for k in (0..steps.len()).rev() {
        let end = if k + 1 < steps.len() {
            steps[k + 1].0
        } else {
            tau
        };
        acc += steps[k].1 * (end - steps[k].0);
        area_after[k] = acc;
    }
    let first = steps.first().map_or(tau, |s| s.0);
    let estimate = first.min(tau) + area_after.first().copied().unwrap_or(0.0);
    let variance: f64 = steps
        .iter()
        .zip(&area_after)
        .filter(|((_, _, d, n), _)| n > d)
        .map(|((_, _, d, n), a)| a * a * d / (n * (n - d)))
        .sum();
    Ok(Rmst {
        tau,
        estimate,
        std_err: variance.sqrt(),
    })
}
