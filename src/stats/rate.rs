//! Event rates per unit of exposure (person-time) with the exact Poisson interval, as R's
//! `poisson.test(k, T)$conf.int`: [χ²(α/2; 2k)/2, χ²(1 − α/2; 2k + 2)/2] / T, the lower limit
//! 0 when k = 0.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::StatsError;

/// A rate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Events / exposure.
    pub estimate: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// The rate of `events` over `exposure` with its exact Poisson interval at `conf_level`.
pub fn exact_poisson_rate(events: u64, exposure: f64, conf_level: f64) -> Result<Rate, StatsError> {
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::ConfLevel(conf_level));
    }
    if !(exposure.is_finite() && exposure > 0.0) {
        return Err(StatsError::NotFinite);
    }
    let alpha = 1.0 - conf_level;
    let k = events as f64;
    let quantile = |df: f64, q: f64| {
        ChiSquared::new(df)
            .map(|c| c.inverse_cdf(q))
            .map_err(|_| StatsError::NotFinite)
    };
    let lower = if events == 0 {
        0.0
    } else {
        quantile(2.0 * k, alpha / 2.0)? / 2.0
    };
    let upper = quantile(2.0 * k + 2.0, 1.0 - alpha / 2.0)? / 2.0;
    Ok(Rate {
        estimate: k / exposure,
        lower: lower / exposure,
        upper: upper / exposure,
    })
}
