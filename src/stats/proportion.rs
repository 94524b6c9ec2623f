//! A proportion and its 95% intervals as R gives them: Wilson score (`prop.test(x, n,
//! correct = FALSE)`), Wilson with continuity correction (`prop.test`, R's default) and
//! Clopper–Pearson exact (`binom.test`).

use statrs::function::beta::beta_reg;

use super::km::z_for;
use super::StatsError;

/// A proportion with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    /// Successes.
    pub successes: u64,
    /// Trials.
    pub trials: u64,
    /// successes / trials.
    pub estimate: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

fn check(successes: u64, trials: u64, conf_level: f64) -> Result<f64, StatsError> {
    if trials == 0 || successes > trials {
        return Err(StatsError::Empty);
    }
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::ConfLevel(conf_level));
    }
    Ok(successes as f64 / trials as f64)
}

/// Wilson score interval; `continuity` applies prop.test's Yates correction
/// (min(0.5, |x − n/2|), as prop.test computes it against p = 0.5).
pub fn wilson(
    successes: u64,
    trials: u64,
    conf_level: f64,
    continuity: bool,
) -> Result<Proportion, StatsError> {
    let estimate = check(successes, trials, conf_level)?;
    let (x, n) = (successes as f64, trials as f64);
    let z = z_for(conf_level);
    let yates = if continuity {
        (x - n * 0.5).abs().min(0.5)
    } else {
        0.0
    };
    let z22n = z * z / (2.0 * n);
    let bound = |p_c: f64, sign: f64| {
        (p_c + z22n + sign * z * (p_c * (1.0 - p_c) / n + z22n / (2.0 * n)).sqrt())
            / (1.0 + 2.0 * z22n)
    };
    let p_upper = estimate + yates / n;
    let p_lower = estimate - yates / n;
    let upper = if p_upper >= 1.0 {
        1.0
    } else {
        bound(p_upper, 1.0)
    };
    let lower = if p_lower <= 0.0 {
        0.0
    } else {
        bound(p_lower, -1.0)
    };
    Ok(Proportion {
        successes,
        trials,
        estimate,
        lower,
        upper,
    })
}

/// Clopper–Pearson exact interval: the Beta quantiles, found as roots of the regularized
/// incomplete beta function to machine precision.
pub fn clopper_pearson(
    successes: u64,
    trials: u64,
    conf_level: f64,
) -> Result<Proportion, StatsError> {
    let estimate = check(successes, trials, conf_level)?;
    let alpha = 1.0 - conf_level;
    let (x, n) = (successes as f64, trials as f64);
    // Quantile q of Beta(a, b): the root of I_p(a, b) = q (increasing in p).
    let beta_quantile =
        |a: f64, b: f64, q: f64| super::bisect_increasing(0.0, 1.0, |p| beta_reg(a, b, p) - q);
    let lower = if successes == 0 {
        0.0
    } else {
        beta_quantile(x, n - x + 1.0, alpha / 2.0)
    };
    let upper = if successes == trials {
        1.0
    } else {
        beta_quantile(x + 1.0, n - x, 1.0 - alpha / 2.0)
    };
    Ok(Proportion {
        successes,
        trials,
        estimate,
        lower,
        upper,
    })
}
