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
    // Per stratum, its distinct times in ascending order: counted in one pass when they are
    // whole numbers over a short span, else after one sort by (stratum, time).
    let mut sweep = Sweep {
        k,
        rho,
        observed: &mut observed,
        expected: &mut expected,
        variance: &mut variance,
    };
    if !by_whole_number_times(time, event, group, strata, &mut sweep) {
        by_sorted_times(time, event, group, strata, &mut sweep);
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

/// The G-rho sums over one stratum's distinct times, taken in ascending order.
struct Sweep<'a> {
    k: usize,
    rho: f64,
    observed: &'a mut [f64],
    expected: &'a mut [f64],
    variance: &'a mut [Vec<f64>],
}

impl Sweep<'_> {
    /// Adds one time's terms: `at_risk` per group just before it (the pooled Kaplan–Meier
    /// `pooled_surv` too), `deaths` per group at it.
    fn add_time(&mut self, at_risk: &[f64], deaths: &[f64], pooled_surv: &mut f64) {
        let d: f64 = deaths.iter().sum();
        if d == 0.0 {
            return;
        }
        let total: f64 = at_risk.iter().sum();
        let w = if self.rho == 0.0 {
            1.0
        } else {
            pooled_surv.powf(self.rho)
        };
        for g in 0..self.k {
            let share = at_risk[g] / total;
            self.observed[g] += w * deaths[g];
            self.expected[g] += w * d * share;
            if total > 1.0 {
                let factor = w * w * d * (total - d) / (total - 1.0);
                for (h, (v, r)) in self.variance[g].iter_mut().zip(at_risk).enumerate() {
                    let kron = if g == h { 1.0 } else { 0.0 };
                    *v += factor * share * (kron - r / total);
                }
            }
        }
        *pooled_surv *= 1.0 - d / total;
    }
}

/// Strata × distinct times × groups above which [`by_whole_number_times`] leaves the work to
/// the sort (its counts would outgrow the rows).
const MIN_COUNT_CELLS: usize = 1 << 16;

/// The sweep from counts per (stratum, time, group) made in one pass over the rows, with no
/// sort, when every time is a whole number over a short span (days, say) and the counts are
/// not many more than the rows; `false` (nothing done) otherwise. The counts are whole numbers,
/// exact in f64, so the sums are those of [`by_sorted_times`] bit for bit.
fn by_whole_number_times(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: Option<&[usize]>,
    sweep: &mut Sweep,
) -> bool {
    // (u32 counts: no cell can overflow.)
    if time.len() > u32::MAX as usize {
        return false;
    }
    let Some((low, high)) = super::whole_number_range(time) else {
        return false;
    };
    let k = sweep.k;
    // Whole numbers within 2^53 of each other differ by a whole number, exact in f64; a span
    // beyond the cells' limit is turned away before its buckets are counted.
    let span = high - low;
    let strata_count = strata.and_then(|s| s.iter().max()).map_or(1, |m| m + 1);
    let limit = (2 * time.len()).max(MIN_COUNT_CELLS);
    if span >= limit as f64 {
        return false;
    }
    let times = span as usize + 1;
    let cells = strata_count.saturating_mul(times).saturating_mul(k);
    if cells > limit {
        return false;
    }
    // [rows, deaths] per (stratum, time, group).
    let mut counts = vec![[0u32; 2]; cells];
    for i in 0..time.len() {
        let s = strata.map_or(0, |s| s[i]);
        let cell = (s * times + (time[i] - low) as usize) * k + group[i];
        counts[cell][0] += 1;
        counts[cell][1] += u32::from(event[i]);
    }
    let mut at_risk = vec![0.0; k];
    let mut deaths = vec![0.0; k];
    for stratum in counts.chunks(times * k) {
        at_risk.fill(0.0);
        for at_time in stratum.chunks(k) {
            for (r, c) in at_risk.iter_mut().zip(at_time) {
                *r += f64::from(c[0]);
            }
        }
        let mut pooled_surv = 1.0;
        for at_time in stratum.chunks(k) {
            for (d, c) in deaths.iter_mut().zip(at_time) {
                *d = f64::from(c[1]);
            }
            sweep.add_time(&at_risk, &deaths, &mut pooled_surv);
            for (r, c) in at_risk.iter_mut().zip(at_time) {
                *r -= f64::from(c[0]);
            }
        }
    }
    true
}

/// The sweep after one sort by (stratum, time): any times.
fn by_sorted_times(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: Option<&[usize]>,
    sweep: &mut Sweep,
) {
    let n = time.len();
    let k = sweep.k;
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
    let mut at_risk = vec![0.0; k];
    let mut deaths = vec![0.0; k];
    let mut start = 0;
    while start < n {
        let s = stratum(order[start]);
        let end = start + order[start..].partition_point(|&i| stratum(i) == s);
        let rows = &sorted[start..end];
        // Forward sweep for the pooled KM (weights need S(t−)); risk sets from counts.
        at_risk.fill(0.0);
        for &(_, g, _) in rows {
            at_risk[g] += 1.0;
        }
        let mut pooled_surv: f64 = 1.0;
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
            sweep.add_time(&at_risk, &deaths, &mut pooled_surv);
            for &(_, g, _) in &rows[a..b] {
                at_risk[g] -= 1.0;
            }
            a = b;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observed, expected and variance of one sweep.
    type Sums = (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);

    fn sums(k: usize, rho: f64, run: impl FnOnce(&mut Sweep)) -> Sums {
        let (mut observed, mut expected, mut variance) =
            (vec![0.0; k], vec![0.0; k], vec![vec![0.0; k]; k]);
        run(&mut Sweep {
            k,
            rho,
            observed: &mut observed,
            expected: &mut expected,
            variance: &mut variance,
        });
        (observed, expected, variance)
    }

    #[test]
    fn counted_whole_number_times_give_the_sorted_sweep_bit_for_bit() {
        // Tied whole-number times (some negative), 3 groups, strata 0 and 2 (1 is empty).
        let mut next = super::super::xorshift(0x2545_f491_4f6c_dd1d);
        let n = 3000;
        let time: Vec<f64> = (0..n).map(|_| next(400) as f64 - 20.0).collect();
        let event: Vec<bool> = (0..n).map(|_| next(3) != 0).collect();
        let group: Vec<usize> = (0..n).map(|_| next(3) as usize).collect();
        let strata: Vec<usize> = (0..n).map(|_| 2 * next(2) as usize).collect();
        for strata in [None, Some(strata.as_slice())] {
            for rho in [0.0, 1.0] {
                let mut counted = false;
                let by_counts = sums(3, rho, |s| {
                    counted = by_whole_number_times(&time, &event, &group, strata, s)
                });
                assert!(counted, "whole-number times are counted");
                let by_sort = sums(3, rho, |s| {
                    by_sorted_times(&time, &event, &group, strata, s)
                });
                assert_eq!(
                    by_counts,
                    by_sort,
                    "strata {:?}, rho {rho}",
                    strata.is_some()
                );
            }
        }
    }

    #[test]
    fn other_times_are_left_to_the_sort() {
        let group = [0, 1, 0, 1];
        let event = [true, true, false, true];
        for time in [
            [1.5, 2.0, 3.0, 4.0],  // not whole numbers
            [0.0, -0.0, 3.0, 4.0], // −0
            [0.0, 1e9, 3.0, 4.0],  // a span far beyond the rows
        ] {
            let mut counted = true;
            sums(2, 0.0, |s| {
                counted = by_whole_number_times(&time, &event, &group, None, s)
            });
            assert!(!counted, "{time:?}");
        }
    }
}
