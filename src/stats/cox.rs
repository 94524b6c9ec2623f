//! Cox proportional hazards regression as `survival::coxph` fits it: Newton–Raphson on the
//! partial likelihood with Efron (default) or Breslow handling of tied event times, strata
//! (separate risk sets) and delayed entry (at risk on (entry, exit]); coefficients, hazard
//! ratios, standard errors, Wald intervals and p-values, the likelihood-ratio, Wald and score
//! tests; Harrell's concordance counts as survival defines them; and, for recurrent events in
//! counting-process form (Andersen–Gill), the cluster-robust sandwich variance of
//! `coxph(..., cluster = id)`.

use std::borrow::Cow;

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::StatsError;

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// Efron's approximation (R's default).
    Efron,
    /// Breslow's approximation.
    Breslow,
}

/// A chi-square test of all coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalTest {
    /// Statistic.
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value.
    pub p: f64,
}

/// Harrell's concordance counts (survival's definitions): pairs of which the earlier time is
/// an event; tied risk scores count half; pairs tied on an event time are not comparable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concordance {
    /// (concordant + tied_x / 2) / (concordant + discordant + tied_x).
    pub estimate: f64,
    /// Comparable pairs ordered as the risk scores predict.
    pub concordant: u64,
    /// Comparable pairs ordered against them.
    pub discordant: u64,
    /// Comparable pairs with equal risk scores.
    pub tied_x: u64,
    /// Pairs of events at the same time with different risk scores (not comparable).
    pub tied_y: u64,
    /// Pairs of events at the same time with equal risk scores (not comparable).
    pub tied_xy: u64,
    /// Standard error of the estimate (survival's infinitesimal jackknife).
    pub std_err: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Coefficients (log hazard ratios).
    pub coef: Vec<f64>,
    /// Standard errors (model-based).
    pub se: Vec<f64>,
    /// Wald z.
    pub z: Vec<f64>,
    /// Two-sided p-values.
    pub p: Vec<f64>,
    /// Variance–covariance matrix.
    pub vcov: Vec<Vec<f64>>,
    /// Log partial likelihood at the estimate.
    pub loglik: f64,
    /// At β = 0.
    pub loglik_null: f64,
    /// Likelihood-ratio test.
    pub lr_test: GlobalTest,
    /// Wald test.
    pub wald_test: GlobalTest,
    /// Score (log-rank) test.
    pub score_test: GlobalTest,
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// Whether the log-likelihood converged within the iteration limit.
    pub converged: bool,
    /// Per term: the likelihood converged while the coefficient was still moving (R's
    /// "coefficient may be infinite" warning).
    pub may_be_infinite: Vec<bool>,
    /// Observations.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Concordance of the linear predictor, when asked for ([`CoxOptions::concordance`]).
    pub concordance: Option<Concordance>,
    /// The cluster-robust variance, when the fit was given clusters.
    pub robust: Option<RobustVariance>,
}

/// The robust (sandwich) variance of a Cox fit with clustered observations, as coxph computes
/// it with `cluster(id)`: Dᵀ D, where D sums each cluster's dfbeta residuals (score residuals
/// times the model-based variance). No small-sample factor, as in R.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustVariance {
    /// Variance–covariance matrix.
    pub vcov: Vec<Vec<f64>>,
    /// Robust standard errors.
    pub se: Vec<f64>,
    /// Wald z with the robust standard errors.
    pub z: Vec<f64>,
    /// Two-sided p-values with the robust standard errors.
    pub p: Vec<f64>,
    /// Wald test of all coefficients with the robust variance (coxph's `wald.test`).
    pub wald_test: GlobalTest,
    /// Distinct clusters.
    pub clusters: usize,
}

impl CoxFit {
    /// Hazard ratio of term `j` with its Wald interval.
    pub fn hazard_ratio(&self, j: usize, conf_level: f64) -> (f64, f64, f64) {
        super::exp_wald_interval(self.coef[j], self.se[j], conf_level)
    }

    /// Hazard ratio of term `j` with its Wald interval from the robust variance, when there is
    /// one.
    pub fn robust_hazard_ratio(&self, j: usize, conf_level: f64) -> Option<(f64, f64, f64)> {
        let robust = self.robust.as_ref()?;
        Some(super::exp_wald_interval(
            self.coef[j],
            robust.se[j],
            conf_level,
        ))
    }
}

/// The data laid out in sweep order (by stratum, exit time descending), contiguous, so that
/// every Newton iteration walks memory sequentially.
struct Data {
    time: Vec<f64>,
    event: Vec<bool>,
    entry: Option<Vec<f64>>,
    /// With delayed entry, the centred covariates of each stratum's rows by entry time, latest
    /// first (row-major): the order in which they leave the risk set going down in time, read
    /// in order as rows leave rather than scattered over `x`.
    leaving_x: Vec<f64>,
    /// Centred covariates in sweep order, one column per covariate: each column is sorted in
    /// the memory of the caller's column when the covariates are handed over, so the fit
    /// holds one copy of them, not two (a row is read from p sequential streams).
    x: Vec<Vec<f64>>,
    p: usize,
    /// Row ranges of each stratum.
    strata: Vec<std::ops::Range<usize>>,
    /// The runs of tied exit times of each stratum.
    runs: Vec<Vec<Run>>,
}

impl Data {
    /// The rows of `Surv(entry, time, event) ~ covariates + strata(strata)` in sweep order,
    /// covariates centred on `means` ([`covariate_means`]: as coxph does, the partial
    /// likelihood is unchanged and the exponentials stay in range), with the sweep order
    /// (sorted position → caller's row).
    fn new<'c>(
        time: &[f64],
        event: &[bool],
        entry: Option<&[f64]>,
        covariates: impl Into<Cow<'c, [Vec<f64>]>>,
        means: &[f64],
        strata: Option<&[usize]>,
    ) -> (Self, Vec<usize>) {
        use rayon::prelude::*;
        let covariates = covariates.into();
        let (n, p) = (time.len(), covariates.len());
        let order = super::order_by_stratum_and_time(time, strata, true);
        let ranges = super::stratum_ranges(&order, strata);
        let time_sorted: Vec<f64> = order.par_iter().map(|&i| time[i]).collect();
        let entry_sorted: Option<Vec<f64>> = entry.map(|e| order.iter().map(|&i| e[i]).collect());
        let leaving = match &entry_sorted {
            Some(e) => ranges
                .iter()
                .flat_map(|r| {
                    super::order_by_descending(&e[r.clone()])
                        .into_iter()
                        .map(move |k| r.start + k)
                })
                .collect(),
            None => Vec::new(),
        };
        let mut position = vec![0u32; n];
        for (k, &i) in order.iter().enumerate() {
            position[i] = k as u32;
        }
        let x = sweep_ordered_columns(covariates, means, &position);
        drop(position);
        let mut leaving_x = vec![0.0; leaving.len() * p];
        leaving_x
            .par_chunks_exact_mut(p)
            .zip(leaving.par_iter())
            .for_each(|(row, &r)| copy_row(&x, r, row));
        let runs = ranges
            .iter()
            .map(|r| stratum_runs(&time_sorted, entry_sorted.as_deref(), &leaving, r.clone()))
            .collect();
        let data = Self {
            time: time_sorted,
            event: order.par_iter().map(|&i| event[i]).collect(),
            entry: entry_sorted,
            leaving_x,
            x,
            p,
            strata: ranges,
            runs,
        };
        (data, order)
    }

    /// Row `r`'s covariates, copied into `buf` (at least p long). `p` is the data's, passed
    /// so that a caller specialised for a width copies a fixed number of cells, unrolled.
    #[inline(always)]
    fn row_into<'b>(&self, r: usize, buf: &'b mut [f64], p: usize) -> &'b [f64] {
        let buf = &mut buf[..p];
        copy_row(&self.x[..p], r, buf);
        buf
    }

    /// Row `k` of [`Data::leaving_x`].
    fn leaving_row(&self, k: usize) -> &[f64] {
        &self.leaving_x[k * self.p..(k + 1) * self.p]
    }

    /// The linear predictor of every row (centred covariates, as coxph's).
    fn linear_predictor(&self, beta: &[f64]) -> Vec<f64> {
        use rayon::prelude::*;
        let mut eta = vec![0.0; self.time.len()];
        eta.par_chunks_mut(ROWS_PER_TASK)
            .enumerate()
            .for_each(|(task, out)| {
                let mut row = vec![0.0; self.p];
                for (k, e) in out.iter_mut().enumerate() {
                    *e = linear_predictor(
                        self.row_into(task * ROWS_PER_TASK + k, &mut row, self.p),
                        beta,
                    );
                }
            });
        eta
    }

    /// The linear predictors and risk weights at `beta`, computed in parallel (the sweeps
    /// that use them cannot be).
    fn risk_weights(&self, beta: &[f64]) -> Weights {
        use rayon::prelude::*;
        if beta.iter().all(|&b| b == 0.0) {
            // The first Newton step's β: every weight is exp(0) = 1, no pass over the rows.
            let n = self.time.len();
            return Weights {
                eta: vec![0.0; n],
                weight: vec![1.0; n],
                leaving: vec![1.0; self.leaving_x.len() / self.p],
            };
        }
        let eta = self.linear_predictor(beta);
        let weight = eta.par_iter().map(|e| e.exp()).collect();
        Weights {
            eta,
            weight,
            leaving: self.leaving_weights(beta),
        }
    }

    /// With delayed entry, the risk weight at `beta` of every row in leaving order
    /// ([`Data::leaving_x`]), computed in parallel; the same sums as [`Data::linear_predictor`]'s,
    /// so a row's weight is the same number in both orders.
    fn leaving_weights(&self, beta: &[f64]) -> Vec<f64> {
        use rayon::prelude::*;
        if beta.iter().all(|&b| b == 0.0) {
            return vec![1.0; self.leaving_x.len() / self.p];
        }
        self.leaving_x
            .par_chunks_exact(self.p)
            .map(|row| linear_predictor(row, beta).exp())
            .collect()
    }
}

/// Each covariate's mean, one column per thread (each sum in row order whatever the threads);
/// `NotFinite` when a value is not finite. Such a value makes its column's sum not finite, so
/// the values are looked at one by one only then (finite values whose sum overflows pass, as
/// they would one by one): one pass over the covariates for both.
fn covariate_means(covariates: &[Vec<f64>]) -> Result<Vec<f64>, StatsError> {
    use rayon::prelude::*;
    covariates
        .par_iter()
        .map(|c| {
            let sum = c.iter().sum::<f64>();
            if !sum.is_finite() && c.iter().any(|v| !v.is_finite()) {
                return Err(StatsError::NotFinite);
            }
            Ok(sum / c.len() as f64)
        })
        .collect()
}

/// Row `r` of covariates held a column each, into `row`.
#[inline(always)]
fn copy_row(columns: &[Vec<f64>], r: usize, row: &mut [f64]) {
    for (cell, column) in row.iter_mut().zip(columns) {
        *cell = column[r];
    }
}

/// Rows per task of [`Data::linear_predictor`].
const ROWS_PER_TASK: usize = 1 << 14;

/// Each covariate centred (`means`) and moved to its row's sweep position (`position`, per
/// caller's row), column by column: a column handed over (owned) is replaced by its sorted
/// copy, and its memory takes the next column sorted on the same thread, so the sort costs
/// one spare column per thread instead of a second copy of every column (on a million rows
/// and six covariates, 16 MB of new memory instead of 48: fewer pages first touched).
fn sweep_ordered_columns(
    covariates: Cow<[Vec<f64>]>,
    means: &[f64],
    position: &[u32],
) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    let n = position.len();
    // Read in row order, written at the sorted positions.
    let scatter = |column: &[f64], mean: f64, sorted: &mut [f64]| {
        for (&k, &v) in position.iter().zip(column) {
            sorted[k as usize] = v - mean;
        }
    };
    match covariates {
        Cow::Owned(mut columns) => {
            let per_thread = columns
                .len()
                .div_ceil(rayon::current_num_threads().max(1))
                .max(1);
            columns
                .par_chunks_mut(per_thread)
                .zip(means.par_chunks(per_thread))
                .for_each(|(columns, means)| {
                    let mut spare = vec![0.0; n];
                    for (column, &mean) in columns.iter_mut().zip(means) {
                        scatter(column, mean, &mut spare);
                        std::mem::swap(column, &mut spare);
                    }
                });
            columns
        }
        Cow::Borrowed(columns) => columns
            .par_iter()
            .zip(means)
            .map(|(column, &mean)| {
                let mut sorted = vec![0.0; n];
                scatter(column, mean, &mut sorted);
                sorted
            })
            .collect(),
    }
}

/// x·β for one row.
fn linear_predictor(row: &[f64], beta: &[f64]) -> f64 {
    row.iter().zip(beta).map(|(x, b)| x * b).sum()
}

/// Per-row quantities at one β.
struct Weights {
    /// Linear predictor of every row, in sweep order.
    eta: Vec<f64>,
    /// Risk weight exp(η) of every row, in sweep order.
    weight: Vec<f64>,
    /// With delayed entry, the risk weight of every row in leaving order ([`Data::leaving_x`]).
    leaving: Vec<f64>,
}

/// Length of a flat block of risk-set sums for p covariates: Σw, then Σw·x (p), then Σw·x·xᵀ
/// (p × p, upper triangle used).
const fn sums_len(p: usize) -> usize {
    1 + p + p * p
}

/// Adds a row of weight w (negative to remove it) to the flat sums `s` ([`sums_len`]); `p` is
/// the row's width, a constant where the caller is specialised for it.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // (a) indexes x and Σw·x together
fn add_row(s: &mut [f64], x: &[f64], w: f64, p: usize) {
    let x = &x[..p];
    let (s0, rest) = s.split_at_mut(1);
    let (s1, s2) = rest.split_at_mut(p);
    s0[0] += w;
    for a in 0..p {
        let wa = w * x[a];
        s1[a] += wa;
        for (cell, xb) in s2[a * p + a..(a + 1) * p].iter_mut().zip(&x[a..]) {
            *cell += wa * xb;
        }
    }
}

/// Factors of [`add_death_terms`]'s product of significands (each below 2) between two moves
/// of its binary exponent: the product stays below 2^512.
const PRODUCT_SPAN: usize = 512;

/// Whether `v` is positive, finite and not subnormal.
fn is_positive_normal(v: f64) -> bool {
    v > 0.0 && v.is_normal()
}

/// A positive normal number as its significand in [1, 2) and its binary exponent.
#[inline(always)]
fn split_binary(v: f64) -> (f64, i64) {
    const EXPONENT_BITS: u64 = 0x7ff << 52;
    const ONE: u64 = 1023 << 52;
    let bits = v.to_bits();
    let exponent = ((bits & EXPONENT_BITS) >> 52) as i64 - 1023;
    (f64::from_bits((bits & !EXPONENT_BITS) | ONE), exponent)
}

/// Adds the terms of one event time with `d` deaths to `out` = [loglik, score (p), information
/// (p × p, upper triangle)], from the sums ([`sums_len`]) over the risk set (`risk`) and over
/// the dying rows (`dead`). Tied deaths enter through scalar sums over their Efron fractions,
/// Σ over the d deaths of 1/den, f/den, 1/den², f/den², f²/den², where den = S0 − f·D0 and
/// f = k/d (Efron) or 0 (Breslow): a time with d deaths costs O(d + p²), not O(d p²).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // (a, b) index the p × p matrices as the formulas do
fn add_death_terms(risk: &[f64], dead: &[f64], d: usize, ties: Ties, p: usize, out: &mut [f64]) {
    let (r1, r2) = (&risk[1..1 + p], &risk[1 + p..]);
    let (d1, d2) = (&dead[1..1 + p], &dead[1 + p..]);
    let (loglik, rest) = out.split_at_mut(1);
    let (score, info) = rest.split_at_mut(p);
    let (mut a1, mut af, mut c1, mut cf, mut cff) = (0.0, 0.0, 0.0, 0.0, 0.0);
    // Σ ln den over the d deaths as the log of their product (one logarithm per event time
    // instead of one per death): the product of the dens' significands in [1, 2), their
    // binary exponents summed apart. The dens fall with k, from S0 to the last: when both are
    // normal positive numbers, so is every den.
    // The k-th death's share of the dying rows' weight taken out of the risk set.
    let fraction = |k: usize| match ties {
        Ties::Efron => k as f64 / d as f64,
        Ties::Breslow => 0.0,
    };
    let as_product = is_positive_normal(risk[0])
        && is_positive_normal(risk[0] - fraction(d.saturating_sub(1)) * dead[0]);
    let (mut significands, mut exponents) = (1.0, 0i64);
    for k in 0..d {
        let f = fraction(k);
        let den = risk[0] - f * dead[0];
        if as_product {
            let (significand, exponent) = split_binary(den);
            significands *= significand;
            exponents += exponent;
            // Below 2^(PRODUCT_SPAN) whatever the factors: moved out before it could overflow.
            if k % PRODUCT_SPAN == PRODUCT_SPAN - 1 {
                let (significand, exponent) = split_binary(significands);
                (significands, exponents) = (significand, exponents + exponent);
            }
        } else {
            loglik[0] -= den.ln();
        }
        let inv = 1.0 / den;
        a1 += inv;
        af += f * inv;
        c1 += inv * inv;
        cf += f * inv * inv;
        cff += f * f * inv * inv;
    }
    if as_product {
        loglik[0] -= significands.ln() + exponents as f64 * std::f64::consts::LN_2;
    }
    for a in 0..p {
        score[a] -= r1[a] * a1 - d1[a] * af;
        for b in a..p {
            let idx = a * p + b;
            let (s1a, s1b, d1a, d1b) = (r1[a], r1[b], d1[a], d1[b]);
            info[idx] += r2[idx] * a1 - d2[idx] * af - s1a * s1b * c1
                + (s1a * d1b + d1a * s1b) * cf
                - d1a * d1b * cff;
        }
    }
}

/// One distinct exit time of a stratum, in sweep order (exit time descending): the rows that
/// exit then (they join the risk set; their events happen then), and with delayed entry the
/// positions in leaving order ([`Data::leaving_x`]) of the rows whose entry is at or after it
/// (they leave the risk set before its terms are taken).
#[derive(Debug, Clone)]
struct Run {
    rows: std::ops::Range<usize>,
    leaving: std::ops::Range<usize>,
}

/// Where each run of tied times of the stratum `range` (rows in sweep order) begins: one
/// comparison per row, in parallel (a binary search per run would cost a cache miss per step
/// on a large stratum).
fn run_starts(time: &[f64], range: std::ops::Range<usize>) -> Vec<usize> {
    use rayon::prelude::*;
    range
        .clone()
        .into_par_iter()
        .filter(|&i| i == range.start || time[i] != time[i - 1])
        .collect()
}

/// The runs of tied exit times of the stratum `range` (rows in sweep order).
fn stratum_runs(
    time: &[f64],
    entry: Option<&[f64]>,
    leaving: &[usize],
    range: std::ops::Range<usize>,
) -> Vec<Run> {
    let starts = run_starts(time, range.clone());
    let mut runs = Vec::with_capacity(starts.len());
    let mut next_leaving = range.start;
    for (k, &i) in starts.iter().enumerate() {
        let (t, j) = (time[i], starts.get(k + 1).copied().unwrap_or(range.end));
        let first = next_leaving;
        if let Some(entry) = entry {
            while next_leaving < range.end && entry[leaving[next_leaving]] >= t {
                next_leaving += 1;
            }
        }
        runs.push(Run {
            rows: i..j,
            // Without delayed entry no row leaves (and `leaving` is empty).
            leaving: if entry.is_some() {
                first..next_leaving
            } else {
                0..0
            },
        });
    }
    runs
}

/// Rows per run from which a stratum's partial likelihood is summed run by run in parallel
/// ([`stratum_terms_by_run`]) rather than row by row: with fewer, the per-run bookkeeping
/// costs more than the second core gains.
const MIN_ROWS_PER_RUN: usize = 8;

/// Runs whose sums are held at once by [`stratum_terms_by_run`] (bounded memory).
const RUN_BATCH: usize = 1024;

/// Log partial likelihood, score and information at `beta`: one pass per stratum over the
/// sweep-ordered rows, row by row, or run by run in parallel where exit times are heavily
/// tied; no allocation per row.
fn partial_likelihood(
    data: &Data,
    beta: &DVector<f64>,
    ties: Ties,
) -> (f64, DVector<f64>, DMatrix<f64>) {
    // Compiled once per small width, so that the per-row loops over p unroll and vectorise.
    let out = match data.p {
        1 => partial_likelihood_for::<1>(data, beta, ties),
        2 => partial_likelihood_for::<2>(data, beta, ties),
        3 => partial_likelihood_for::<3>(data, beta, ties),
        4 => partial_likelihood_for::<4>(data, beta, ties),
        5 => partial_likelihood_for::<5>(data, beta, ties),
        6 => partial_likelihood_for::<6>(data, beta, ties),
        7 => partial_likelihood_for::<7>(data, beta, ties),
        8 => partial_likelihood_for::<8>(data, beta, ties),
        _ => partial_likelihood_for::<0>(data, beta, ties),
    };
    let p = data.p;
    let mut info = out[1 + p..].to_vec();
    for a in 0..p {
        for b in 0..a {
            info[a * p + b] = info[b * p + a];
        }
    }
    (
        out[0],
        DVector::from_column_slice(&out[1..1 + p]),
        DMatrix::from_row_slice(p, p, &info),
    )
}

/// [`partial_likelihood`] for `P` covariates (0: any number, read from the data), as
/// [loglik, score (p), information (p × p, upper triangle)].
///
/// When every stratum is summed run by run, each row's linear predictor and weight are
/// computed as the row is added (in parallel with the runs) rather than in passes of their
/// own before: the covariates are then read once per evaluation instead of twice, and no
/// n-vectors are written and read back. The same function of the same row, so the same bits.
fn partial_likelihood_for<const P: usize>(
    data: &Data,
    beta: &DVector<f64>,
    ties: Ties,
) -> Vec<f64> {
    let p = if P > 0 { P } else { data.p };
    let beta: Vec<f64> = beta.iter().copied().collect();
    let mut out = vec![0.0; sums_len(p)];
    let by_run =
        |range: &std::ops::Range<usize>, runs: &[Run]| range.len() >= MIN_ROWS_PER_RUN * runs.len();
    if data
        .strata
        .iter()
        .zip(&data.runs)
        .all(|(r, runs)| by_run(r, runs))
    {
        let leaving = data.leaving_weights(&beta);
        let computed = |_: usize, x: &[f64]| {
            let eta = linear_predictor(&x[..p], &beta[..p]);
            (eta, eta.exp())
        };
        // The first Newton step's β: every weight is exp(0) = 1.
        let unit = |_: usize, _: &[f64]| (0.0, 1.0);
        let zero = beta.iter().all(|&b| b == 0.0);
        for runs in &data.runs {
            if zero {
                stratum_terms_by_run::<P>(data, runs, &unit, &leaving, ties, &mut out);
            } else {
                stratum_terms_by_run::<P>(data, runs, &computed, &leaving, ties, &mut out);
            }
        }
        return out;
    }
    let weights = data.risk_weights(&beta);
    let read = |j: usize, _: &[f64]| (weights.eta[j], weights.weight[j]);
    for (range, runs) in data.strata.iter().zip(&data.runs) {
        if by_run(range, runs) {
            stratum_terms_by_run::<P>(data, runs, &read, &weights.leaving, ties, &mut out);
        } else {
            stratum_terms_by_row::<P>(data, runs, &weights, ties, &mut out);
        }
    }
    out
}

/// Adds one stratum's terms to `out`, one row at a time in sweep order.
fn stratum_terms_by_row<const P: usize>(
    data: &Data,
    runs: &[Run],
    weights: &Weights,
    ties: Ties,
    out: &mut [f64],
) {
    let p = if P > 0 { P } else { data.p };
    let mut risk = vec![0.0; sums_len(p)];
    let mut dead = vec![0.0; sums_len(p)];
    let mut row = vec![0.0; p];
    let read = |j: usize, _: &[f64]| (weights.eta[j], weights.weight[j]);
    for run in runs {
        dead.fill(0.0);
        let d = add_rows(data, run, &read, p, &mut risk, &mut dead, out, &mut row);
        for k in run.leaving.clone() {
            add_row(&mut risk, data.leaving_row(k), -weights.leaving[k], p);
        }
        if d > 0 {
            add_death_terms(&risk, &dead, d, ties, p, out);
        }
    }
}

/// A run's slot of [`stratum_terms_by_run`]: sums over its rows, over the rows that leave the
/// risk set before its terms, over its deaths, then Σ η and Σ x over its deaths, then its
/// number of deaths. Compiled for AVX2 too ([`run_sums_avx2`]), used where the CPU has it.
/// Kept out of line: inlined into the parallel closure, its loop compiled to code twice as
/// slow.
#[inline(never)]
fn run_sums<const P: usize>(
    data: &Data,
    run: &Run,
    weight_of: &impl Fn(usize, &[f64]) -> (f64, f64),
    leaving: &[f64],
    slot: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { run_sums_avx2::<P>(data, run, weight_of, leaving, slot) };
        return;
    }
    run_sums_body::<P>(data, run, weight_of, leaving, slot);
}

/// [`run_sums`] compiled for AVX2: the p(p+1)/2 running sums of a row fit in its sixteen
/// 4-wide registers instead of spilling out of SSE2's 2-wide ones (the Cox fit alone on a
/// million rows, six covariates: 71 -> 66 ms). No fused multiply-add: each sum is the same
/// sequence of roundings as without AVX2, so the same bits on every x86-64 CPU.
///
/// # Safety
/// Only on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
unsafe fn run_sums_avx2<const P: usize>(
    data: &Data,
    run: &Run,
    weight_of: &impl Fn(usize, &[f64]) -> (f64, f64),
    leaving: &[f64],
    slot: &mut [f64],
) {
    run_sums_body::<P>(data, run, weight_of, leaving, slot);
}

/// [`run_sums`]' body, compiled into each of its versions.
#[inline(always)]
fn run_sums_body<const P: usize>(
    data: &Data,
    run: &Run,
    weight_of: &impl Fn(usize, &[f64]) -> (f64, f64),
    leaving: &[f64],
    slot: &mut [f64],
) {
    let p = if P > 0 { P } else { data.p };
    let q = sums_len(p);
    slot.fill(0.0);
    let (all, rest) = slot.split_at_mut(q);
    let (gone, rest) = rest.split_at_mut(q);
    let (dead, rest) = rest.split_at_mut(q);
    let (dying, count) = rest.split_at_mut(1 + p);
    count[0] = if P > 0 && P <= MAX_LOCAL {
        // Sums held in local arrays while the rows are added: the compiler keeps them in
        // registers (the slot's slices it must reload and store at every row).
        let mut local = [[0.0; sums_len(MAX_LOCAL)]; 2];
        let mut local_dying = [0.0; 1 + MAX_LOCAL];
        let mut row = [0.0; MAX_LOCAL];
        let [local_all, local_dead] = &mut local;
        let d = add_rows(
            data,
            run,
            weight_of,
            p,
            &mut local_all[..q],
            &mut local_dead[..q],
            &mut local_dying[..1 + p],
            &mut row[..p],
        );
        all.copy_from_slice(&local_all[..q]);
        dead.copy_from_slice(&local_dead[..q]);
        dying.copy_from_slice(&local_dying[..1 + p]);
        d
    } else {
        add_rows(data, run, weight_of, p, all, dead, dying, &mut vec![0.0; p])
    } as f64;
    for k in run.leaving.clone() {
        add_row(gone, data.leaving_row(k), leaving[k], p);
    }
}

/// Covariates up to which [`run_sums`] keeps its sums in local arrays.
const MAX_LOCAL: usize = 8;

/// Adds the rows of `run` (with their linear predictors and risk weights, `weight_of` a row
/// and its covariates) to the risk-set sums `risk`, and its dying rows to `dead` and to
/// `dying` = [Σ η, Σ x (p), ...]; returns the number of deaths. `row` (p long) holds each
/// row's covariates as it is added.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the sums it adds to, each a slice of its caller's
fn add_rows(
    data: &Data,
    run: &Run,
    weight_of: &impl Fn(usize, &[f64]) -> (f64, f64),
    p: usize,
    risk: &mut [f64],
    dead: &mut [f64],
    dying: &mut [f64],
    row: &mut [f64],
) -> usize {
    let mut d = 0;
    // Each row is added once, to the dying rows' sums or to the risk set's; the dying rows'
    // sums join the risk set's after the run (they are at risk too), one add instead of one
    // per dying row.
    // Two passes over the run's rows (in cache by the second), so that each keeps one set of
    // sums live in registers.
    for j in run.rows.clone() {
        if data.event[j] {
            d += 1;
            let x = data.row_into(j, row, p);
            let (eta, weight) = weight_of(j, x);
            add_row(dead, x, weight, p);
            dying[0] += eta;
            for (s, x) in dying[1..1 + p].iter_mut().zip(x) {
                *s += x;
            }
        }
    }
    for j in run.rows.clone() {
        if !data.event[j] {
            let x = data.row_into(j, row, p);
            add_row(risk, x, weight_of(j, x).1, p);
        }
    }
    if d > 0 {
        for (r, x) in risk.iter_mut().zip(dead.iter()) {
            *r += x;
        }
    }
    d
}

/// Adds one stratum's terms to `out` run by run, for strata with many tied exit times: each
/// run's sums over its rows and its deaths are formed in parallel, then the risk sets are
/// accumulated over the runs in sweep order (one add per run, not per row), then each run's
/// terms are formed in parallel and added in sweep order. Every sum runs in a fixed order, so
/// the result does not depend on the number of threads. `weight_of` gives a row's linear
/// predictor and risk weight; `leaving`, with delayed entry, the weights in leaving order.
fn stratum_terms_by_run<const P: usize>(
    data: &Data,
    runs: &[Run],
    weight_of: &(impl Fn(usize, &[f64]) -> (f64, f64) + Sync),
    leaving: &[f64],
    ties: Ties,
    out: &mut [f64],
) {
    use rayon::prelude::*;
    let p = if P > 0 { P } else { data.p };
    let q = sums_len(p);
    // A run's slot ([`run_sums`]); its first sums become those over its risk set.
    let stride = 3 * q + 1 + p + 1;
    let mut sums = vec![0.0; RUN_BATCH.min(runs.len()) * stride];
    let mut terms = vec![0.0; RUN_BATCH.min(runs.len()) * q];
    let mut risk = vec![0.0; q];
    for batch in runs.chunks(RUN_BATCH) {
        let sums = &mut sums[..batch.len() * stride];
        let terms = &mut terms[..batch.len() * q];
        sums.par_chunks_mut(stride)
            .zip(batch.par_iter())
            .for_each(|(slot, run)| run_sums::<P>(data, run, weight_of, leaving, slot));
        for slot in sums.chunks_mut(stride) {
            for ((r, joining), leaving) in risk.iter_mut().zip(&slot[..q]).zip(&slot[q..2 * q]) {
                *r += joining - leaving;
            }
            slot[..q].copy_from_slice(&risk);
        }
        terms
            .par_chunks_mut(q)
            .zip(sums.par_chunks(stride))
            .for_each(|(term, slot)| {
                term.fill(0.0);
                term[..1 + p].copy_from_slice(&slot[3 * q..3 * q + 1 + p]);
                let d = slot[stride - 1] as usize;
                if d > 0 {
                    add_death_terms(&slot[..q], &slot[2 * q..3 * q], d, ties, p, term);
                }
            });
        for term in terms.chunks(q) {
            for (o, v) in out.iter_mut().zip(term) {
                *o += v;
            }
        }
    }
}

/// Score residuals of every row, in sweep order (n × p, row-major): each row's share of the
/// score at `beta`, Σ over the event times t at which it is at risk of (δ/d − c(t))(x − x̄(t)),
/// where c is the row's share of the risk set's weight in each of Efron's d fractions (a dying
/// row weighs 1 − k/d in the k-th), as coxph's `residuals(type = "score")`. They sum to the
/// score. The times at risk are summed through cumulative hazard sums per stratum, so the cost
/// is one sweep plus a binary search per row.
#[allow(clippy::needless_range_loop)] // (a) indexes p-vectors as the formulas do
fn score_residuals(data: &Data, beta: &[f64], ties: Ties) -> Vec<f64> {
    let p = data.p;
    let weights = data.risk_weights(beta);
    let weight = &weights.weight;
    let mut residual = vec![0.0; data.time.len() * p];
    let mut row = vec![0.0; p];
    let (mut s1, mut d1, mut mean) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    let (mut g_risk, mut g_dead, mut mean_bar) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    for (range, runs) in data.strata.iter().zip(&data.runs) {
        // Per event time (descending): Σₖ 1/denₖ and Σₖ mₖ/denₖ, the increments of the
        // cumulative hazard and of its x̄-weighted sum that every row at risk takes.
        let mut times = Vec::new();
        let mut hazard = Vec::new();
        let mut weighted_mean = Vec::new();
        let mut s0 = 0.0;
        s1.iter_mut().for_each(|v| *v = 0.0);
        for run in runs {
            let (t, rows) = (data.time[run.rows.start], run.rows.clone());
            let mut d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            let mut d = 0usize;
            for j in rows.clone() {
                let w = weight[j];
                let x = data.row_into(j, &mut row, p);
                s0 += w;
                for (s, x) in s1.iter_mut().zip(x) {
                    *s += w * x;
                }
                if data.event[j] {
                    d += 1;
                    d0 += w;
                    for (s, x) in d1.iter_mut().zip(x) {
                        *s += w * x;
                    }
                }
            }
            for k in run.leaving.clone() {
                let w = weights.leaving[k];
                s0 -= w;
                for (s, x) in s1.iter_mut().zip(data.leaving_row(k)) {
                    *s -= w * x;
                }
            }
            if d > 0 {
                let (mut h_risk, mut h_dead) = (0.0, 0.0);
                g_risk.iter_mut().for_each(|v| *v = 0.0);
                g_dead.iter_mut().for_each(|v| *v = 0.0);
                mean_bar.iter_mut().for_each(|v| *v = 0.0);
                for k in 0..d {
                    let f = match ties {
                        Ties::Efron => k as f64 / d as f64,
                        Ties::Breslow => 0.0,
                    };
                    let den = s0 - f * d0;
                    for a in 0..p {
                        mean[a] = (s1[a] - f * d1[a]) / den;
                        g_risk[a] += mean[a] / den;
                        g_dead[a] += (1.0 - f) * mean[a] / den;
                        mean_bar[a] += mean[a] / d as f64;
                    }
                    h_risk += 1.0 / den;
                    h_dead += (1.0 - f) / den;
                }
                // A dying row: its dN term, and its own (smaller) share of the fractions in
                // place of the share every row at risk takes through the cumulative sums.
                for r in rows {
                    if data.event[r] {
                        let w = weight[r];
                        let x = data.row_into(r, &mut row, p);
                        for a in 0..p {
                            residual[r * p + a] +=
                                x[a] - mean_bar[a] - w * (x[a] * h_dead - g_dead[a])
                                    + w * (x[a] * h_risk - g_risk[a]);
                        }
                    }
                }
                times.push(t);
                hazard.push(h_risk);
                weighted_mean.extend_from_slice(&g_risk);
            }
        }
        // Cumulative sums over event times in ascending order: at index k, the sum over the
        // k earliest event times.
        let e = times.len();
        times.reverse();
        let mut cum_hazard = vec![0.0; e + 1];
        let mut cum_mean = vec![0.0; (e + 1) * p];
        for k in 0..e {
            let src = e - 1 - k;
            cum_hazard[k + 1] = cum_hazard[k] + hazard[src];
            for a in 0..p {
                cum_mean[(k + 1) * p + a] = cum_mean[k * p + a] + weighted_mean[src * p + a];
            }
        }
        let up_to = |v: f64| times.partition_point(|&s| s <= v);
        for r in range.clone() {
            let hi = up_to(data.time[r]);
            let lo = data.entry.as_ref().map_or(0, |entry| up_to(entry[r]));
            if hi == lo {
                continue;
            }
            let w = weight[r];
            let h = cum_hazard[hi] - cum_hazard[lo];
            let x = data.row_into(r, &mut row, p);
            for a in 0..p {
                let g = cum_mean[hi * p + a] - cum_mean[lo * p + a];
                residual[r * p + a] -= w * (x[a] * h - g);
            }
        }
    }
    residual
}

/// The sandwich variance V (Σ_c u_c u_cᵀ) V, with u_c the sum of cluster c's score residuals
/// and V the model-based variance.
#[allow(clippy::needless_range_loop)] // (a, b) index the meat as the formula does
fn robust_variance(
    residual: &[f64],
    cluster_of_row: impl Fn(usize) -> usize + Sync,
    vcov: &DMatrix<f64>,
    beta: &DVector<f64>,
) -> RobustVariance {
    use rayon::prelude::*;
    let p = beta.len();
    let n = residual.len() / p;
    // Each row's cluster, read in parallel: the rows are in sweep order, the clusters in the
    // caller's, so these are scattered reads, independent of one another.
    let cluster_of: Vec<usize> = (0..n).into_par_iter().map(&cluster_of_row).collect();
    // Clusters numbered in order of first appearance.
    let (slot_of_row, clusters) = first_appearance_slots(&cluster_of);
    drop(cluster_of);
    // The rows grouped by cluster, in row order within each (a counting sort), so that each
    // cluster's residuals are summed in row order by one task, with no scattered
    // read-modify-write of the sums per row (three dependent cache misses a row, on an
    // Andersen–Gill model of a million patients).
    let (grouped, starts) = super::group_by_key(0..n, |r| slot_of_row[r], clusters);
    drop(slot_of_row);
    let mut sums = vec![0.0; clusters * p];
    sums.par_chunks_mut(p)
        .with_min_len(1024)
        .enumerate()
        .for_each(|(c, u)| {
            for &r in &grouped[starts[c]..starts[c + 1]] {
                let row = &residual[r * p..(r + 1) * p];
                for (s, x) in u.iter_mut().zip(row) {
                    *s += x;
                }
            }
        });
    let mut meat = DMatrix::<f64>::zeros(p, p);
    for u in sums.chunks_exact(p) {
        for a in 0..p {
            for b in 0..p {
                meat[(a, b)] += u[a] * u[b];
            }
        }
    }
    let robust = vcov * meat * vcov;
    let se: Vec<f64> = (0..p).map(|j| robust[(j, j)].sqrt()).collect();
    let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
    let normal = Normal::standard();
    let wald = robust
        .clone()
        .cholesky()
        .map_or(f64::NAN, |c| beta.dot(&c.solve(beta)));
    RobustVariance {
        vcov: (0..p)
            .map(|r| (0..p).map(|c| robust[(r, c)]).collect())
            .collect(),
        p: z.iter().map(|z| 2.0 * normal.cdf(-z.abs())).collect(),
        se,
        z,
        wald_test: chi_square_test(wald, p),
        clusters,
    }
}

/// Each row's cluster numbered in order of first appearance, and the number of clusters.
fn first_appearance_slots(cluster_of: &[usize]) -> (Vec<usize>, usize) {
    const UNSEEN: u32 = u32::MAX;
    let n = cluster_of.len();
    let largest = cluster_of.iter().copied().max().unwrap_or(0);
    let mut slots = Vec::with_capacity(n);
    let clusters = if largest < 2 * n + 1024 && n < UNSEEN as usize {
        // Cluster labels that are small numbers (row or patient indices, codes): a table
        // indexed by label, a fraction of a hash lookup's cost per row.
        let mut index = vec![UNSEEN; largest + 1];
        let mut next = 0u32;
        for &c in cluster_of {
            let slot = &mut index[c];
            if *slot == UNSEEN {
                *slot = next;
                next += 1;
            }
            slots.push(*slot as usize);
        }
        next as usize
    } else {
        let mut index: foldhash::HashMap<usize, usize> = Default::default();
        for &c in cluster_of {
            let next = index.len();
            slots.push(*index.entry(c).or_insert(next));
        }
        index.len()
    };
    (slots, clusters)
}

pub(crate) fn chi_square_test(chisq: f64, df: usize) -> GlobalTest {
    let p = ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(chisq));
    GlobalTest { chisq, df, p }
}

/// Counts added at positions 0..size with prefix sums in O(log size): a Fenwick tree. The
/// concordance keeps one over the distinct exit times of a stratum, a few thousand on
/// registry data (times in days), small enough to stay in the fastest cache.
struct Fenwick {
    tree: Vec<i32>,
}

impl Fenwick {
    fn new(size: usize) -> Self {
        Self {
            tree: vec![0; size + 1],
        }
    }
    /// Adds `count` at `position`.
    fn add(&mut self, position: usize, count: i32) {
        let mut i = position + 1;
        while i < self.tree.len() {
            self.tree[i] += count;
            i += i & i.wrapping_neg();
        }
    }
    /// The sum of the counts at positions below `end`.
    fn below(&self, end: usize) -> i32 {
        let mut sum = 0;
        let mut i = end.min(self.tree.len() - 1);
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// Concordance counts of the linear predictor `eta` (higher risk should fail earlier) and
/// their standard error, in O(n log n).
///
/// A pair is comparable when the earlier time is an event and the other subject is at risk
/// then (time later, or censored at the same time; with `entry`, entered before it); pairs
/// tied on an event time are not. The standard error is survival's infinitesimal
/// jackknife: each subject's counts of concordant, discordant and tied pairs (as the earlier
/// or the later member) give dfbetaᵢ = (cᵢ − dᵢ)/N − (S/N)(cᵢ + dᵢ + tᵢ), S Somers' d and N
/// the comparable pairs, and var(C) = Σ dfbetaᵢ² / 4.
pub fn concordance(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    eta: &[f64],
    strata: Option<&[usize]>,
) -> Concordance {
    let order = super::order_by_stratum_and_time(time, strata, true);
    let ranges = super::stratum_ranges(&order, strata);
    let sorted = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    concordance_sorted(
        &sorted(time),
        &order.iter().map(|&i| event[i]).collect::<Vec<bool>>(),
        entry.map(sorted).as_deref(),
        &sorted(eta),
        &ranges,
    )
}

/// A subject of a stratum as sorted for the concordance: its score's sort key, its sweep
/// position, and the index of its exit time among the stratum's distinct exit times (latest
/// first) with [`EVENT_BIT`] set for an event. Sixteen bytes, as (key, position) alone; a
/// stratum has fewer than 2³¹ rows.
type Scored = (u64, u32, u32);

/// The event flag of a [`Scored`] subject's run.
const EVENT_BIT: u32 = 1 << 31;

/// A [`Scored`] subject unpacked.
#[derive(Debug, Clone, Copy)]
struct Subject {
    /// Index of its exit time among the stratum's distinct exit times, latest first.
    run: usize,
    event: bool,
    /// It is at risk at the event times of runs `start..end`: from its own run if censored
    /// (an event is not compared with the events tied with it), else the next, until its
    /// entry.
    start: usize,
    end: usize,
}

/// The runs of a stratum, for unpacking its [`Scored`] subjects.
struct StratumRuns<'a> {
    /// Distinct exit times.
    runs: usize,
    /// With delayed entry, each row's end of risk (a run index), by sweep position from
    /// `first`.
    ends: Option<&'a [u32]>,
    first: usize,
}

impl StratumRuns<'_> {
    fn subject(&self, &(_, row, run_event): &Scored) -> Subject {
        let (row, event) = (row as usize, run_event & EVENT_BIT != 0);
        let run = (run_event & !EVENT_BIT) as usize;
        Subject {
            run,
            event,
            start: run + usize::from(event),
            end: self
                .ends
                .map_or(self.runs, |e| e[row - self.first] as usize),
        }
    }
}

/// The ranges of `scored` (sorted) whose subjects share a score.
fn score_groups(scored: &[Scored]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start == scored.len() {
            return None;
        }
        let key = scored[start].0;
        let mut end = start + 1;
        while end < scored.len() && scored[end].0 == key {
            end += 1;
        }
        let group = start..end;
        start = end;
        Some(group)
    })
}

/// [`concordance`] on rows already in sweep order (each stratum's range by time descending).
///
/// Each stratum's subjects are taken in order of their risk score, and a subject's pairs with
/// lower scores are counted through a Fenwick tree over the stratum's distinct exit times (a
/// few thousand for times in days: the tree stays in the fastest cache): as the earlier
/// member, an event counts the subjects at risk at its time (each adds 1 over the runs it is
/// at risk at); as the later member, a subject counts the events at the times it is at risk
/// at. Subjects with equal scores are counted before and after their group is added, which
/// gives the tied pairs. The two passes run in parallel.
fn concordance_sorted(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    eta: &[f64],
    strata: &[std::ops::Range<usize>],
) -> Concordance {
    let n = time.len();
    // Each subject's [concordant, tied, discordant] pairs as the earlier and as the later
    // member, by stratum, in score order within it (the order the counts are made in: written
    // in turn, not scattered).
    let mut earlier = vec![[0i32; 3]; n];
    let mut later = vec![[0i32; 3]; n];
    // [concordant, tied_x, discordant, pairs of events tied on time, ... and on score].
    let mut totals = [0u64; 5];
    for range in strata {
        stratum_pairs(
            (time, event, entry, eta),
            range.clone(),
            (&mut earlier, &mut later),
            &mut totals,
        );
    }
    let [concordant, tied_x, discordant, tied_time, tied_xy] = totals;
    let comparable = (concordant + discordant + tied_x) as f64;
    let somers = (concordant as f64 - discordant as f64) / comparable;
    // var(C) = Σ dfbetaᵢ² / 4 with dfbetaᵢ = (cᵢ − dᵢ)/N − (S/N)(cᵢ + dᵢ + tᵢ), summed in
    // blocks of fixed size side by side, then the blocks' sums in order: the same bits
    // whatever the threads.
    let block_sums: Vec<f64> = {
        use rayon::prelude::*;
        earlier
            .par_chunks(VARIANCE_BLOCK)
            .zip(later.par_chunks(VARIANCE_BLOCK))
            .map(|(earlier, later)| {
                earlier
                    .iter()
                    .zip(later)
                    .map(|(e, l)| {
                        let c = f64::from(e[0] + l[0]);
                        let t = f64::from(e[1] + l[1]);
                        let d = f64::from(e[2] + l[2]);
                        let dfbeta = (c - d) / comparable - somers / comparable * (c + d + t);
                        dfbeta * dfbeta
                    })
                    .sum::<f64>()
            })
            .collect()
    };
    let variance = block_sums.iter().sum::<f64>() / 4.0;
    Concordance {
        estimate: (concordant as f64 + tied_x as f64 / 2.0) / comparable,
        std_err: variance.sqrt(),
        concordant,
        discordant,
        tied_x,
        tied_y: tied_time - tied_xy,
        tied_xy,
    }
}

/// Subjects per block of the concordance variance's sum (one block below this many: the sum
/// in subject order).
const VARIANCE_BLOCK: usize = 1 << 16;

/// Columns of [`concordance_sorted`]: time, event, entry, score, in sweep order.
type SweepColumns<'a> = (&'a [f64], &'a [bool], Option<&'a [f64]>, &'a [f64]);

/// Counts the pairs of one stratum (`range`, in sweep order) into `earlier` and `later` (per
/// subject) and `totals` (as in [`concordance_sorted`]).
fn stratum_pairs(
    (time, event, entry, eta): SweepColumns,
    range: std::ops::Range<usize>,
    (earlier, later): (&mut [[i32; 3]], &mut [[i32; 3]]),
    totals: &mut [u64; 5],
) {
    // The distinct exit times (runs, latest first): where each begins, then its events
    // (counted run by run in parallel). Then, with delayed entry, the run at which each
    // subject's risk ends.
    let run_starts = run_starts(time, range.clone());
    let runs = run_starts.len();
    let events_in_run: Vec<i32> = {
        use rayon::prelude::*;
        (0..runs)
            .into_par_iter()
            .map(|r| {
                let end = run_starts.get(r + 1).copied().unwrap_or(range.end);
                event[run_starts[r]..end].iter().filter(|&&e| e).count() as i32
            })
            .collect()
    };
    totals[3] += events_in_run
        .iter()
        .map(|&d| {
            let d = d as u64;
            d * d.saturating_sub(1) / 2
        })
        .sum::<u64>();
    // At risk until the first run at or before its entry (runs are latest first).
    let ends: Option<Vec<u32>> = entry.map(|e| {
        range
            .clone()
            .map(|i| run_starts.partition_point(|&s| time[s] > e[i]) as u32)
            .collect()
    });
    let stratum = StratumRuns {
        runs,
        ends: ends.as_deref(),
        first: range.start,
    };
    let at_risk = subjects_at_risk(event, &range, &run_starts, &events_in_run, ends.as_deref());
    let scored = scored_in_score_order(eta, event, range.clone(), &run_starts);
    let (earlier_totals, ()) = rayon::join(
        || earlier_member_pairs(&scored, &stratum, &at_risk, &mut earlier[range.clone()]),
        || later_member_pairs(&scored, &stratum, &events_in_run, &mut later[range.clone()]),
    );
    for (t, e) in totals.iter_mut().zip(earlier_totals) {
        *t += e;
    }
}

/// The subjects of a stratum (`range`, in sweep order; runs beginning at `run_starts`) at risk
/// at the event times of each run: a subject is from its own run if censored (an event is not
/// compared with the events tied with it), else from the next, until its entry (`ends`, by
/// sweep position from the stratum's first) or else to the last run.
fn subjects_at_risk(
    event: &[bool],
    range: &std::ops::Range<usize>,
    run_starts: &[usize],
    events_in_run: &[i32],
    ends: Option<&[u32]>,
) -> Vec<i32> {
    let runs = run_starts.len();
    let Some(ends) = ends else {
        // Without delayed entry: every subject of the runs before, and the censored of its own.
        return (0..runs)
            .map(|r| {
                let end = run_starts.get(r + 1).copied().unwrap_or(range.end);
                (end - range.start) as i32 - events_in_run[r]
            })
            .collect();
    };
    let mut change = vec![0i32; runs + 1];
    let mut run = 0;
    for i in range.clone() {
        while run + 1 < runs && run_starts[run + 1] <= i {
            run += 1;
        }
        let (start, end) = (run + usize::from(event[i]), ends[i - range.start] as usize);
        if start < end {
            change[start] += 1;
            change[end] -= 1;
        }
    }
    let mut running = 0;
    change[..runs]
        .iter()
        .map(|c| {
            running += c;
            running
        })
        .collect()
}

/// Subjects per fine bucket, on average at most, of [`scored_in_score_order`]'s distribution
/// sort.
const SUBJECTS_PER_BUCKET: usize = 4;

/// Coarse buckets of [`scored_in_score_order`]'s first pass: few enough that writing to all of
/// them at once stays in cache.
const COARSE_BUCKETS: usize = 256;

/// Subjects in one fine bucket of [`scored_in_score_order`] above which it is sorted in
/// parallel.
const CROWDED_BUCKET: usize = 1 << 16;

/// The inverse of [`super::total_order_key`].
fn from_total_order_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// The subjects of a stratum (`range`, in sweep order; runs beginning at `run_starts`) as
/// [`Scored`], in order of score, then of sweep position (a total order: the result does not
/// depend on the threads).
///
/// A distribution sort rather than a comparison sort of them all. Each subject has a fine
/// bucket, one of at least n/4, by where its score falls between the lowest and the highest:
/// a map that never decreases with the score, so the buckets are in score order and only each
/// bucket (a few subjects) is left to sort. The subjects are moved in two passes that each
/// write to few places at once (one pass to n/4 places would miss the cache at nearly every
/// write): each thread moves a piece of the rows to their coarse buckets (runs of consecutive
/// fine ones); then, coarse bucket by coarse bucket in parallel, the pieces' subjects of that
/// bucket go to their fine buckets in its slice of the result, each fine bucket then sorted.
/// Scores that are not all finite (or all equal) make one bucket, sorted whole.
fn scored_in_score_order(
    eta: &[f64],
    event: &[bool],
    range: std::ops::Range<usize>,
    run_starts: &[usize],
) -> Vec<Scored> {
    use rayon::prelude::*;
    let scores = &eta[range.clone()];
    let n = scores.len();
    if n == 0 {
        return Vec::new();
    }
    // The lowest and highest scores, and whether all are finite (min and max pass NaN by).
    let (low, high, finite) = scores
        .par_iter()
        .fold(
            || (f64::INFINITY, f64::NEG_INFINITY, true),
            |(low, high, finite), &v| (low.min(v), high.max(v), finite && v.is_finite()),
        )
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY, true),
            |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 && b.2),
        );
    let coarse = COARSE_BUCKETS.min(n / SUBJECTS_PER_BUCKET).max(1);
    // Fine buckets per coarse one: a power of two, so that a fine bucket's coarse one is a
    // shift away.
    let shift = (n / SUBJECTS_PER_BUCKET)
        .div_ceil(coarse)
        .next_power_of_two()
        .trailing_zeros();
    let mut scale = (coarse << shift) as f64 / (high - low);
    if !finite || !scale.is_finite() {
        scale = 0.0;
    }
    let last_fine = (coarse << shift) - 1;
    // Rounding never reverses an order: (v − low)·scale, then its floor, never decrease as v
    // grows (−0 and 0 fall in one bucket).
    let fine_of = |v: f64| (((v - low) * scale) as usize).min(last_fine);
    // Each thread's piece of the rows moved to their coarse buckets, with where each begins.
    let piece = n.div_ceil(rayon::current_num_threads().clamp(1, n));
    let pieces: Vec<(Vec<Scored>, Vec<usize>)> = (0..n.div_ceil(piece))
        .into_par_iter()
        .map(|p| {
            let rows = p * piece..((p + 1) * piece).min(n);
            let mut starts = vec![0usize; coarse + 1];
            for &v in &scores[rows.clone()] {
                starts[(fine_of(v) >> shift) + 1] += 1;
            }
            for c in 1..=coarse {
                starts[c] += starts[c - 1];
            }
            let mut next = starts.clone();
            let mut moved: Vec<Scored> = vec![(0, 0, 0); rows.len()];
            let first = range.start + rows.start;
            let mut run = run_starts
                .partition_point(|&s| s <= first)
                .saturating_sub(1);
            for (i, &v) in (first..).zip(&scores[rows]) {
                while run + 1 < run_starts.len() && run_starts[run + 1] <= i {
                    run += 1;
                }
                // −0 and 0 are one score.
                let score = if v == 0.0 { 0.0 } else { v };
                let flag = if event[i] { EVENT_BIT } else { 0 };
                let slot = &mut next[fine_of(v) >> shift];
                moved[*slot] = (super::total_order_key(score), i as u32, run as u32 | flag);
                *slot += 1;
            }
            (moved, starts)
        })
        .collect();
    // Each coarse bucket's slice of the result.
    let mut scored: Vec<Scored> = vec![(0, 0, 0); n];
    let mut slices = Vec::with_capacity(coarse);
    let mut rest = scored.as_mut_slice();
    for c in 0..coarse {
        let size = pieces.iter().map(|(_, s)| s[c + 1] - s[c]).sum();
        let (slice, tail) = rest.split_at_mut(size);
        slices.push((c, slice));
        rest = tail;
    }
    slices.into_par_iter().for_each(|(c, slice)| {
        let members = || pieces.iter().flat_map(|(moved, s)| &moved[s[c]..s[c + 1]]);
        let first_fine = c << shift;
        let fine_in = |s: &Scored| fine_of(from_total_order_key(s.0)) - first_fine;
        let mut fine_starts = vec![0usize; (1 << shift) + 1];
        for s in members() {
            fine_starts[fine_in(s) + 1] += 1;
        }
        for f in 1..fine_starts.len() {
            fine_starts[f] += fine_starts[f - 1];
        }
        let mut next = fine_starts.clone();
        for s in members() {
            let slot = &mut next[fine_in(s)];
            slice[*slot] = *s;
            *slot += 1;
        }
        for bounds in fine_starts.windows(2) {
            let bucket = &mut slice[bounds[0]..bounds[1]];
            // A crowded bucket (scores far from the others widen every bucket) on all threads.
            if bucket.len() > CROWDED_BUCKET {
                bucket.par_sort_unstable();
            } else {
                bucket.sort_unstable();
            }
        }
    });
    scored
}

/// Each event's pairs as the earlier member (subjects sorted by score) into `out`, by position
/// in `scored`: [concordant (at risk then with a lower score), tied, discordant] with the
/// subjects at risk at its time (`at_risk` per run, whatever their score); and the totals
/// [concordant, tied_x, discordant, 0, pairs of events tied on time and score].
fn earlier_member_pairs(
    scored: &[Scored],
    stratum: &StratumRuns,
    at_risk: &[i32],
    out: &mut [[i32; 3]],
) -> [u64; 5] {
    let runs = stratum.runs;
    let mut tree = Fenwick::new(runs);
    // One at its start and minus one at its end: the tree's sum up to a run counts the
    // subjects added so far that are at risk then.
    let add = |tree: &mut Fenwick, s: &Subject| {
        if s.start < s.end {
            tree.add(s.start, 1);
            if s.end < runs {
                tree.add(s.end, -1);
            }
        }
    };
    let mut totals = [0u64; 5];
    let count = |o: &[i32; 3], totals: &mut [u64; 5]| {
        for (t, &v) in totals.iter_mut().zip(o) {
            *t += v as u64;
        }
    };
    // Events of the current score group per run, for the pairs tied on time and score.
    let mut tied_here = vec![0u32; runs];
    for group in score_groups(scored) {
        if group.len() == 1 {
            let k = group.start;
            let s = stratum.subject(&scored[k]);
            if s.event {
                let below = tree.below(s.run + 1);
                out[k] = [below, 0, at_risk[s.run] - below];
                count(&out[k], &mut totals);
            }
            add(&mut tree, &s);
            continue;
        }
        let members = || group.clone().map(|k| (k, stratum.subject(&scored[k])));
        for (k, s) in members() {
            if s.event {
                out[k][0] = tree.below(s.run + 1);
            }
        }
        for (_, s) in members() {
            add(&mut tree, &s);
        }
        for (k, s) in members() {
            if s.event {
                let o = &mut out[k];
                o[1] = tree.below(s.run + 1) - o[0];
                o[2] = at_risk[s.run] - o[0] - o[1];
                count(o, &mut totals);
                totals[4] += u64::from(tied_here[s.run]);
                tied_here[s.run] += 1;
            }
        }
        for (_, s) in members() {
            tied_here[s.run] = 0;
        }
    }
    totals
}

/// Each subject's pairs as the later member (subjects sorted by score) into `out`, by position
/// in `scored`: [concordant (events with a higher score), tied, discordant] with the events at
/// the times it is at risk at (`events_in_run` per run, whatever their score).
fn later_member_pairs(
    scored: &[Scored],
    stratum: &StratumRuns,
    events_in_run: &[i32],
    out: &mut [[i32; 3]],
) {
    let runs = stratum.runs;
    // Events at the runs before each index.
    let mut events_before = Vec::with_capacity(runs + 1);
    let mut running = 0;
    events_before.push(0);
    for &d in events_in_run {
        running += d;
        events_before.push(running);
    }
    let mut tree = Fenwick::new(runs);
    let mut added = 0;
    // Events added so far at the times `s` is at risk at.
    let seen = |tree: &Fenwick, added: i32, s: &Subject| {
        if s.start >= s.end {
            0
        } else if s.end == runs {
            added - tree.below(s.start)
        } else {
            tree.below(s.end) - tree.below(s.start)
        }
    };
    let all = |s: &Subject| {
        if s.start < s.end {
            events_before[s.end] - events_before[s.start]
        } else {
            0
        }
    };
    for group in score_groups(scored) {
        if group.len() == 1 {
            let k = group.start;
            let s = stratum.subject(&scored[k]);
            let below = seen(&tree, added, &s);
            out[k] = [all(&s) - below, 0, below];
            if s.event {
                tree.add(s.run, 1);
                added += 1;
            }
            continue;
        }
        let members = || group.clone().map(|k| (k, stratum.subject(&scored[k])));
        for (k, s) in members() {
            out[k][2] = seen(&tree, added, &s);
        }
        for (_, s) in members() {
            if s.event {
                tree.add(s.run, 1);
                added += 1;
            }
        }
        for (k, s) in members() {
            let o = &mut out[k];
            o[1] = seen(&tree, added, &s) - o[2];
            o[0] = all(&s) - o[1] - o[2];
        }
    }
}

/// Newton–Raphson iterations before giving up (coxph's default is 20; the stricter
/// convergence rule here may take a few more).
const MAX_ITERATIONS: usize = 50;

/// Relative change of the log partial likelihood at which Newton–Raphson has converged.
const CONVERGENCE: f64 = 1e-12;

/// Fits `Surv(entry, time, event) ~ covariates + strata(strata)`.
pub fn coxph(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    covariates: &[Vec<f64>],
    strata: Option<&[usize]>,
    ties: Ties,
) -> Result<CoxFit, StatsError> {
    coxph_with(
        time,
        event,
        entry,
        covariates,
        strata,
        CoxOptions::new(ties),
    )
}

/// How a Cox model is fitted beyond its data: the ties, the clusters, and whether the
/// concordance (an O(n log n) pass of its own) is wanted.
#[derive(Debug, Clone, Copy)]
pub struct CoxOptions<'a> {
    /// How tied event times enter the partial likelihood.
    pub ties: Ties,
    /// Each row's cluster: adds the variance robust to correlation within clusters
    /// ([`CoxFit::robust`]), as `cluster(id)`. An Andersen–Gill model of recurrent events has
    /// one cluster per patient and one row per interval between events.
    pub cluster: Option<&'a [usize]>,
    /// Whether to compute Harrell's concordance ([`CoxFit::concordance`]).
    pub concordance: bool,
}

impl CoxOptions<'_> {
    /// `ties`, no clusters, with the concordance (coxph's output).
    pub fn new(ties: Ties) -> Self {
        Self {
            ties,
            cluster: None,
            concordance: true,
        }
    }
}

/// Fits `Surv(entry, time, event) ~ covariates + strata(strata)` (+ `cluster(...)`) as
/// `options` say. Covariates handed over (owned) are sorted in their own memory, which the fit
/// then keeps: no second copy of them is made.
pub fn coxph_with<'c>(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    covariates: impl Into<Cow<'c, [Vec<f64>]>>,
    strata: Option<&[usize]>,
    options: CoxOptions,
) -> Result<CoxFit, StatsError> {
    let covariates = covariates.into();
    let (ties, cluster) = (options.ties, options.cluster);
    if cluster.is_some_and(|c| c.len() != time.len()) {
        return Err(StatsError::LengthMismatch);
    }
    let n = time.len();
    if n == 0 || covariates.is_empty() {
        return Err(StatsError::Empty);
    }
    if event.len() != n
        || covariates.iter().any(|c| c.len() != n)
        || entry.is_some_and(|e| e.len() != n)
        || strata.is_some_and(|s| s.len() != n)
    {
        return Err(StatsError::LengthMismatch);
    }
    if time.iter().any(|t| !t.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let means = covariate_means(&covariates)?;
    let p = covariates.len();
    let (mut data, order) = Data::new(time, event, entry, covariates, &means, strata);
    // The clusters are the one input still needed in the caller's row order.
    let order = cluster.map(|_| order);
    let mut beta = DVector::zeros(p);
    let (loglik_null, score0, info0) = partial_likelihood(&data, &beta, ties);
    let score_chisq = info0
        .clone()
        .cholesky()
        .map(|c| score0.dot(&c.solve(&score0)))
        .unwrap_or(f64::NAN);
    let (mut loglik, mut score, mut info) = (loglik_null, score0, info0);
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..MAX_ITERATIONS {
        let Some(chol) = info.clone().cholesky() else {
            return Err(StatsError::SingularDesign(Vec::new()));
        };
        let step = chol.solve(&score);
        let mut scale = 1.0;
        let (new_beta, new) = loop {
            let candidate = &beta + &step * scale;
            let evaluated = partial_likelihood(&data, &candidate, ties);
            // Step-halving, as coxph does when the likelihood falls; as in coxph, a fall within
            // the convergence tolerance (rounding, at the optimum) is convergence, not a fall.
            if evaluated.0 >= loglik - CONVERGENCE * loglik.abs().max(1.0) || scale < 1e-6 {
                break (candidate, evaluated);
            }
            scale /= 2.0;
        };
        iterations += 1;
        let change = (new.0 - loglik).abs();
        beta = new_beta;
        (loglik, score, info) = new;
        // coxph's rule, |1 − ℓ_new/ℓ_old| < eps, with eps 1e-12 instead of 1e-9: Newton
        // converges quadratically, so the coefficients are then exact to well below 1e-10.
        // (A bound on the step as well never holds on large data: ℓ's rounding noise moves it.)
        if change <= CONVERGENCE * loglik.abs().max(1.0) {
            converged = true;
            break;
        }
    }
    let Some(vcov) = info.clone().try_inverse() else {
        return Err(StatsError::SingularDesign(Vec::new()));
    };
    // coxph's check for a monotone likelihood: the log-likelihood has converged, yet the next
    // Newton step (V·U) would still move a coefficient by more than eps and more than
    // toler.inf = √eps times its size (coxph.control's defaults, eps = 1e-9).
    let next_step = &vcov * &score;
    let may_be_infinite = (0..p)
        .map(|j| {
            let step = next_step[j].abs();
            converged && step > 1e-9 && step > 1e-9f64.sqrt() * beta[j].abs()
        })
        .collect();
    let coef: Vec<f64> = beta.iter().copied().collect();
    let se: Vec<f64> = (0..p).map(|j| vcov[(j, j)].sqrt()).collect();
    let z: Vec<f64> = coef.iter().zip(&se).map(|(b, s)| b / s).collect();
    let normal = Normal::standard();
    let pvalues = z.iter().map(|z| 2.0 * normal.cdf(-z.abs())).collect();
    let wald = beta.dot(&(&info * &beta));
    let eta = data.linear_predictor(&coef);
    if cluster.is_none() {
        // Only the score residuals read the covariates again: freed now, their memory serves
        // the concordance.
        data.x = Vec::new();
    }
    // The robust variance and the concordance read the same data: computed side by side.
    let (robust, concordance) = rayon::join(
        || {
            cluster.zip(order.as_ref()).map(|(cluster, order)| {
                let residual = score_residuals(&data, &coef, ties);
                robust_variance(&residual, |r| cluster[order[r]], &vcov, &beta)
            })
        },
        || {
            options.concordance.then(|| {
                concordance_sorted(
                    &data.time,
                    &data.event,
                    data.entry.as_deref(),
                    &eta,
                    &data.strata,
                )
            })
        },
    );
    Ok(CoxFit {
        coef,
        se,
        z,
        p: pvalues,
        vcov: (0..p)
            .map(|r| (0..p).map(|c| vcov[(r, c)]).collect())
            .collect(),
        loglik,
        loglik_null,
        lr_test: chi_square_test(2.0 * (loglik - loglik_null), p),
        wald_test: chi_square_test(wald, p),
        score_test: chi_square_test(score_chisq, p),
        iterations,
        converged,
        may_be_infinite,
        n,
        events: event.iter().filter(|e| **e).count(),
        concordance,
        robust,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// −0 and 0 are one risk score: the pairs between them are tied, not ordered.
    #[test]
    fn concordance_ties_signed_zero_scores() {
        let time = [1.0, 2.0, 3.0, 4.0];
        let event = [true, true, false, true];
        let zeros = concordance(&time, &event, None, &[0.0, 0.0, 0.0, 1.0], None);
        let signed = concordance(&time, &event, None, &[-0.0, 0.0, -0.0, 1.0], None);
        assert_eq!(signed, zeros);
        // Three events compare with the subjects after them: 3 + 2 + 0 pairs, of which the
        // first event's with the second and third and the second's with the third are tied.
        assert_eq!((zeros.tied_x, zeros.concordant + zeros.discordant), (3, 2));
    }

    /// The distribution sort gives the order a comparison sort gives, whatever the scores
    /// (continuous, tied, −0 and 0, one far from the others, not finite, all equal) and the
    /// threads; with each subject's run and event flag.
    #[test]
    fn scored_in_score_order_is_the_sorted_order() {
        let mut next = super::super::xorshift(7);
        let n = 20_000;
        let uniform: Vec<f64> = (0..n).map(|_| next(1_000_000) as f64 / 1e5 - 5.0).collect();
        let tied: Vec<f64> = (0..n).map(|_| next(7) as f64 * 0.25 - 0.5).collect();
        let signed_zeros: Vec<f64> = (0..n)
            .map(|k| [0.0, -0.0, 1.5, -1.5][k % 4] * if k % 3 == 0 { 1.0 } else { 0.0 })
            .collect();
        let mut far = uniform.clone();
        far[123] = 1e300;
        let mut not_finite = uniform.clone();
        not_finite[5] = f64::INFINITY;
        not_finite[6] = f64::NEG_INFINITY;
        not_finite[7] = f64::NAN;
        let equal = vec![0.3; n];
        let time: Vec<f64> = {
            let mut t: Vec<f64> = (0..n).map(|_| next(500) as f64).collect();
            t.sort_by(|a, b| b.total_cmp(a));
            t
        };
        let event: Vec<bool> = (0..n).map(|_| next(3) == 0).collect();
        let run_starts: Vec<usize> = (0..n)
            .filter(|&i| i == 0 || time[i] != time[i - 1])
            .collect();
        let mut run_of = vec![0u32; n];
        for (r, &s) in run_starts.iter().enumerate() {
            run_of[s..].fill(r as u32);
        }
        for eta in [&uniform, &tied, &signed_zeros, &far, &not_finite, &equal] {
            // A stratum in the middle, and the whole.
            for range in [1000..17_000, 0..n, 5..6] {
                let starts: Vec<usize> = run_starts
                    .iter()
                    .copied()
                    .filter(|&s| s > range.start && s < range.end)
                    .collect();
                let starts: Vec<usize> = std::iter::once(range.start).chain(starts).collect();
                let mut expected: Vec<Scored> = range
                    .clone()
                    .map(|i| {
                        let score = if eta[i] == 0.0 { 0.0 } else { eta[i] };
                        let run = run_of[i] - run_of[range.start];
                        let flag = if event[i] { EVENT_BIT } else { 0 };
                        (super::super::total_order_key(score), i as u32, run | flag)
                    })
                    .collect();
                expected.sort_unstable();
                for threads in [1, 3] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .expect("thread pool");
                    let got =
                        pool.install(|| scored_in_score_order(eta, &event, range.clone(), &starts));
                    assert!(got == expected, "{threads} threads, {range:?}");
                }
            }
        }
    }

    /// Covariates handed over, sorted in their own memory one column after another on each
    /// thread, are laid out as borrowed ones are (each a new sorted copy), to the bit, whatever
    /// the threads and however the columns fall among them; and the fits agree.
    #[test]
    fn owned_covariates_are_sorted_as_borrowed_ones() {
        let (time, event, entry, strata, three) =
            tied_cohort(5_000, 300, 200, super::super::xorshift(11));
        let mut next = super::super::xorshift(12);
        // Five columns: with three threads, two columns each to two of them and one to the last.
        let mut covariates = three;
        covariates.push((0..time.len()).map(|_| next(100) as f64 - 50.0).collect());
        covariates.push((0..time.len()).map(|_| next(2) as f64).collect());
        let means = covariate_means(&covariates).expect("finite covariates");
        for entry in [None, Some(entry.as_slice())] {
            let (borrowed, borrowed_order) =
                Data::new(&time, &event, entry, &covariates, &means, Some(&strata));
            for threads in [1, 2, 3, 8] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("thread pool");
                let (owned, owned_order) = pool.install(|| {
                    Data::new(
                        &time,
                        &event,
                        entry,
                        covariates.clone(),
                        &means,
                        Some(&strata),
                    )
                });
                assert_eq!(owned_order, borrowed_order, "{threads} threads");
                assert!(owned.x == borrowed.x, "{threads} threads: covariates");
                assert!(
                    owned.leaving_x == borrowed.leaving_x,
                    "{threads} threads: leaving rows"
                );
            }
        }
        let fit = |covariates: Cow<[Vec<f64>]>| {
            coxph_with(
                &time,
                &event,
                None,
                covariates,
                Some(&strata),
                CoxOptions::new(Ties::Efron),
            )
            .expect("fit")
        };
        assert_eq!(
            fit(Cow::Owned(covariates.clone())),
            fit(Cow::Borrowed(&covariates))
        );
    }

    /// A covariate value that is not finite is refused, whichever it is and wherever; finite
    /// values whose sum overflows are not (as one by one).
    #[test]
    fn covariates_not_finite_are_refused() {
        let time = [5.0, 3.0, 8.0, 1.0];
        let event = [true, false, true, true];
        let fit = |bad: f64| {
            let covariates = vec![vec![0.5, 1.5, -0.5, 2.0], vec![1.0, 2.0, 3.0, bad]];
            coxph(&time, &event, None, &covariates, None, Ties::Efron)
        };
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(fit(bad), Err(StatsError::NotFinite)), "{bad}");
        }
        let huge = vec![vec![f64::MAX, f64::MAX, 1.0, 2.0]];
        assert_eq!(covariate_means(&huge).map(|m| m[0]), Ok(f64::INFINITY));
        let with_inf = vec![vec![f64::INFINITY, f64::NEG_INFINITY, 1.0, 2.0]];
        assert_eq!(covariate_means(&with_inf), Err(StatsError::NotFinite));
    }

    /// Cluster labels far apart (looked up by hash) and the same clusters as small numbers
    /// (looked up in a table) give the same robust variance, to the bit.
    #[test]
    fn robust_variance_is_the_same_whatever_the_cluster_labels() {
        let residual: Vec<f64> = (0..40)
            .map(|k| ((k * 37 % 17) as f64 - 8.0) / 7.0)
            .collect();
        let vcov = DMatrix::from_row_slice(2, 2, &[0.5, 0.1, 0.1, 0.4]);
        let beta = DVector::from_vec(vec![0.2, -0.3]);
        let small = |r: usize| (r * 7) % 9;
        let far_apart = |r: usize| small(r) * 1_000_000_007 + 3;
        let by_table = robust_variance(&residual, small, &vcov, &beta);
        let by_hash = robust_variance(&residual, far_apart, &vcov, &beta);
        assert_eq!(by_table.clusters, 9);
        assert_eq!(by_hash.clusters, 9);
        assert_eq!(by_table.vcov, by_hash.vcov);
        assert_eq!(by_table.se, by_hash.se);
    }

    /// The clusters' sums, formed by grouping the rows, are those of adding each row to its
    /// cluster in turn (clusters in order of first appearance, rows in order), to the bit.
    #[test]
    fn robust_variance_adds_each_cluster_row_by_row() {
        let (n, p) = (5_000, 3);
        let residual: Vec<f64> = (0..n * p)
            .map(|k| ((k * 7919 % 1013) as f64 - 506.0) / 97.0)
            .collect();
        let cluster = |r: usize| (r * 7 + r / 13) % 1_700;
        let vcov = DMatrix::from_row_slice(3, 3, &[0.5, 0.1, 0.0, 0.1, 0.4, 0.05, 0.0, 0.05, 0.3]);
        let beta = DVector::from_vec(vec![0.2, -0.3, 0.1]);
        let fit = robust_variance(&residual, cluster, &vcov, &beta);
        let mut slot_of = std::collections::HashMap::new();
        let mut sums: Vec<f64> = Vec::new();
        for r in 0..n {
            let next = slot_of.len();
            let slot = *slot_of.entry(cluster(r)).or_insert(next);
            if slot == next {
                sums.extend(std::iter::repeat_n(0.0, p));
            }
            for a in 0..p {
                sums[slot * p + a] += residual[r * p + a];
            }
        }
        let mut meat = DMatrix::<f64>::zeros(p, p);
        for u in sums.chunks_exact(p) {
            meat += DMatrix::from_fn(p, p, |a, b| u[a] * u[b]);
        }
        let robust = &vcov * meat * &vcov;
        assert_eq!(fit.clusters, slot_of.len());
        for a in 0..p {
            for b in 0..p {
                assert_eq!(fit.vcov[a][b], robust[(a, b)], "({a}, {b})");
            }
        }
    }

    /// A test cohort's columns: time, event, entry, stratum, covariates.
    type TiedCohort = (Vec<f64>, Vec<bool>, Vec<f64>, Vec<usize>, Vec<Vec<f64>>);

    /// `n` rows of a Cox model with tied whole-number exit times (1 to `times`), 70% events,
    /// entries up to `entry_span` before the exit, two strata and three covariates, drawn in
    /// that order from `next` (a draw below its argument).
    fn tied_cohort(
        n: usize,
        times: u64,
        entry_span: u64,
        mut next: impl FnMut(u64) -> u64,
    ) -> TiedCohort {
        let time: Vec<f64> = (0..n).map(|_| 1.0 + next(times) as f64).collect();
        let event: Vec<bool> = (0..n).map(|_| next(10) < 7).collect();
        let entry: Vec<f64> = time
            .iter()
            .map(|t| (t - 1.0 - next(entry_span) as f64).max(0.0))
            .collect();
        let strata: Vec<usize> = (0..n).map(|_| next(2) as usize).collect();
        let covariates: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..n).map(|_| next(1000) as f64 / 250.0).collect())
            .collect();
        (time, event, entry, strata, covariates)
    }

    /// The run-by-run partial likelihood (parallel, batched) equals the row-by-row one, with
    /// more runs than a batch holds, strata, delayed entry and both ties methods.
    #[test]
    fn partial_likelihood_by_run_equals_by_row() {
        // A fixed pseudo-random stream (64-bit LCG), so the test reads the same data each run.
        let mut state = 12345u64;
        let next = move |below: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % below
        };
        let (time, event, entry, strata, covariates) = tied_cohort(12_000, 1500, 900, next);
        let means = covariate_means(&covariates).expect("finite covariates");
        let beta = [0.3, -0.2, 0.1];
        for entry in [None, Some(entry.as_slice())] {
            let (data, _) = Data::new(&time, &event, entry, &covariates, &means, Some(&strata));
            let weights = data.risk_weights(&beta);
            assert!(
                data.runs.iter().any(|r| r.len() > RUN_BATCH),
                "several batches"
            );
            for ties in [Ties::Efron, Ties::Breslow] {
                let mut by_row = vec![0.0; sums_len(3)];
                let mut by_run = vec![0.0; sums_len(3)];
                for runs in &data.runs {
                    stratum_terms_by_row::<3>(&data, runs, &weights, ties, &mut by_row);
                    let read = |j: usize, _: &[f64]| (weights.eta[j], weights.weight[j]);
                    stratum_terms_by_run::<3>(
                        &data,
                        runs,
                        &read,
                        &weights.leaving,
                        ties,
                        &mut by_run,
                    );
                }
                for (k, (a, b)) in by_row.iter().zip(&by_run).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-10 * a.abs().max(1.0),
                        "term {k} ({ties:?}, entry {}): {a} by row, {b} by run",
                        entry.is_some()
                    );
                }
            }
        }
    }

    /// Weights computed as the rows are added give the sums that weights computed beforehand
    /// give, to the bit: at β = 0 and elsewhere, with strata, with and without delayed entry.
    #[test]
    fn weights_computed_in_the_sweep_are_the_precomputed_ones() {
        // Many rows per exit time: every stratum is summed run by run.
        let (time, event, entry, strata, covariates) =
            tied_cohort(6_000, 200, 150, super::super::xorshift(5));
        let means = covariate_means(&covariates).expect("finite covariates");
        for entry in [None, Some(entry.as_slice())] {
            let (data, _) = Data::new(&time, &event, entry, &covariates, &means, Some(&strata));
            for beta in [[0.0, 0.0, 0.0], [0.3, -0.2, 0.1]] {
                let weights = data.risk_weights(&beta);
                let read = |j: usize, _: &[f64]| (weights.eta[j], weights.weight[j]);
                for ties in [Ties::Efron, Ties::Breslow] {
                    let mut precomputed = vec![0.0; sums_len(3)];
                    for runs in &data.runs {
                        stratum_terms_by_run::<3>(
                            &data,
                            runs,
                            &read,
                            &weights.leaving,
                            ties,
                            &mut precomputed,
                        );
                    }
                    let in_sweep =
                        partial_likelihood_for::<3>(&data, &DVector::from_row_slice(&beta), ties);
                    assert_eq!(
                        in_sweep,
                        precomputed,
                        "β {beta:?}, entry {}",
                        entry.is_some()
                    );
                }
            }
        }
    }

    /// The log-likelihood term of an event time, summed as the log of a product of the dens,
    /// equals Σ ln den: over many ties (past the product's renormalisation), at extreme
    /// magnitudes, and where the last den is too small for the product (summed log by log).
    #[test]
    fn death_terms_loglik_is_the_sum_of_the_logs() {
        let p = 1;
        for ties in [Ties::Efron, Ties::Breslow] {
            for (s0, d0, d) in [
                (10.0, 4.0, 4),
                (2.5e6, 2.0e6, 1500),
                (1e300, 9e299, 700),
                (3e-300, 1e-300, 1100),
                // Efron's last den, S0 − (d − 1)/d·D0, is subnormal: no product.
                (3e-308, 3e-308, 2),
            ] {
                let risk = [s0, 0.0, 0.0];
                let dead = [d0, 0.0, 0.0];
                let mut out = vec![0.0; sums_len(p)];
                add_death_terms(&risk, &dead, d, ties, p, &mut out);
                let expected: f64 = (0..d)
                    .map(|k| {
                        let f = match ties {
                            Ties::Efron => k as f64 / d as f64,
                            Ties::Breslow => 0.0,
                        };
                        -(s0 - f * d0).ln()
                    })
                    .sum();
                assert!(
                    (out[0] - expected).abs() <= 1e-13 * expected.abs(),
                    "{ties:?} S0 {s0} D0 {d0} d {d}: {} against {expected}",
                    out[0]
                );
            }
        }
    }
}
