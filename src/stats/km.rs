//! Kaplan–Meier estimator as R's `survival::survfit` computes it (survival 3.5): Greenwood
//! variance, pointwise confidence intervals on the `log` (R's default), `log-log` and `plain`
//! scales, quantiles with their confidence limits by the midpoint rule of
//! `quantile.survfit`, summaries at given times as `summary(fit, times = )`, the Nelson–Aalen
//! cumulative hazard, and delayed entry (`Surv(entry, exit, event)`: at risk on (entry, exit]).

use statrs::distribution::{ContinuousCDF, Normal};

use super::StatsError;

/// Scale of the pointwise confidence interval (survfit's `conf.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfType {
    /// `S · exp(±z·se)`, se the SE of −log S (R's default).
    Log,
    /// `S^exp(±z·se / log S)` (lifelines' default).
    LogLog,
    /// `S ± z·se·S`, clipped to [0, 1].
    Plain,
}

/// One distinct time of the curve (events or censorings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// The time.
    pub time: f64,
    /// Number at risk just before `time`.
    pub n_risk: f64,
    /// Events at `time`.
    pub n_event: f64,
    /// Censorings at `time`.
    pub n_censor: f64,
    /// Survival just after `time`.
    pub survival: f64,
    /// Greenwood SE of −log S (survfit's `std.err`).
    pub std_err_log: f64,
    /// Lower confidence limit (`None` where undefined, as R's NA).
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
    /// Nelson–Aalen cumulative hazard.
    pub cumhaz: f64,
    /// Its SE, sqrt(Σ d / n²).
    pub std_err_cumhaz: f64,
}

/// A fitted Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Subjects.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// The curve at each distinct time, in time order.
    pub curve: Vec<CurvePoint>,
    /// Confidence level of the limits.
    pub conf_level: f64,
    /// Scale of the limits.
    pub conf_type: ConfType,
    /// Start of the time axis (0, as survfit without `start.time`).
    pub start_time: f64,
    /// Exit times, sorted (for the number at risk at any time).
    exits: Vec<f64>,
    /// Entry times, sorted, with delayed entry.
    entries: Option<Vec<f64>>,
}

/// Survival and its uncertainty at a requested time (`summary(fit, times = t)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtTime {
    /// The requested time.
    pub time: f64,
    /// Number at risk at `time`.
    pub n_risk: f64,
    /// Events in (previous requested time, time].
    pub n_event: f64,
    /// Censorings in (previous requested time, time].
    pub n_censor: f64,
    /// Survival at `time`.
    pub survival: f64,
    /// Greenwood SE on the survival scale.
    pub std_err: f64,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
    /// Nelson–Aalen cumulative hazard at `time`.
    pub cumhaz: f64,
    /// Its SE.
    pub std_err_cumhaz: f64,
}

/// A quantile of the survival distribution with its confidence limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// The probability (0.5 for the median).
    pub prob: f64,
    /// The quantile (`None` when the curve never reaches 1 − prob).
    pub estimate: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

/// The two-sided normal quantile for a confidence level.
pub fn z_for(conf_level: f64) -> f64 {
    // A standard normal always builds.
    Normal::standard().inverse_cdf(1.0 - (1.0 - conf_level) / 2.0)
}

/// Pointwise limits of `surv` with SE of −log S `se`.
pub fn confidence_limits(
    surv: f64,
    se: f64,
    z: f64,
    conf_type: ConfType,
) -> (Option<f64>, Option<f64>) {
    match conf_type {
        ConfType::Log => {
            if surv <= 0.0 {
                return (None, None);
            }
            let lower = surv * (-z * se).exp();
            let upper = (surv * (z * se).exp()).min(1.0);
            (Some(lower), Some(upper))
        }
        ConfType::LogLog => {
            if surv <= 0.0 || surv >= 1.0 {
                return (None, None);
            }
            let xx = (-surv.ln()).ln();
            let half = z * se / surv.ln();
            (
                Some((-(xx - half).exp()).exp()),
                Some((-(xx + half).exp()).exp()),
            )
        }
        ConfType::Plain => {
            let half = z * se * surv;
            (Some((surv - half).max(0.0)), Some((surv + half).min(1.0)))
        }
    }
}

/// The subjects exiting at one time: how many with an event, how many censored.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ExitRun {
    time: f64,
    events: f64,
    censored: f64,
}

/// The runs of equal exit times in ascending order, and the exit times sorted, through one
/// stable sort of the rows.
fn exit_runs_sorted(time: &[f64], event: &[bool]) -> (Vec<ExitRun>, Vec<f64>) {
    let order = super::order_by(time);
    let mut runs: Vec<ExitRun> = Vec::new();
    for &i in &order {
        // The first row of a run names its time (its sign, for a −0 among 0s).
        match runs.last_mut() {
            Some(run) if run.time == time[i] => {}
            _ => runs.push(ExitRun {
                time: time[i],
                events: 0.0,
                censored: 0.0,
            }),
        }
        if let Some(run) = runs.last_mut() {
            if event[i] {
                run.events += 1.0;
            } else {
                run.censored += 1.0;
            }
        }
    }
    let exits = order.iter().map(|&i| time[i]).collect();
    (runs, exits)
}

/// [`exit_runs_sorted`] by one counting pass over the rows, with no sort, when every time is a
/// whole number and they span not many more values than there are rows (days, say); `None`
/// otherwise. The same runs and exits, to the bit: counts are whole numbers, exact in f64,
/// and a time is its bucket's lowest time plus its offset, exact in that span (as
/// [`super::order_by`]'s counting path subtracts them).
fn exit_runs_counted(time: &[f64], event: &[bool]) -> Option<(Vec<ExitRun>, Vec<f64>)> {
    let (low, high) = super::short_whole_number_range(time)?;
    u32::try_from(time.len()).ok()?;
    let span = high - low;
    // [rows, events] per whole-number time from the lowest (u32: no cell can overflow).
    let mut counts = vec![[0u32; 2]; span as usize + 1];
    for (&t, &e) in time.iter().zip(event) {
        let cell = &mut counts[(t - low) as usize];
        cell[0] += 1;
        cell[1] += u32::from(e);
    }
    let mut runs = Vec::new();
    let mut exits = Vec::with_capacity(time.len());
    for (offset, &[rows, events]) in counts.iter().enumerate() {
        if rows == 0 {
            continue;
        }
        let t = low + offset as f64;
        runs.push(ExitRun {
            time: t,
            events: f64::from(events),
            censored: f64::from(rows - events),
        });
        exits.extend(std::iter::repeat_n(t, rows as usize));
    }
    Some((runs, exits))
}

impl KaplanMeier {
    /// Fits the curve. `event[i]` is true for an event, false for a censoring; `entry`, when
    /// given, is each subject's entry time (at risk on (entry, time]).
    pub fn fit(
        time: &[f64],
        event: &[bool],
        entry: Option<&[f64]>,
        conf_level: f64,
        conf_type: ConfType,
    ) -> Result<Self, StatsError> {
        let n = time.len();
        if event.len() != n || entry.is_some_and(|e| e.len() != n) {
            return Err(StatsError::LengthMismatch);
        }
        if n == 0 {
            return Err(StatsError::Empty);
        }
        if time.iter().any(|t| !t.is_finite())
            || entry.is_some_and(|e| e.iter().any(|t| !t.is_finite()))
        {
            return Err(StatsError::NotFinite);
        }
        if let Some(entry) = entry {
            if entry.iter().zip(time).any(|(e, t)| e >= t) {
                return Err(StatsError::EntryNotBeforeExit);
            }
        }
        if !(0.0..1.0).contains(&conf_level) || conf_level <= 0.0 {
            return Err(StatsError::ConfLevel(conf_level));
        }
        // The exit times' runs, counted without a sort where they can be (whole numbers over
        // a short span, days say), else from one sort; with delayed entry, the entries sorted
        // too. Then one sweep.
        let (runs, exits) =
            exit_runs_counted(time, event).unwrap_or_else(|| exit_runs_sorted(time, event));
        let entries: Vec<f64> = match entry {
            Some(e) => {
                let mut e = e.to_vec();
                e.sort_by(f64::total_cmp);
                e
            }
            None => Vec::new(),
        };
        let z = z_for(conf_level);
        let mut curve = Vec::with_capacity(runs.len());
        let (mut surv, mut greenwood, mut cumhaz, mut var_cumhaz) = (1.0, 0.0, 0.0, 0.0);
        let mut exited = 0usize;
        let mut entered = if entry.is_some() { 0 } else { n };
        for ExitRun {
            time: t,
            events: d,
            censored: c,
        } in runs
        {
            if entry.is_some() {
                // Entered strictly before t.
                while entered < entries.len() && entries[entered] < t {
                    entered += 1;
                }
            }
            let at_risk = (entered - exited) as f64;
            if d > 0.0 {
                surv *= 1.0 - d / at_risk;
                if at_risk > d {
                    greenwood += d / (at_risk * (at_risk - d));
                }
                cumhaz += d / at_risk;
                var_cumhaz += d / (at_risk * at_risk);
            }
            let se = greenwood.sqrt();
            let (lower, upper) = confidence_limits(surv, se, z, conf_type);
            curve.push(CurvePoint {
                time: t,
                n_risk: at_risk,
                n_event: d,
                n_censor: c,
                survival: surv,
                std_err_log: se,
                lower,
                upper,
                cumhaz,
                std_err_cumhaz: var_cumhaz.sqrt(),
            });
            exited += (d + c) as usize;
        }
        Ok(Self {
            n,
            events: event.iter().filter(|e| **e).count(),
            curve,
            conf_level,
            conf_type,
            start_time: 0.0,
            exits,
            entries: entry.map(|_| entries),
        })
    }

    /// Survival, SE and limits at the requested times (ascending), as `summary(fit, times=)`.
    pub fn at_times(&self, times: &[f64]) -> Vec<AtTime> {
        let mut out = Vec::with_capacity(times.len());
        let mut previous = f64::NEG_INFINITY;
        for &t in times {
            // The last curve point at or before t.
            let k = self.curve.partition_point(|p| p.time <= t);
            let point = k.checked_sub(1).map(|k| self.curve[k]);
            let (survival, se_log, cumhaz, se_cumhaz) = point.map_or((1.0, 0.0, 0.0, 0.0), |p| {
                (p.survival, p.std_err_log, p.cumhaz, p.std_err_cumhaz)
            });
            let z = z_for(self.conf_level);
            let (lower, upper) = confidence_limits(survival, se_log, z, self.conf_type);
            let n_risk = self.n_risk(t);
            let (mut n_event, mut n_censor) = (0.0, 0.0);
            for p in self
                .curve
                .iter()
                .filter(|p| p.time > previous && p.time <= t)
            {
                n_event += p.n_event;
                n_censor += p.n_censor;
            }
            out.push(AtTime {
                time: t,
                n_risk,
                n_event,
                n_censor,
                survival,
                std_err: survival * se_log,
                lower,
                upper,
                cumhaz,
                std_err_cumhaz: se_cumhaz,
            });
            previous = t;
        }
        out
    }

    /// Number at risk at `t`: exit ≥ t and, with delayed entry, entry < t.
    pub fn n_risk(&self, t: f64) -> f64 {
        let exiting_at_or_after = self.exits.len() - self.exits.partition_point(|&x| x < t);
        let not_yet_entered = self
            .entries
            .as_ref()
            .map_or(0, |e| e.len() - e.partition_point(|&x| x < t));
        (exiting_at_or_after - not_yet_entered) as f64
    }

    /// Quantiles (probabilities of failure: 0.5 is the median) with confidence limits, by
    /// `quantile.survfit`'s rule: the first time 1 − S reaches p; where the curve is flat
    /// exactly at p (within √ε), the midpoint of that time and the next jump.
    pub fn quantiles(&self, probs: &[f64]) -> Vec<Quantile> {
        let times: Vec<f64> = std::iter::once(self.start_time)
            .chain(self.curve.iter().map(|p| p.time))
            .collect();
        let xmax = self.curve.last().map_or(self.start_time, |p| p.time);
        let failure = |f: &dyn Fn(&CurvePoint) -> Option<f64>| -> Vec<Option<f64>> {
            std::iter::once(Some(0.0))
                .chain(self.curve.iter().map(|p| f(p).map(|s| 1.0 - s)))
                .collect()
        };
        let estimate = failure(&|p| Some(p.survival));
        // The quantile's lower limit comes from the lower survival curve, which fails first.
        let from_lower = failure(&|p| p.lower);
        let from_upper = failure(&|p| p.upper);
        probs
            .iter()
            .map(|&prob| Quantile {
                prob,
                estimate: find_quantile(&times, &estimate, prob, xmax),
                lower: find_quantile(&times, &from_lower, prob, xmax),
                upper: find_quantile(&times, &from_upper, prob, xmax),
            })
            .collect()
    }

    /// The median and its limits.
    pub fn median(&self) -> Quantile {
        self.quantiles(&[0.5])[0]
    }
}

/// Where the cumulative-failure step curve `y` (non-decreasing, starting at 0) reaches `p`,
/// as `survival:::findq` does it.
fn find_quantile(x: &[f64], y: &[Option<f64>], p: f64, xmax: f64) -> Option<f64> {
    const TOLERANCE: f64 = 1.490_116_119_384_765_6e-8; // sqrt(.Machine$double.eps)
                                                       // Points where the curve is undefined (R's NA) drop out, as approx drops NAs.
    let mut xs = Vec::with_capacity(x.len());
    let mut ys: Vec<f64> = Vec::with_capacity(y.len());
    for (&xi, yi) in x.iter().zip(y) {
        if let Some(yi) = *yi {
            // Censorings repeat the previous level: keep the first time a level is reached.
            if ys.last() != Some(&yi) {
                xs.push(xi);
                ys.push(yi);
            }
        }
    }
    let max = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if ys.is_empty() || max < p {
        // "a survival curve whose upper limit never drops below 1", or never reaching p.
        if ys.is_empty() || max + TOLERANCE < p {
            return None;
        }
    }
    if p == 0.0 {
        return xs.first().copied();
    }
    // approx(y ± tol, 1:n, p, method = "constant", f = 1): the index of the first knot
    // strictly above p, or the knot equal to p.
    let index = |shift: f64| -> Option<usize> {
        let knots: Vec<f64> = ys.iter().map(|v| v + shift).collect();
        if p < knots[0] || p > knots[knots.len() - 1] {
            return None;
        }
        let k = knots.partition_point(|&v| v <= p); // knots[k-1] <= p < knots[k]
        if knots[k - 1] == p || k == knots.len() {
            Some(k - 1)
        } else {
            Some(k)
        }
    };
    let n = ys.len();
    let (i1, i2) = (index(TOLERANCE), index(-TOLERANCE));
    let last_point = (p - ys[n - 1]).abs() < TOLERANCE;
    match (i1, i2) {
        (Some(i1), _) if last_point => Some((xs[i1] + xmax) / 2.0),
        (Some(i1), Some(i2)) => Some((xs[i1] + xs[i2]) / 2.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counting whole-number times gives the runs and exits the sort gives, to the bit (ties,
    /// negative times, 0, values past 2^53); fractional times, −0 and a span much wider than
    /// the rows are left to the sort.
    #[test]
    fn counted_exit_runs_are_the_sorted_ones() {
        let mut next = super::super::xorshift(11);
        for (base, n) in [
            (1.0, 1usize),
            (-40.0, 300),
            (0.0, 2_000),
            (9007199254740992.0, 500),
        ] {
            let time: Vec<f64> = (0..n).map(|_| base + (next(60) * 2) as f64).collect();
            let event: Vec<bool> = (0..n).map(|_| next(3) == 0).collect();
            let counted = exit_runs_counted(&time, &event).expect("whole numbers, short span");
            assert_eq!(
                counted,
                exit_runs_sorted(&time, &event),
                "base {base}, n {n}"
            );
        }
        let event = [true, false, true];
        assert!(exit_runs_counted(&[1.0, 2.5, 3.0], &event).is_none());
        assert!(exit_runs_counted(&[1.0, -0.0, 3.0], &event).is_none());
        assert!(exit_runs_counted(&[1.0, 2.0, 1e6], &event).is_none());
    }
}
