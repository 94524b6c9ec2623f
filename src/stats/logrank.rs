//! The G-rho family of tests between survival curves, as `survival::survdiff` computes it:
//! rho = 0 is the log-rank test, rho = 1 the Peto & Peto modification of the Gehan–Wilcoxon
//! test (weights S(t−)^rho, S the Kaplan–Meier curve of the pooled sample within stratum);
//! k groups; stratified (observed, expected and variance summed over strata). The statistic is
//! (O − E)ᵀ V⁻¹ (O − E) on all groups but the first, with df = (groups with E > 0) − 1.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::StatsError;

/// A G-rho test.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRank {
    /// Weighted observed events per group.
    pub observed: Vec<f64>,
    /// Weighted expected events per group.
    pub expected: Vec<f64>,
    /// Variance–covariance of O − E.
    pub variance: Vec<Vec<f64>>,
    /// Chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value.
    pub p: f64,
}

/// `survdiff(Surv(time, event) ~ group + strata(strata), rho = rho)`. `group[i]` and
/// `strata[i]` are 0-based codes.
pub fn survdiff(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: Option<&[usize]>,
    rho: f64,
) -> Result<LogRank, StatsError> {
    let n = time.len();
    if event.len() != n || group.len() != n || strata.is_some_and(|s| s.len() != n) {
        return Err(StatsError::LengthMismatch);
    }
    if n == 0 {
        return Err(StatsError::Empty);
    }
    if time.iter().any(|t| !t.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let k = group.iter().max().map_or(0, |g| g + 1);
    let mut observed = vec![0.0; k];
    let mut expected = vec![0.0; k];
    let mut variance = vec![vec![0.0; k]; k];
    // One sort by (stratum, time), then a sweep per stratum from the largest time down, so
    // the risk set per group grows as time decreases.
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let order = super::order_by_stratum_and_time(time, strata, false);
    // The rows in sweep order, packed (time, group, event): the sweeps then read memory in
    // order instead of three scattered reads per row.
    let sorted: Vec<(f64, usize, bool)> = {
        use rayon::prelude::*;
        order
            .par_iter()
            .map(|&i| (time[i], group[i], event[i]))
            .collect()
    };
    let mut start = 0;
    while start < n {
        let s = stratum(order[start]);
        let end = start + order[start..].partition_point(|&i| stratum(i) == s);
        let rows = &sorted[start..end];
        // Forward sweep for the pooled KM (weights need S(t−)); risk sets from counts.
        let mut at_risk = vec![0.0; k];
        for &(_, g, _) in rows {
            at_risk[g] += 1.0;
        }
        let mut pooled_surv: f64 = 1.0;
        let mut deaths = vec![0.0; k];
        let mut a = 0;
        while a < rows.len() {
            let t = rows[a].0;
            let mut b = a;
            deaths.fill(0.0);
            while b < rows.len() && rows[b].0 == t {
                if rows[b].2 {
                    deaths[rows[b].1] += 1.0;
                }
                b += 1;
            }
            let d: f64 = deaths.iter().sum();
            let total: f64 = at_risk.iter().sum();
            if d > 0.0 {
                let w = if rho == 0.0 {
                    1.0
                } else {
                    pooled_surv.powf(rho)
                };
                for g in 0..k {
                    let share = at_risk[g] / total;
                    observed[g] += w * deaths[g];
                    expected[g] += w * d * share;
                    if total > 1.0 {
                        let factor = w * w * d * (total - d) / (total - 1.0);
                        for h in 0..k {
                            let kron = if g == h { 1.0 } else { 0.0 };
                            variance[g][h] += factor * share * (kron - at_risk[h] / total);
                        }
                    }
                }
                pooled_surv *= 1.0 - d / total;
            }
            for &(_, g, _) in &rows[a..b] {
                at_risk[g] -= 1.0;
            }
            a = b;
        }
        start = end;
    }
    let with_expected = expected.iter().filter(|e| **e > 0.0).count();
    if with_expected < 2 {
        return Err(StatsError::TooFewGroups);
    }
    let df = with_expected - 1;
    // Drop the first group (as survdiff does), solve V x = (O − E).
    let m = k - 1;
    let v = DMatrix::from_fn(m, m, |r, c| variance[r + 1][c + 1]);
    let diff = DVector::from_fn(m, |r, _| observed[r + 1] - expected[r + 1]);
    let solved = v
        .clone()
        .lu()
        .solve(&diff)
        .or_else(|| v.pseudo_inverse(1e-10).ok().map(|inv| &inv * &diff))
        .ok_or(StatsError::TooFewGroups)?;
    let chisq = solved.dot(&diff);
    let p = ChiSquared::new(df as f64)
        .map(|dist| dist.sf(chisq))
        .map_err(|_| StatsError::TooFewGroups)?;
    Ok(LogRank {
        observed,
        expected,
        variance,
        chisq,
        df,
        p,
    })
}
