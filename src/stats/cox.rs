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

/// Data sorted for the sweeps.
struct Data<'a> {
    time: &'a [f64],
    event: &'a [bool],
    entry: Option<&'a [f64]>,
    x: &'a DMatrix<f64>,
    /// Row indices per stratum, by exit time descending.
    strata: Vec<Vec<usize>>,
}

/// Log partial likelihood, score and information at `beta`.
fn partial_likelihood(
    data: &Data<'_>,
    beta: &DVector<f64>,
    ties: Ties,
) -> (f64, DVector<f64>, DMatrix<f64>) {
    let p = data.x.ncols();
    let eta = data.x * beta;
    let mut loglik = 0.0;
    let mut score = DVector::zeros(p);
    let mut info = DMatrix::zeros(p, p);
    for rows in &data.strata {
        // Entries of this stratum, descending: removed from the risk set once t <= entry.
        let mut entries: Vec<usize> = if data.entry.is_some() {
            rows.clone()
        } else {
            Vec::new()
        };
        if let Some(entry) = data.entry {
            entries.sort_by(|&a, &b| entry[b].total_cmp(&entry[a]));
        }
        let (mut s0, mut s1, mut s2) = (0.0, DVector::zeros(p), DMatrix::zeros(p, p));
        let mut next_entry = 0;
        let mut i = 0;
        while i < rows.len() {
            let t = data.time[rows[i]];
            // Add everyone exiting at t.
            let mut j = i;
            let (mut d, mut s0_d, mut s1_d, mut s2_d) =
                (0.0, 0.0, DVector::zeros(p), DMatrix::zeros(p, p));
            let mut eta_d = 0.0;
            let mut x_d = DVector::zeros(p);
            while j < rows.len() && data.time[rows[j]] == t {
                let r = rows[j];
                let w = eta[r].exp();
                let xr = data.x.row(r).transpose();
                s0 += w;
                s1 += &xr * w;
                s2 += &xr * xr.transpose() * w;
                if data.event[r] {
                    d += 1.0;
                    s0_d += w;
                    s1_d += &xr * w;
                    s2_d += &xr * xr.transpose() * w;
                    eta_d += eta[r];
                    x_d += &xr;
                }
                j += 1;
            }
            // Remove those not yet entered at t (entry >= t).
            if let Some(entry) = data.entry {
                while next_entry < entries.len() && entry[entries[next_entry]] >= t {
                    let r = entries[next_entry];
                    let w = eta[r].exp();
                    let xr = data.x.row(r).transpose();
                    s0 -= w;
                    s1 -= &xr * w;
                    s2 -= &xr * xr.transpose() * w;
                    next_entry += 1;
                }
            }
            if d > 0.0 {
                loglik += eta_d;
                score += &x_d;
                let steps = d as usize;
                for r in 0..steps {
                    let frac = match ties {
                        Ties::Efron => r as f64 / d,
                        Ties::Breslow => 0.0,
                    };
                    let den = s0 - frac * s0_d;
                    let a = (&s1 - &s1_d * frac) / den;
                    loglik -= den.ln();
                    score -= &a;
                    info += (&s2 - &s2_d * frac) / den - &a * a.transpose();
                }
            }
            i = j;
        }
    }
    (loglik, score, info)
}

fn chi_square_test(chisq: f64, df: usize) -> GlobalTest {
    let p = ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(chisq));
    GlobalTest { chisq, df, p }
}

/// A Fenwick tree counting inserted ranks: prefix counts in O(log n).
struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    fn new(size: usize) -> Self {
        Self {
            tree: vec![0; size + 1],
        }
    }
    fn add(&mut self, rank: usize) {
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    /// Number of inserted ranks < `rank`.
    fn below(&self, rank: usize) -> u64 {
        let (mut i, mut total) = (rank, 0);
        while i > 0 {
            total += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        total
    }
}

/// Concordance counts of the linear predictor `eta` (higher risk should fail earlier), in
/// O(n log n): times are swept from the latest down while a Fenwick tree over the ranks of
/// `eta` holds everyone known to outlive the current time.
pub fn concordance(
    time: &[f64],
    event: &[bool],
    eta: &[f64],
    strata: Option<&[usize]>,
) -> Concordance {
    let n = time.len();
    let mut ranks_sorted: Vec<f64> = eta.to_vec();
    ranks_sorted.sort_by(f64::total_cmp);
    ranks_sorted.dedup();
    let rank = |v: f64| ranks_sorted.partition_point(|&x| x < v);
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        stratum(a)
            .cmp(&stratum(b))
            .then(time[b].total_cmp(&time[a]))
    });
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0u64, 0u64, 0u64, 0u64);
    let mut start = 0;
    while start < n {
        let s = stratum(order[start]);
        let end = start + order[start..].partition_point(|&i| stratum(i) == s);
        let mut tree = Fenwick::new(ranks_sorted.len());
        let mut inside = 0u64;
        let mut a = start;
        while a < end {
            let t = time[order[a]];
            let b = a + order[a..end].partition_point(|&i| time[i] == t);
            let group = &order[a..b];
            // Censored at t outlive the events at t: they join first.
            for &i in group.iter().filter(|&&i| !event[i]) {
                tree.add(rank(eta[i]));
                inside += 1;
            }
            let deaths = group.iter().filter(|&&i| event[i]).count() as u64;
            tied_y += deaths * deaths.saturating_sub(1) / 2;
            for &i in group.iter().filter(|&&i| event[i]) {
                let r = rank(eta[i]);
                let below = tree.below(r);
                let at_or_below = tree.below(r + 1);
                concordant += below;
                tied_x += at_or_below - below;
                discordant += inside - at_or_below;
            }
            for &i in group.iter().filter(|&&i| event[i]) {
                tree.add(rank(eta[i]));
                inside += 1;
            }
            a = b;
        }
        start = end;
    }
    let comparable = (concordant + discordant + tied_x) as f64;
    Concordance {
        estimate: (concordant as f64 + tied_x as f64 / 2.0) / comparable,
        concordant,
        discordant,
        tied_x,
        tied_y,
    }
}

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
    let x = DMatrix::from_fn(n, p, |i, j| covariates[j][i] - means[j]);
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        stratum(a)
            .cmp(&stratum(b))
            .then(time[b].total_cmp(&time[a]))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        match groups.last_mut() {
            Some(g) if stratum(g[0]) == stratum(i) => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    let data = Data {
        time,
        event,
        entry,
        x: &x,
        strata: groups,
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
    for _ in 0..50 {
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
        if change <= 1e-13 * loglik.abs().max(1.0) && step.amax() * scale < 1e-10 {
            break;
        }
    }
    let Some(vcov) = info.clone().try_inverse() else {
        return Err(StatsError::SingularDesign(Vec::new()));
    };
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
        n,
        events: event.iter().filter(|e| **e).count(),
        concordance: concordance(time, event, &eta, strata),
    })
}
