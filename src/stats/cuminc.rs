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
}

impl CumulativeIncidence {
    /// Estimate and variance at `t` (the step function: 0 before the first event).
    pub fn at(&self, t: f64) -> (f64, f64) {
        let k = self.times.partition_point(|&x| x <= t);
        match k.checked_sub(1) {
            Some(k) => (self.estimate[k], self.variance[k]),
            None => (0.0, 0.0),
        }
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
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let (mut survival, mut incidence) = (1.0f64, 0.0f64);
    // The three running sums of the variance: Σ a²w, Σ a·b·w, Σ b²w.
    let (mut v1, mut v2, mut v3) = (0.0f64, 0.0f64, 0.0f64);
    let mut out = CumulativeIncidence {
        times: Vec::new(),
        estimate: Vec::new(),
        variance: Vec::new(),
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
