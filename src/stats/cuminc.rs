//! Cumulative incidence of one cause in the presence of competing causes (Aalen–Johansen:
//! F_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j, S the all-cause Kaplan–Meier), with the variance
//! estimator of Gray's `cmprsk::cuminc` (three running sums updated at each event time, one
//! term for events of the cause and one for competing events, each with the tie correction
//! 1 − (d − 1)/(n − 1)).

use super::StatsError;

/// A cumulative incidence curve: estimate and variance after each time with an event of the
/// cause of interest.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeIncidence {
    /// Times at which the estimate jumps.
    pub times: Vec<f64>,
    /// The estimate just after each.
    pub estimate: Vec<f64>,
    /// Its variance.
    pub variance: Vec<f64>,
    /// The last time observed (event or censoring): the curve ends there.
    pub last_time: f64,
}

impl CumulativeIncidence {
    /// Estimate and variance at `t` (the step function: 0 before the first event), or `None`
    /// after the last time observed, as `cmprsk::timepoints` gives NA there.
    pub fn at(&self, t: f64) -> Option<(f64, f64)> {
        if t > self.last_time {
            return None;
        }
        let k = self.times.partition_point(|&x| x <= t);
        Some(match k.checked_sub(1) {
            Some(k) => (self.estimate[k], self.variance[k]),
            None => (0.0, 0.0),
        })
    }
}

/// `cuminc` for `cause`: `status[i]` is 0 for censored, otherwise the cause of the event.
pub fn cumulative_incidence(
    time: &[f64],
    status: &[u32],
    cause: u32,
) -> Result<CumulativeIncidence, StatsError> {
    let n = time.len();
    if status.len() != n {
        return Err(StatsError::LengthMismatch);
    }
    if n == 0 {
        return Err(StatsError::Empty);
    }
    if time.iter().any(|t| !t.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let order = super::order_by(time);
    let (mut survival, mut incidence) = (1.0f64, 0.0f64);
    // The three running sums of the variance: Σ a²w, Σ a·b·w, Σ b²w.
    let (mut v1, mut v2, mut v3) = (0.0f64, 0.0f64, 0.0f64);
    let mut out = CumulativeIncidence {
        times: Vec::new(),
        estimate: Vec::new(),
        variance: Vec::new(),
        last_time: time[order[n - 1]],
    };
    let mut at_risk = n as f64;
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let (mut own, mut other) = (0.0, 0.0);
        let mut j = i;
        while j < n && time[order[j]] == t {
            match status[order[j]] {
                0 => {}
                c if c == cause => own += 1.0,
                _ => other += 1.0,
            }
            j += 1;
        }
        let events = own + other;
        if events > 0.0 {
            let after = survival * (at_risk - events) / at_risk;
            if own > 0.0 {
                incidence += survival * own / at_risk;
            }
            // Tie correction and weight of d events among n at risk.
            let weight = |d: f64| {
                let ties = if d > 1.0 {
                    1.0 - (d - 1.0) / (at_risk - 1.0)
                } else {
                    1.0
                };
                survival * survival * ties * d / (at_risk * at_risk)
            };
            if other > 0.0 && after > 0.0 {
                let w = weight(other);
                let (a, b) = (incidence / after, 1.0 / after);
                v1 += a * a * w;
                v2 += b * a * w;
                v3 += b * b * w;
            }
            if own > 0.0 {
                let w = weight(own);
                let b = if after > 0.0 { 1.0 / after } else { 0.0 };
                let a = 1.0 + b * incidence;
                v1 += a * a * w;
                v2 += b * a * w;
                v3 += b * b * w;
                out.times.push(t);
                out.estimate.push(incidence);
                out.variance
                    .push(v1 + incidence * incidence * v3 - 2.0 * incidence * v2);
            }
            survival = after;
        }
        at_risk -= (j - i) as f64;
        i = j;
    }
    Ok(out)
}

/// Gray's test (Gray 1988) comparing the cumulative incidence of one cause between groups,
/// as `cmprsk::cuminc` reports it (`$Tests`): a score per group but the last, its variance,
/// and the statistic sᵀ V⁻¹ s on (groups − 1) degrees of freedom; strata are summed.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayTest {
    /// Chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value.
    pub p: f64,
}

/// Gray's test for `cause` between `group` codes (0-based), optionally stratified, with
/// weight power `rho` (cmprsk's default 0).
pub fn gray_test(
    time: &[f64],
    status: &[u32],
    cause: u32,
    group: &[usize],
    strata: Option<&[usize]>,
    rho: f64,
) -> Result<GrayTest, StatsError> {
    use nalgebra::{DMatrix, DVector};
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let n = time.len();
    if status.len() != n || group.len() != n || strata.is_some_and(|s| s.len() != n) {
        return Err(StatsError::LengthMismatch);
    }
    let ng = group.iter().max().map_or(0, |g| g + 1);
    if ng < 2 {
        return Err(StatsError::TooFewGroups);
    }
    let m = ng - 1;
    let mut score = vec![0.0; m];
    let mut var = DMatrix::<f64>::zeros(m, m);
    let order = super::order_by_stratum_and_time(time, strata, false);
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let mut start = 0;
    while start < n {
        let s = stratum(order[start]);
        let end = start + order[start..].partition_point(|&i| stratum(i) == s);
        let rows = &order[start..end];
        // Per group: risk set, left- and right-continuous all-cause KM and cause incidence.
        let mut at_risk = vec![0.0f64; ng];
        for &i in rows {
            at_risk[group[i]] += 1.0;
        }
        let (mut km_left, mut km_right) = (vec![1.0f64; ng], vec![1.0f64; ng]);
        let (mut inc_left, mut inc_right) = (vec![0.0f64; ng], vec![0.0f64; ng]);
        let mut c = vec![vec![0.0f64; ng]; ng];
        let mut a = vec![vec![0.0f64; ng]; ng];
        let mut v2 = vec![vec![0.0f64; ng]; m];
        let mut v3 = vec![0.0f64; ng];
        let mut v = vec![vec![0.0f64; m]; m];
        let mut st = vec![0.0f64; m];
        let mut pooled_left = 0.0f64;
        let mut k0 = 0;
        while k0 < rows.len() {
            let t = time[rows[k0]];
            let k1 = k0 + rows[k0..].partition_point(|&i| time[i] == t);
            let mut d1 = vec![0.0f64; ng];
            let mut d2 = vec![0.0f64; ng];
            for &i in &rows[k0..k1] {
                match status[i] {
                    0 => {}
                    c if c == cause => d1[group[i]] += 1.0,
                    _ => d2[group[i]] += 1.0,
                }
            }
            let (nd1, nd2): (f64, f64) = (d1.iter().sum(), d2.iter().sum());
            let mut pooled = pooled_left;
            if nd1 + nd2 > 0.0 {
                let (mut tr, mut tq) = (0.0, 0.0);
                for g in 0..ng {
                    if at_risk[g] <= 0.0 {
                        continue;
                    }
                    km_right[g] = km_left[g] * (at_risk[g] - d1[g] - d2[g]) / at_risk[g];
                    inc_right[g] = inc_left[g] + km_left[g] * d1[g] / at_risk[g];
                    tr += at_risk[g] / km_left[g];
                    tq += at_risk[g] * (1.0 - inc_left[g]) / km_left[g];
                }
                pooled = pooled_left + nd1 / tr;
                let weight = (1.0 - pooled_left).powf(rho);
                for i in 0..ng {
                    a[i][i..].iter_mut().for_each(|cell| *cell = 0.0);
                    if at_risk[i] <= 0.0 {
                        continue;
                    }
                    let h = at_risk[i] / km_left[i];
                    a[i][i] = weight * h * (1.0 - h / tr);
                    c[i][i] += a[i][i] * nd1 / (tr * (1.0 - pooled_left));
                    for j in i + 1..ng {
                        if at_risk[j] <= 0.0 {
                            continue;
                        }
                        a[i][j] = -weight * h * at_risk[j] / (km_left[j] * tr);
                        c[i][j] += a[i][j] * nd1 / (tr * (1.0 - pooled_left));
                    }
                }
                for i in 1..ng {
                    for j in 0..i {
                        a[i][j] = a[j][i];
                        c[i][j] = c[j][i];
                    }
                }
                for i in 0..m {
                    if at_risk[i] > 0.0 {
                        st[i] += weight
                            * (d1[i] - nd1 * at_risk[i] * (1.0 - inc_left[i]) / (km_left[i] * tq));
                    }
                }
                if nd1 > 0.0 {
                    for k in 0..ng {
                        if at_risk[k] <= 0.0 {
                            continue;
                        }
                        let t4 = if km_right[k] > 0.0 {
                            1.0 - (1.0 - pooled) / km_right[k]
                        } else {
                            1.0
                        };
                        let ties = if nd1 > 1.0 {
                            1.0 - (nd1 - 1.0) / (tr * km_left[k] - 1.0)
                        } else {
                            1.0
                        };
                        let t3 = ties * km_left[k] * nd1 / (tr * at_risk[k]);
                        v3[k] += t4 * t4 * t3;
                        for i in 0..m {
                            let t1 = a[i][k] - t4 * c[i][k];
                            v2[i][k] += t1 * t4 * t3;
                            for j in 0..=i {
                                let t2 = a[j][k] - t4 * c[j][k];
                                v[i][j] += t1 * t2 * t3;
                            }
                        }
                    }
                }
                if nd2 > 0.0 {
                    for k in 0..ng {
                        if km_right[k] <= 0.0 || d2[k] <= 0.0 {
                            continue;
                        }
                        let t4 = (1.0 - pooled) / km_right[k];
                        let ties = if d2[k] > 1.0 {
                            1.0 - (d2[k] - 1.0) / (at_risk[k] - 1.0)
                        } else {
                            1.0
                        };
                        let t3 = ties * km_left[k] * km_left[k] * d2[k] / (at_risk[k] * at_risk[k]);
                        v3[k] += t4 * t4 * t3;
                        for i in 0..m {
                            let t1 = t4 * c[i][k];
                            v2[i][k] -= t1 * t4 * t3;
                            for j in 0..=i {
                                let t2 = t4 * c[j][k];
                                v[i][j] += t1 * t2 * t3;
                            }
                        }
                    }
                }
            }
            for &i in &rows[k0..k1] {
                at_risk[group[i]] -= 1.0;
            }
            pooled_left = pooled;
            inc_left.clone_from(&inc_right);
            km_left.clone_from(&km_right);
            k0 = k1;
        }
        for i in 0..m {
            for j in 0..=i {
                for k in 0..ng {
                    v[i][j] += c[i][k] * c[j][k] * v3[k] + c[i][k] * v2[j][k] + c[j][k] * v2[i][k];
                }
                var[(i, j)] += v[i][j];
                if i != j {
                    var[(j, i)] += v[i][j];
                }
            }
            score[i] += st[i];
        }
        start = end;
    }
    let s = DVector::from_vec(score);
    let solved = var.clone().lu().solve(&s).ok_or(StatsError::TooFewGroups)?;
    let chisq = s.dot(&solved);
    let p = ChiSquared::new(m as f64).map_or(f64::NAN, |d| d.sf(chisq));
    Ok(GrayTest { chisq, df: m, p })
}
