//! Cox proportional hazards regression as `survival::coxph` fits it: Newton–Raphson on the
//! partial likelihood with Efron (default) or Breslow handling of tied event times, strata
//! (separate risk sets) and delayed entry (at risk on (entry, exit]); coefficients, hazard
//! ratios, standard errors, Wald intervals and p-values, the likelihood-ratio, Wald and score
//! tests; and Harrell's concordance counts as survival defines them.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::km::z_for;
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
    /// Pairs with equal event times (not comparable).
    pub tied_y: u64,
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
    /// Concordance of the linear predictor.
    pub concordance: Concordance,
}

impl CoxFit {
    /// Hazard ratio of term `j` with its Wald interval.
    pub fn hazard_ratio(&self, j: usize, conf_level: f64) -> (f64, f64, f64) {
        let z = z_for(conf_level);
        let (b, s) = (self.coef[j], self.se[j]);
        (b.exp(), (b - z * s).exp(), (b + z * s).exp())
    }
}

/// The data laid out in sweep order (by stratum, exit time descending), contiguous, so that
/// every Newton iteration walks memory sequentially.
struct Data {
    time: Vec<f64>,
    event: Vec<bool>,
    entry: Option<Vec<f64>>,
    /// Centred covariates, row-major (n × p).
    x: Vec<f64>,
    p: usize,
    /// Row ranges of each stratum.
    strata: Vec<std::ops::Range<usize>>,
}

/// Running sums over a risk set: Σw, Σw·x, Σw·x·xᵀ (upper triangle used, full kept).
struct RiskSums {
    s0: f64,
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl RiskSums {
    fn new(p: usize) -> Self {
        Self {
            s0: 0.0,
            s1: vec![0.0; p],
            s2: vec![0.0; p * p],
        }
    }
    fn clear(&mut self) {
        self.s0 = 0.0;
        self.s1.iter_mut().for_each(|v| *v = 0.0);
        self.s2.iter_mut().for_each(|v| *v = 0.0);
    }
    /// Adds (sign 1) or removes (sign −1) a row of weight w.
    fn add(&mut self, x: &[f64], w: f64) {
        let p = x.len();
        self.s0 += w;
        for a in 0..p {
            let wa = w * x[a];
            self.s1[a] += wa;
            let row = &mut self.s2[a * p..(a + 1) * p];
            for (cell, xb) in row.iter_mut().zip(x) {
                *cell += wa * xb;
            }
        }
    }
}

/// Log partial likelihood, score and information at `beta` (flat arrays: no allocation per
/// row, one pass per stratum).
fn partial_likelihood(
    data: &Data,
    beta: &DVector<f64>,
    ties: Ties,
) -> (f64, DVector<f64>, DMatrix<f64>) {
    let p = data.p;
    let row = |r: usize| &data.x[r * p..(r + 1) * p];
    let eta: Vec<f64> = (0..data.time.len())
        .map(|r| row(r).iter().zip(beta.iter()).map(|(x, b)| x * b).sum())
        .collect();
    let mut loglik = 0.0;
    let mut score = vec![0.0; p];
    let mut info = vec![0.0; p * p];
    let mut risk = RiskSums::new(p);
    let mut dead = RiskSums::new(p);
    let mut a_vec = vec![0.0; p];
    for range in &data.strata {
        // Rows are contiguous in sweep order; `rows[k]` is the k-th row of the stratum.
        let rows: Vec<usize> = range.clone().collect();
        risk.clear();
        // Entries of this stratum, descending: removed from the risk set once t <= entry.
        let mut entries: Vec<usize> = if data.entry.is_some() {
            rows.clone()
        } else {
            Vec::new()
        };
        if let Some(entry) = &data.entry {
            entries.sort_by(|&a, &b| entry[b].total_cmp(&entry[a]));
        }
        let mut next_entry = 0;
        let mut i = 0;
        while i < rows.len() {
            let t = data.time[rows[i]];
            dead.clear();
            let mut d = 0.0;
            let mut j = i;
            while j < rows.len() && data.time[rows[j]] == t {
                let r = rows[j];
                let w = eta[r].exp();
                risk.add(row(r), w);
                if data.event[r] {
                    d += 1.0;
                    dead.add(row(r), w);
                    loglik += eta[r];
                    for (s, x) in score.iter_mut().zip(row(r)) {
                        *s += x;
                    }
                }
                j += 1;
            }
            if let Some(entry) = &data.entry {
                while next_entry < entries.len() && entry[entries[next_entry]] >= t {
                    let r = entries[next_entry];
                    risk.add(row(r), -eta[r].exp());
                    next_entry += 1;
                }
            }
            if d > 0.0 {
                for k in 0..d as usize {
                    let frac = match ties {
                        Ties::Efron => k as f64 / d,
                        Ties::Breslow => 0.0,
                    };
                    let den = risk.s0 - frac * dead.s0;
                    loglik -= den.ln();
                    for a in 0..p {
                        a_vec[a] = (risk.s1[a] - frac * dead.s1[a]) / den;
                        score[a] -= a_vec[a];
                    }
                    for a in 0..p {
                        for b in 0..p {
                            let idx = a * p + b;
                            info[idx] +=
                                (risk.s2[idx] - frac * dead.s2[idx]) / den - a_vec[a] * a_vec[b];
                        }
                    }
                }
            }
            i = j;
        }
    }
    (
        loglik,
        DVector::from_vec(score),
        DMatrix::from_row_slice(p, p, &info),
    )
}

pub(crate) fn chi_square_test(chisq: f64, df: usize) -> GlobalTest {
    let p = ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(chisq));
    GlobalTest { chisq, df, p }
}

/// A Fenwick tree counting inserted ranks: prefix counts in O(log n).
struct Fenwick {
    tree: Vec<i64>,
    total: i64,
}

impl Fenwick {
    fn new(size: usize) -> Self {
        Self {
            tree: vec![0; size + 1],
            total: 0,
        }
    }
    /// Inserts (`count` 1) or removes (−1) a rank.
    fn add(&mut self, rank: usize, count: i64) {
        self.total += count;
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += count;
            i += i & i.wrapping_neg();
        }
    }
    /// Number of inserted ranks < `rank`.
    fn below(&self, rank: usize) -> i64 {
        let (mut i, mut total) = (rank, 0);
        while i > 0 {
            total += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        total
    }
    /// Numbers of inserted ranks below, equal to and above `rank`.
    fn split(&self, rank: usize) -> [i64; 3] {
        let below = self.below(rank);
        let at_or_below = self.below(rank + 1);
        [below, at_or_below - below, self.total - at_or_below]
    }
}

/// Concordance counts of the linear predictor `eta` (higher risk should fail earlier) and
/// their standard error, in O(n log n).
///
/// A pair is comparable when the earlier time is an event and the other subject is at risk
/// then (time later, or censored at the same time; with `entry`, entered before it); pairs
/// tied on an event time are not. Times are swept from the latest down while a Fenwick tree
/// over the ranks of `eta` holds everyone at risk. The standard error is survival's
/// infinitesimal jackknife: each subject's counts of concordant, discordant and tied pairs
/// (as the earlier or the later member) give dfbetaᵢ = (cᵢ − dᵢ)/N − (S/N)(cᵢ + dᵢ + tᵢ),
/// S Somers' d and N the comparable pairs, and var(C) = Σ dfbetaᵢ² / 4. The later member's
/// counts come from a second tree of the events seen so far, read when it joins the risk set
/// and again when it leaves.
pub fn concordance(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    eta: &[f64],
    strata: Option<&[usize]>,
) -> Concordance {
    let n = time.len();
    // Dense ranks of the scores, from one sort (equal scores share a rank).
    let mut by_score: Vec<usize> = (0..n).collect();
    by_score.sort_by(|&a, &b| eta[a].total_cmp(&eta[b]));
    let mut ranks = vec![0usize; n];
    let mut distinct = 0;
    for (k, &i) in by_score.iter().enumerate() {
        if k > 0 && eta[i] != eta[by_score[k - 1]] {
            distinct += 1;
        }
        ranks[i] = distinct;
    }
    drop(by_score);
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let order = super::order_by_stratum_and_time(time, strata, true);
    // Per subject: [concordant, tied, discordant] pairs, from the event's side. As the later
    // member, an event ranked above the subject is concordant: the split is reversed.
    let mut pairs = vec![[0i64; 3]; n];
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0u64, 0u64, 0u64, 0u64);
    // Both trees are emptied at the end of each stratum, so one allocation serves all.
    let mut at_risk = Fenwick::new(distinct + 1);
    let mut events_seen = Fenwick::new(distinct + 1);
    let mut inside = vec![false; n];
    let mut start = 0;
    while start < n {
        let s = stratum(order[start]);
        let end = start + order[start..].partition_point(|&i| stratum(i) == s);
        // Leaving the risk set going down in time: entry times, latest first.
        let mut leaving: Vec<usize> = match entry {
            Some(_) => order[start..end].to_vec(),
            None => Vec::new(),
        };
        if let Some(e) = entry {
            leaving.sort_by(|&a, &b| e[b].total_cmp(&e[a]));
        }
        let mut next_leaving = 0;
        let join =
            |i: usize, at_risk: &mut Fenwick, events_seen: &Fenwick, pairs: &mut [[i64; 3]]| {
                at_risk.add(ranks[i], 1);
                let [below, at, above] = events_seen.split(ranks[i]);
                let p = &mut pairs[i];
                p[0] -= above;
                p[1] -= at;
                p[2] -= below;
            };
        let leave =
            |i: usize, at_risk: &mut Fenwick, events_seen: &Fenwick, pairs: &mut [[i64; 3]]| {
                at_risk.add(ranks[i], -1);
                let [below, at, above] = events_seen.split(ranks[i]);
                let p = &mut pairs[i];
                p[0] += above;
                p[1] += at;
                p[2] += below;
            };
        let mut a = start;
        while a < end {
            let t = time[order[a]];
            let b = a + order[a..end].partition_point(|&i| time[i] == t);
            let group = &order[a..b];
            // Censored at t outlive the events at t: they join first.
            for &i in group.iter().filter(|&&i| !event[i]) {
                join(i, &mut at_risk, &events_seen, &mut pairs);
                inside[i] = true;
            }
            // With delayed entry, only those who entered before t are at risk at t.
            if let Some(e) = entry {
                while next_leaving < leaving.len() && e[leaving[next_leaving]] >= t {
                    let i = leaving[next_leaving];
                    if inside[i] {
                        leave(i, &mut at_risk, &events_seen, &mut pairs);
                        inside[i] = false;
                    }
                    next_leaving += 1;
                }
            }
            let deaths = group.iter().filter(|&&i| event[i]).count() as u64;
            tied_y += deaths * deaths.saturating_sub(1) / 2;
            for &i in group.iter().filter(|&&i| event[i]) {
                let [below, at, above] = at_risk.split(ranks[i]);
                concordant += below as u64;
                tied_x += at as u64;
                discordant += above as u64;
                let p = &mut pairs[i];
                p[0] += below;
                p[1] += at;
                p[2] += above;
            }
            for &i in group.iter().filter(|&&i| event[i]) {
                events_seen.add(ranks[i], 1);
            }
            for &i in group.iter().filter(|&&i| event[i]) {
                // An event whose entry is at or after its own time never was at risk; survival
                // rejects such rows before this point.
                if entry.is_none_or(|e| e[i] < t) {
                    join(i, &mut at_risk, &events_seen, &mut pairs);
                    inside[i] = true;
                }
            }
            a = b;
        }
        // Still at risk at the start of time: their later-member counts run to the end.
        for &i in &order[start..end] {
            if inside[i] {
                leave(i, &mut at_risk, &events_seen, &mut pairs);
                inside[i] = false;
            }
        }
        for &i in order[start..end].iter().filter(|&&i| event[i]) {
            events_seen.add(ranks[i], -1);
        }
        start = end;
    }
    let comparable = (concordant + discordant + tied_x) as f64;
    let somers = (concordant as f64 - discordant as f64) / comparable;
    let variance: f64 = pairs
        .iter()
        .map(|&[c, t, d]| {
            let (c, t, d) = (c as f64, t as f64, d as f64);
            let dfbeta = (c - d) / comparable - somers / comparable * (c + d + t);
            dfbeta * dfbeta
        })
        .sum::<f64>()
        / 4.0;
    Concordance {
        estimate: (concordant as f64 + tied_x as f64 / 2.0) / comparable,
        std_err: variance.sqrt(),
        concordant,
        discordant,
        tied_x,
        tied_y,
    }
}

/// Newton–Raphson iterations before giving up (coxph's default is 20; the stricter
/// convergence rule here may take a few more).
const MAX_ITERATIONS: usize = 50;

/// Fits `Surv(entry, time, event) ~ covariates + strata(strata)`.
pub fn coxph(
    time: &[f64],
    event: &[bool],
    entry: Option<&[f64]>,
    covariates: &[Vec<f64>],
    strata: Option<&[usize]>,
    ties: Ties,
) -> Result<CoxFit, StatsError> {
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
    if time
        .iter()
        .chain(covariates.iter().flatten())
        .any(|v| !v.is_finite())
    {
        return Err(StatsError::NotFinite);
    }
    let p = covariates.len();
    // Centre the covariates (as coxph does): the partial likelihood is unchanged, the
    // exponentials stay in range.
    let means: Vec<f64> = covariates
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let order = super::order_by_stratum_and_time(time, strata, true);
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let mut ranges = Vec::new();
    let mut start = 0;
    for k in 1..=n {
        if k == n || stratum(order[k]) != stratum(order[start]) {
            ranges.push(start..k);
            start = k;
        }
    }
    let data = Data {
        time: order.iter().map(|&i| time[i]).collect(),
        event: order.iter().map(|&i| event[i]).collect(),
        entry: entry.map(|e| order.iter().map(|&i| e[i]).collect()),
        x: order
            .iter()
            .flat_map(|&i| (0..p).map(move |j| (i, j)))
            .map(|(i, j)| covariates[j][i] - means[j])
            .collect(),
        p,
        strata: ranges,
    };
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
            // Step-halving, as coxph does when the likelihood falls.
            if evaluated.0 >= loglik - 1e-12 || scale < 1e-6 {
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
        if change <= 1e-12 * loglik.abs().max(1.0) {
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
    let eta: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|j| covariates[j][i] * coef[j]).sum())
        .collect();
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
        concordance: concordance(time, event, entry, &eta, strata),
    })
}
