//! Fine–Gray regression of the subdistribution hazard of one cause, as `cmprsk::crr` fits it.
//!
//! Subjects who had a competing event stay in the risk set after it, weighted by the
//! probability of still being uncensored, G(t−)/G(Tᵢ−), G the Kaplan–Meier estimate of the
//! censoring distribution; tied event times enter as Breslow's. The coefficients maximise
//! that weighted partial likelihood by Newton–Raphson with crr's backtracking line search; the
//! variance is crr's sandwich H⁻¹ (Σ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)ᵀ) H⁻¹, where ηᵢ is subject i's score
//! residual and ψᵢ corrects for G being estimated.
//!
//! crr's Fortran computes every risk-set sum by a loop over all subjects (O(n²) per
//! iteration, O(n³) for the variance); here each is a running sum, because the weight of a
//! competing-event subject factorises into G(t−) × 1/G(Tᵢ−): one sort, then O(n p²) per
//! Newton step and for the variance.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, Normal};

use super::cox::{chi_square_test, GlobalTest};
use super::StatsError;

/// A fitted Fine–Gray model.
#[derive(Debug, Clone, PartialEq)]
pub struct FineGrayFit {
    /// Coefficients (log subdistribution hazard ratios).
    pub coef: Vec<f64>,
    /// Standard errors (crr's sandwich variance).
    pub se: Vec<f64>,
    /// Wald z.
    pub z: Vec<f64>,
    /// Two-sided p-values.
    pub p: Vec<f64>,
    /// Variance–covariance matrix.
    pub vcov: Vec<Vec<f64>>,
    /// Log pseudo-likelihood at the estimate.
    pub loglik: f64,
    /// At β = 0.
    pub loglik_null: f64,
    /// Pseudo likelihood-ratio test, −2 (ℓ₀ − ℓ), as `summary.crr` reports it.
    pub lr_test: GlobalTest,
    /// Whether Newton–Raphson met its convergence rule.
    pub converged: bool,
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// Observations.
    pub n: usize,
    /// Events of the cause of interest.
    pub events: usize,
    /// Competing events.
    pub competing: usize,
}

impl FineGrayFit {
    /// Subdistribution hazard ratio of term `j` with its Wald interval.
    pub fn hazard_ratio(&self, j: usize, conf_level: f64) -> (f64, f64, f64) {
        super::exp_wald_interval(self.coef[j], self.se[j], conf_level)
    }
}

/// What a subject's time ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Censored,
    Event,
    Competing,
}

/// The data sorted by time, with the blocks of tied times and the censoring distribution.
struct Data {
    /// Covariates, centred, row-major (n × p).
    x: Vec<f64>,
    p: usize,
    outcome: Vec<Outcome>,
    /// Row ranges of equal times, ascending.
    blocks: Vec<std::ops::Range<usize>>,
    /// G(t−) of each block: the censoring survival just before its time.
    censoring_before: Vec<f64>,
}

/// The risk-set quantities at one event time of the cause of interest.
struct EventTime {
    block: usize,
    events: f64,
    s0: f64,
    /// S1/S0: the weighted mean covariate over the risk set.
    mean: Vec<f64>,
}

/// Σw, and as asked Σw·x and Σw·x·xᵀ (upper triangle of p × p).
#[derive(Clone)]
struct Sums {
    s0: f64,
    s1: Vec<f64>,
    s2: Vec<f64>,
}

/// Which sums a pass needs: the objective alone, the means, or the Hessian as well.
#[derive(Clone, Copy, PartialEq)]
enum Moments {
    Zeroth,
    First,
    Second,
}

impl Sums {
    fn new(p: usize, moments: Moments) -> Self {
        let (p1, p2) = match moments {
            Moments::Zeroth => (0, 0),
            Moments::First => (p, 0),
            Moments::Second => (p, p * p),
        };
        Self {
            s0: 0.0,
            s1: vec![0.0; p1],
            s2: vec![0.0; p2],
        }
    }
    fn add(&mut self, x: &[f64], w: f64) {
        let p = self.s1.len();
        self.s0 += w;
        let second = !self.s2.is_empty();
        for a in 0..p {
            let wa = w * x[a];
            self.s1[a] += wa;
            if second {
                for (cell, xb) in self.s2[a * p + a..(a + 1) * p].iter_mut().zip(&x[a..p]) {
                    *cell += wa * xb;
                }
            }
        }
    }
    /// self + scale · other.
    fn plus_scaled(&self, other: &Sums, scale: f64) -> Sums {
        Sums {
            s0: self.s0 + scale * other.s0,
            s1: self
                .s1
                .iter()
                .zip(&other.s1)
                .map(|(a, b)| a + scale * b)
                .collect(),
            s2: self
                .s2
                .iter()
                .zip(&other.s2)
                .map(|(a, b)| a + scale * b)
                .collect(),
        }
    }
}

impl Data {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    fn linear_predictor(&self, beta: &[f64]) -> Vec<f64> {
        self.x
            .chunks_exact(self.p.max(1))
            .map(|r| r.iter().zip(beta).map(|(x, b)| x * b).sum())
            .collect()
    }

    /// For every block holding events of the cause, the sums over its risk set: everyone
    /// still under observation (weight e^η) plus everyone who had a competing event earlier
    /// (weight e^η G(t−)/G(Tᵢ−)). Ascending in time.
    fn risk_sets(&self, eta: &[f64], moments: Moments) -> Vec<(usize, f64, Sums)> {
        let p = self.p;
        let events_in = |k: usize| {
            self.blocks[k]
                .clone()
                .filter(|&i| self.outcome[i] == Outcome::Event)
                .count() as f64
        };
        // Forward: the competing part, Σ e^η/G(Tᵢ−) over competing events before t.
        let mut competing = Sums::new(p, moments);
        let mut competing_at = Vec::new();
        for (k, block) in self.blocks.iter().enumerate() {
            let d = events_in(k);
            if d > 0.0 {
                competing_at.push((k, d, competing.clone()));
            }
            for i in block.clone() {
                if self.outcome[i] == Outcome::Competing {
                    let w = eta[i].exp() / self.censoring_before[k];
                    competing.add(self.row(i), w);
                }
            }
        }
        // Backward: those still under observation, Σ e^η over Tᵢ ≥ t.
        let mut observed = Sums::new(p, moments);
        let mut out = Vec::with_capacity(competing_at.len());
        let mut next = competing_at.len();
        for (k, block) in self.blocks.iter().enumerate().rev() {
            for i in block.clone() {
                observed.add(self.row(i), eta[i].exp());
            }
            if next > 0 && competing_at[next - 1].0 == k {
                next -= 1;
                let (_, d, ref before) = competing_at[next];
                out.push((k, d, observed.plus_scaled(before, self.censoring_before[k])));
            }
        }
        out.reverse();
        out
    }

    /// Minus the log pseudo-likelihood, its gradient and Hessian (crr minimises).
    fn objective(&self, beta: &[f64], derivatives: bool) -> (f64, DVector<f64>, DMatrix<f64>) {
        let p = self.p;
        let eta = self.linear_predictor(beta);
        let mut f = 0.0;
        let mut gradient = DVector::zeros(p);
        let mut hessian = DMatrix::zeros(p, p);
        for (i, o) in self.outcome.iter().enumerate() {
            if *o == Outcome::Event {
                f -= eta[i];
                if derivatives {
                    for a in 0..p {
                        gradient[a] -= self.row(i)[a];
                    }
                }
            }
        }
        let moments = if derivatives {
            Moments::Second
        } else {
            Moments::Zeroth
        };
        for (_, d, sums) in self.risk_sets(&eta, moments) {
            f += d * sums.s0.ln();
            if derivatives {
                for a in 0..p {
                    let ma = sums.s1[a] / sums.s0;
                    gradient[a] += d * ma;
                    for b in a..p {
                        hessian[(a, b)] +=
                            d * (sums.s2[a * p + b] / sums.s0 - ma * sums.s1[b] / sums.s0);
                        hessian[(b, a)] = hessian[(a, b)];
                    }
                }
            }
        }
        (f, gradient, hessian)
    }

    /// The event times with their risk-set means, at β.
    fn event_times(&self, eta: &[f64]) -> Vec<EventTime> {
        self.risk_sets(eta, Moments::First)
            .into_iter()
            .map(|(block, events, s)| EventTime {
                block,
                events,
                mean: s.s1.iter().map(|v| v / s.s0).collect(),
                s0: s.s0,
            })
            .collect()
    }

    /// crr's Σ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)ᵀ at β.
    ///
    /// ηᵢ = δᵢ (xᵢ − x̄(Tᵢ)) − Σ_k wᵢ(t_k) e^ηᵢ (xᵢ − x̄_k) d_k / S0_k, with wᵢ(t) = 1 while
    /// Tᵢ ≥ t and G(t−)/G(Tᵢ−) after a competing event; ψᵢ = −Σ_{u ≤ Tᵢ} q(u) c(u)/Y(u)² +
    /// [censored] q(Tᵢ)/Y(Tᵢ), with q(u) = Σ_{t_k ≥ u} (d_k G_k / S0_k) Σ_{competing j, Tⱼ < u}
    /// e^ηⱼ/G(Tⱼ−) (xⱼ − x̄_k), c(u) censored and Y(u) at risk at u. Each sum over event
    /// times is a prefix or suffix sum, so the whole is one pass.
    fn score_outer_product(&self, beta: &[f64]) -> DMatrix<f64> {
        let p = self.p;
        let n = self.outcome.len();
        let eta = self.linear_predictor(beta);
        let times = self.event_times(&eta);
        let m = times.len();
        // Suffix sums over event times k ≥ index: Σ d G/S0 and Σ d G x̄/S0.
        let mut suffix0 = vec![0.0; m + 1];
        let mut suffix1 = vec![0.0; (m + 1) * p];
        for k in (0..m).rev() {
            let e = &times[k];
            let w = e.events * self.censoring_before[e.block] / e.s0;
            suffix0[k] = suffix0[k + 1] + w;
            for a in 0..p {
                suffix1[k * p + a] = suffix1[(k + 1) * p + a] + w * e.mean[a];
            }
        }
        // Prefix sums over event times up to the current block: Σ d/S0 and Σ d x̄/S0.
        let (mut prefix0, mut prefix1) = (0.0, vec![0.0; p]);
        // Competing events before the current block: Σ e^η/G(T−) and Σ e^η x/G(T−).
        let (mut before0, mut before1) = (0.0, vec![0.0; p]);
        let mut censoring_correction = vec![0.0; p];
        let mut q = vec![0.0; p];
        let mut at_risk = n as f64;
        let mut next_event = 0;
        let mut outer = DMatrix::zeros(p, p);
        let mut residual = vec![0.0; p];
        for (b, block) in self.blocks.iter().enumerate() {
            let first_at_or_after = next_event;
            let has_event = next_event < m && times[next_event].block == b;
            if has_event {
                let e = &times[next_event];
                prefix0 += e.events / e.s0;
                for (sum, mean) in prefix1.iter_mut().zip(&e.mean) {
                    *sum += e.events * mean / e.s0;
                }
                next_event += 1;
            }
            let first_after = next_event;
            let censored = block
                .clone()
                .filter(|&i| self.outcome[i] == Outcome::Censored)
                .count() as f64;
            if censored > 0.0 {
                for a in 0..p {
                    q[a] = before1[a] * suffix0[first_at_or_after]
                        - before0 * suffix1[first_at_or_after * p + a];
                    censoring_correction[a] -= q[a] * censored / (at_risk * at_risk);
                }
            }
            for i in block.clone() {
                let x = self.row(i);
                let risk = eta[i].exp();
                for a in 0..p {
                    let mut r = -risk * (x[a] * prefix0 - prefix1[a]);
                    match self.outcome[i] {
                        Outcome::Event => r += x[a] - times[first_at_or_after].mean[a],
                        Outcome::Competing => {
                            let scale = risk / self.censoring_before[b];
                            r -= scale
                                * (x[a] * suffix0[first_after] - suffix1[first_after * p + a]);
                        }
                        Outcome::Censored => r += q[a] / at_risk,
                    }
                    residual[a] = r + censoring_correction[a];
                }
                for a in 0..p {
                    for c in a..p {
                        outer[(a, c)] += residual[a] * residual[c];
                    }
                }
            }
            for i in block.clone() {
                if self.outcome[i] == Outcome::Competing {
                    let w = eta[i].exp() / self.censoring_before[b];
                    before0 += w;
                    for (sum, x) in before1.iter_mut().zip(self.row(i)) {
                        *sum += w * x;
                    }
                }
            }
            at_risk -= block.len() as f64;
        }
        for a in 0..p {
            for c in 0..a {
                outer[(a, c)] = outer[(c, a)];
            }
        }
        outer
    }
}

/// Fits `crr(time, status, covariates, failcode = cause, cencode = 0)`: `status[i]` is 0 for
/// censored, `cause` for the event of interest, any other value for a competing event.
pub fn fine_gray(
    time: &[f64],
    status: &[u32],
    cause: u32,
    covariates: &[Vec<f64>],
) -> Result<FineGrayFit, StatsError> {
    let n = time.len();
    if n == 0 || covariates.is_empty() {
        return Err(StatsError::Empty);
    }
    if status.len() != n || covariates.iter().any(|c| c.len() != n) {
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
    let order = super::order_by(time);
    let outcome: Vec<Outcome> = order
        .iter()
        .map(|&i| match status[i] {
            0 => Outcome::Censored,
            s if s == cause => Outcome::Event,
            _ => Outcome::Competing,
        })
        .collect();
    let events = outcome.iter().filter(|o| **o == Outcome::Event).count();
    if events == 0 {
        return Err(StatsError::NoEvents);
    }
    let competing = outcome.iter().filter(|o| **o == Outcome::Competing).count();
    // Centring leaves the pseudo-likelihood, its derivatives and the residuals unchanged
    // (each enters through x − x̄) and keeps e^η in range.
    let means: Vec<f64> = covariates
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let x = order
        .iter()
        .flat_map(|&i| (0..p).map(move |j| (i, j)))
        .map(|(i, j)| covariates[j][i] - means[j])
        .collect();
    let mut blocks = Vec::new();
    let mut censoring_before = Vec::new();
    let (mut g, mut at_risk) = (1.0f64, n as f64);
    let mut start = 0;
    while start < n {
        let t = time[order[start]];
        let end = start + order[start..].partition_point(|&i| time[i] == t);
        censoring_before.push(g);
        let censored = outcome[start..end]
            .iter()
            .filter(|o| **o == Outcome::Censored)
            .count() as f64;
        g *= 1.0 - censored / at_risk;
        at_risk -= (end - start) as f64;
        blocks.push(start..end);
        start = end;
    }
    let data = Data {
        x,
        p,
        outcome,
        blocks,
        censoring_before,
    };

    // crr's Newton–Raphson: full step, halved while the objective does not fall by at least
    // 1e-4 of the predicted decrease; converged when max |∂f/∂βⱼ| · max(|βⱼ|, 1) is below
    // gtol · max(|f|, 1). crr's gtol is 1e-6, which leaves β ~1e-8 (relative) short of the
    // maximum; 1e-10 takes it there (one more quadratic step) without reaching rounding noise.
    const GTOL: f64 = 1e-10;
    const MAX_ITER: usize = 50;
    let mut beta = vec![0.0; p];
    let (loglik_null_neg, _, _) = data.objective(&beta, false);
    let mut converged = false;
    let mut iterations = 0;
    let mut f;
    loop {
        let (value, gradient, hessian) = data.objective(&beta, true);
        f = value;
        let size = (0..p)
            .map(|j| gradient[j].abs() * beta[j].abs().max(1.0))
            .fold(0.0, f64::max);
        if size < f.abs().max(1.0) * GTOL {
            converged = true;
            break;
        }
        if iterations == MAX_ITER {
            break;
        }
        let Some(chol) = hessian.clone().cholesky() else {
            return Err(StatsError::SingularDesign(Vec::new()));
        };
        let mut step = -chol.solve(&gradient);
        let slope = step.dot(&gradient);
        let mut halvings = 0;
        let candidate = loop {
            let candidate: Vec<f64> = beta.iter().zip(step.iter()).map(|(b, s)| b + s).collect();
            let (value, _, _) = data.objective(&candidate, false);
            // Near the maximum the predicted gain falls below the rounding of f, where the
            // test would reject sound Newton steps at random: take those in full.
            let negligible = -slope <= 1e-12 * f.abs().max(1.0);
            if value.is_finite() && (value <= f + 1e-4 * slope || negligible) {
                break Some(candidate);
            }
            halvings += 1;
            if halvings > 20 {
                break None;
            }
            step *= 0.5;
        };
        iterations += 1;
        match candidate {
            Some(c) => beta = c,
            None => break,
        }
    }
    let (_, _, hessian) = data.objective(&beta, true);
    let Some(inverse) = hessian.try_inverse() else {
        return Err(StatsError::SingularDesign(Vec::new()));
    };
    let vcov = &inverse * data.score_outer_product(&beta) * &inverse;
    let se: Vec<f64> = (0..p).map(|j| vcov[(j, j)].sqrt()).collect();
    let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
    let normal = Normal::standard();
    let pvalues = z.iter().map(|z| 2.0 * normal.cdf(-z.abs())).collect();
    let (loglik, loglik_null) = (-f, -loglik_null_neg);
    Ok(FineGrayFit {
        coef: beta,
        se,
        z,
        p: pvalues,
        vcov: (0..p)
            .map(|r| (0..p).map(|c| vcov[(r, c)]).collect())
            .collect(),
        loglik,
        loglik_null,
        lr_test: chi_square_test(-2.0 * (loglik_null - loglik), p),
        converged,
        iterations,
        n,
        events,
        competing,
    })
}
