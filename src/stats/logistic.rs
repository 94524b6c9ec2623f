//! Logistic regression by iteratively reweighted least squares, as `glm(y ~ x, binomial)`
//! fits it, run to full convergence: coefficients, standard errors, Wald z and p, odds ratios
//! with Wald intervals, deviance, null deviance, log-likelihood and AIC; profile-likelihood
//! intervals (the exact roots of 2(ℓ̂ − ℓ_profile(β_j)) = χ²₁(0.95), which MASS's spline only
//! approximates). A singular design or separated data is an error naming the covariates.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::km::z_for;
use super::StatsError;

/// Convergence of IRLS: relative change in deviance (glm uses 1e-8; this runs to the end).
const TOLERANCE: f64 = 1e-14;
/// Iterations before giving up.
const MAX_ITERATIONS: usize = 100;
/// |linear predictor| beyond which a fitted probability is numerically 0 or 1.
const SEPARATION_ETA: f64 = 30.0;

/// A fitted logistic model.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// Term names: `(Intercept)` then the covariates.
    pub terms: Vec<String>,
    /// Coefficients (log-odds).
    pub coef: Vec<f64>,
    /// Standard errors.
    pub se: Vec<f64>,
    /// Wald z.
    pub z: Vec<f64>,
    /// Two-sided Wald p-values.
    pub p: Vec<f64>,
    /// Residual deviance.
    pub deviance: f64,
    /// Deviance of the intercept-only model.
    pub null_deviance: f64,
    /// Log-likelihood.
    pub loglik: f64,
    /// AIC = deviance + 2 × parameters.
    pub aic: f64,
    /// Observations.
    pub n: usize,
    /// IRLS iterations.
    pub iterations: usize,
    design: DMatrix<f64>,
    outcome: DVector<f64>,
}

struct Irls {
    beta: DVector<f64>,
    deviance: f64,
    covariance: DMatrix<f64>,
    max_eta: f64,
    iterations: usize,
}

fn deviance(y: &DVector<f64>, mu: &DVector<f64>) -> f64 {
    -2.0 * y
        .iter()
        .zip(mu.iter())
        .map(|(&y, &m)| if y > 0.5 { m.ln() } else { (1.0 - m).ln() })
        .sum::<f64>()
}

/// IRLS with an optional offset; `None` when XᵀWX is singular.
fn irls(x: &DMatrix<f64>, y: &DVector<f64>, offset: Option<&DVector<f64>>) -> Option<Irls> {
    let n = x.nrows();
    let zero = DVector::zeros(n);
    let offset = offset.unwrap_or(&zero);
    // glm's start: mu = (y + 0.5) / 2.
    let mut eta: DVector<f64> = y.map(|v| ((v + 0.5) / 2.0 / (1.0 - (v + 0.5) / 2.0)).ln());
    let mut old_deviance = f64::INFINITY;
    let mut iterations = 0;
    loop {
        iterations += 1;
        let mu = eta.map(|e| 1.0 / (1.0 + (-e).exp()));
        let w = mu.map(|m| (m * (1.0 - m)).max(1e-300));
        let z = DVector::from_fn(n, |i, _| eta[i] - offset[i] + (y[i] - mu[i]) / w[i]);
        let xtw = DMatrix::from_fn(x.ncols(), n, |j, i| x[(i, j)] * w[i]);
        let information = &xtw * x;
        let cholesky = information.clone().cholesky()?;
        let beta = cholesky.solve(&(&xtw * &z));
        eta = x * &beta + offset;
        let mu = eta.map(|e| 1.0 / (1.0 + (-e).exp()));
        let dev = deviance(y, &mu);
        let converged = (dev - old_deviance).abs() / (dev.abs() + 0.1) < TOLERANCE;
        old_deviance = dev;
        if converged || iterations >= MAX_ITERATIONS {
            // Covariance at the final coefficients.
            let w = mu.map(|m| (m * (1.0 - m)).max(1e-300));
            let xtw = DMatrix::from_fn(x.ncols(), n, |j, i| x[(i, j)] * w[i]);
            let covariance = (&xtw * x).try_inverse()?;
            let max_eta = eta.iter().fold(0.0f64, |m, e| m.max(e.abs()));
            return Some(Irls {
                beta,
                deviance: dev,
                covariance,
                max_eta,
                iterations,
            });
        }
    }
}

/// Covariates that add no rank to the design (each is a combination of earlier columns).
fn redundant_columns(x: &DMatrix<f64>, names: &[String]) -> Vec<String> {
    let mut redundant = Vec::new();
    let mut rank = 0;
    for (j, name) in names.iter().enumerate().take(x.ncols()) {
        let r = x.columns(0, j + 1).into_owned().rank(1e-9);
        if r == rank {
            redundant.push(name.clone());
        }
        rank = r;
    }
    redundant
}

impl LogisticFit {
    /// Fits `outcome ~ covariates` with an intercept. `covariates[j]` is column j.
    pub fn fit(
        outcome: &[bool],
        covariates: &[Vec<f64>],
        names: &[String],
    ) -> Result<Self, StatsError> {
        let n = outcome.len();
        if n == 0 {
            return Err(StatsError::Empty);
        }
        if covariates.len() != names.len() || covariates.iter().any(|c| c.len() != n) {
            return Err(StatsError::LengthMismatch);
        }
        if covariates.iter().flatten().any(|v| !v.is_finite()) {
            return Err(StatsError::NotFinite);
        }
        let p = covariates.len() + 1;
        let design = DMatrix::from_fn(n, p, |i, j| if j == 0 { 1.0 } else { covariates[j - 1][i] });
        let outcome_vec =
            DVector::from_iterator(n, outcome.iter().map(|&y| f64::from(u8::from(y))));
        let terms: Vec<String> = std::iter::once("(Intercept)".to_string())
            .chain(names.iter().cloned())
            .collect();
        let redundant = redundant_columns(&design, &terms);
        if !redundant.is_empty() {
            return Err(StatsError::SingularDesign(redundant));
        }
        let fit = irls(&design, &outcome_vec, None)
            .ok_or_else(|| StatsError::SingularDesign(terms.clone()))?;
        if fit.max_eta > SEPARATION_ETA || fit.iterations >= MAX_ITERATIONS {
            // The separating covariates are those whose coefficients run away.
            let diverging: Vec<String> = (1..p)
                .filter(|&j| fit.beta[j].abs() * design.column(j).amax() > SEPARATION_ETA / 3.0)
                .map(|j| terms[j].clone())
                .collect();
            return Err(StatsError::Separation(if diverging.is_empty() {
                terms[1..].to_vec()
            } else {
                diverging
            }));
        }
        let se: Vec<f64> = (0..p).map(|j| fit.covariance[(j, j)].sqrt()).collect();
        let coef: Vec<f64> = fit.beta.iter().copied().collect();
        let z: Vec<f64> = coef.iter().zip(&se).map(|(b, s)| b / s).collect();
        let normal = Normal::standard();
        let pvalues = z.iter().map(|z| 2.0 * normal.cdf(-z.abs())).collect();
        let mean = outcome_vec.mean();
        let null_deviance = deviance(&outcome_vec, &DVector::from_element(n, mean));
        Ok(Self {
            terms,
            coef,
            se,
            z,
            p: pvalues,
            deviance: fit.deviance,
            null_deviance,
            loglik: -fit.deviance / 2.0,
            aic: fit.deviance + 2.0 * p as f64,
            n,
            iterations: fit.iterations,
            design,
            outcome: outcome_vec,
        })
    }

    /// Wald interval of coefficient `j` (log-odds scale): coef ± z·se.
    pub fn wald_interval(&self, j: usize, conf_level: f64) -> (f64, f64) {
        let z = z_for(conf_level);
        (self.coef[j] - z * self.se[j], self.coef[j] + z * self.se[j])
    }

    /// Profile log-likelihood with coefficient `j` fixed at `value`.
    fn profile_loglik(&self, j: usize, value: f64) -> Option<f64> {
        let n = self.n;
        let others = DMatrix::from_fn(n, self.coef.len() - 1, |i, k| {
            self.design[(i, if k < j { k } else { k + 1 })]
        });
        let offset = self.design.column(j) * value;
        irls(&others, &self.outcome, Some(&offset)).map(|f| -f.deviance / 2.0)
    }

    /// Profile-likelihood interval of coefficient `j` (log-odds scale).
    pub fn profile_interval(&self, j: usize, conf_level: f64) -> Option<(f64, f64)> {
        let cutoff = ChiSquared::new(1.0).ok()?.inverse_cdf(conf_level);
        let excess = |b: f64| {
            self.profile_loglik(j, b)
                .map(|ll| 2.0 * (self.loglik - ll) - cutoff)
        };
        let (b, se) = (self.coef[j], self.se[j]);
        // Widen until the profile crosses the cutoff on each side, then bisect.
        let side = |sign: f64| -> Option<f64> {
            let mut far = b + sign * 2.0 * se;
            let mut steps = 0;
            while excess(far)? < 0.0 {
                far = b + (far - b) * 2.0;
                steps += 1;
                if steps > 50 {
                    return None;
                }
            }
            let (mut inside, mut outside) = (b, far);
            for _ in 0..200 {
                let mid = 0.5 * (inside + outside);
                if mid == inside || mid == outside {
                    break;
                }
                if excess(mid)? < 0.0 {
                    inside = mid;
                } else {
                    outside = mid;
                }
            }
            Some(0.5 * (inside + outside))
        };
        Some((side(-1.0)?, side(1.0)?))
    }
}
