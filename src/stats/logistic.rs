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
    /// Trials per row for grouped data (each row a covariate pattern), else one per row.
    trials: Option<DVector<f64>>,
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

/// Rows per block of a pass over the design: a block of every column stays in cache while its
/// p(p + 1)/2 products are formed, so the design is read from memory once per pass, not once
/// per product.
const BLOCK: usize = 2048;

/// One block's XᵀWX (upper triangle, row-major p × p) and XᵀWz, `column(j)` being the block's
/// rows of column j.
fn block_cross_products<'a>(
    column: &dyn Fn(usize) -> &'a [f64],
    w: &[f64],
    z: &[f64],
    p: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; p * p + p];
    let mut wa = vec![0.0; w.len()];
    for a in 0..p {
        for ((cell, x), w) in wa.iter_mut().zip(column(a)).zip(w) {
            *cell = x * w;
        }
        let dot = |other: &[f64]| super::dot(&wa, other);
        for b in a..p {
            out[a * p + b] = dot(column(b));
        }
        out[p * p + a] = dot(z);
    }
    out
}

/// The blocks' products summed in block order (the symmetric matrix filled in).
fn sum_blocks<'a>(
    blocks: impl Iterator<Item = &'a Vec<f64>>,
    p: usize,
) -> (DMatrix<f64>, DVector<f64>) {
    let mut information = DMatrix::zeros(p, p);
    let mut rhs = DVector::zeros(p);
    for out in blocks {
        for a in 0..p {
            rhs[a] += out[p * p + a];
            for b in a..p {
                information[(a, b)] += out[a * p + b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            information[(a, b)] = information[(b, a)];
        }
    }
    (information, rhs)
}

/// XᵀX, by row blocks in parallel, summed in order.
fn gram(x: &DMatrix<f64>) -> DMatrix<f64> {
    use rayon::prelude::*;
    let (n, p) = (x.nrows(), x.ncols());
    let data = x.as_slice();
    let ones = vec![1.0; BLOCK];
    let blocks: Vec<Vec<f64>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|k| {
            let rows = k * BLOCK..((k + 1) * BLOCK).min(n);
            let column = |j: usize| &data[j * n + rows.start..j * n + rows.end];
            let ones = &ones[..rows.len()];
            block_cross_products(&column, ones, ones, p)
        })
        .collect();
    sum_blocks(blocks.iter(), p).0
}

/// Where a pass over the rows takes the linear predictor from.
#[derive(Clone, Copy)]
enum Predictor<'a> {
    /// glm's start, mu = (y + 0.5) / 2.
    Start,
    /// Xβ (+ the offset).
    At(&'a DVector<f64>),
}

/// What one pass over the rows yields at a linear predictor η.
struct Pass {
    /// The binomial deviance at η.
    deviance: f64,
    /// XᵀWX, W = diag(μ(1 − μ)): the information at η, the next step's normal matrix.
    information: DMatrix<f64>,
    /// XᵀWz, with the working response z = η − offset + (y − μ)/w.
    rhs: DVector<f64>,
    /// max |η|.
    max_eta: f64,
}

/// One IRLS pass: η, μ, the weights, the working response, the deviance and the weighted cross
/// products, fused into a single pass over the design in row blocks. Blocks run in parallel
/// and are summed in order afterwards, so the result does not depend on the number of threads.
/// `y` is each row's outcome (0 or 1), or with `trials` the share of successes among that row's
/// trials (a covariate pattern's patients: grouped binomial data, as `glm(cbind(s, n - s) ~
/// x, binomial)` fits them).
fn irls_pass(
    x: &DMatrix<f64>,
    y: &[f64],
    trials: Option<&[f64]>,
    offset: Option<&[f64]>,
    predictor: Predictor,
) -> Pass {
    use rayon::prelude::*;
    let (n, p) = (x.nrows(), x.ncols());
    let data = x.as_slice();
    let partials: Vec<(Vec<f64>, f64, f64)> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|k| {
            let rows = k * BLOCK..((k + 1) * BLOCK).min(n);
            let column = |j: usize| &data[j * n + rows.start..j * n + rows.end];
            let y = &y[rows.clone()];
            let trials = trials.map(|t| &t[rows.clone()]);
            let len = rows.len();
            let mut eta = vec![0.0; len];
            match predictor {
                // glm's start: mu = (n y + 0.5) / (n + 1), (y + 0.5) / 2 for one trial.
                Predictor::Start => {
                    for (i, (e, &y)) in eta.iter_mut().zip(y).enumerate() {
                        let mu = match trials {
                            None => (y + 0.5) / 2.0,
                            Some(t) => (t[i] * y + 0.5) / (t[i] + 1.0),
                        };
                        *e = (mu / (1.0 - mu)).ln();
                    }
                }
                Predictor::At(beta) => {
                    for j in 0..p {
                        let b = beta[j];
                        for (e, x) in eta.iter_mut().zip(column(j)) {
                            *e += x * b;
                        }
                    }
                    if let Some(offset) = offset {
                        for (e, o) in eta.iter_mut().zip(&offset[rows.clone()]) {
                            *e += o;
                        }
                    }
                }
            }
            let (mut w, mut z) = (vec![0.0; len], vec![0.0; len]);
            let (mut loglik, mut max_eta) = (0.0, 0.0f64);
            for i in 0..len {
                let e = eta[i];
                let mu = 1.0 / (1.0 + (-e).exp());
                let variance = (mu * (1.0 - mu)).max(1e-300);
                let o = offset.map_or(0.0, |o| o[rows.start + i]);
                z[i] = e - o + (y[i] - mu) / variance;
                match trials {
                    None => {
                        w[i] = variance;
                        loglik += if y[i] > 0.5 { mu.ln() } else { (1.0 - mu).ln() };
                    }
                    Some(t) => {
                        w[i] = t[i] * variance;
                        loglik += t[i] * (y[i] * mu.ln() + (1.0 - y[i]) * (1.0 - mu).ln());
                    }
                }
                max_eta = max_eta.max(e.abs());
            }
            (block_cross_products(&column, &w, &z, p), loglik, max_eta)
        })
        .collect();
    let (mut loglik, mut max_eta) = (0.0, 0.0f64);
    for (_, block_loglik, block_max) in &partials {
        loglik += block_loglik;
        max_eta = max_eta.max(*block_max);
    }
    let (information, rhs) = sum_blocks(partials.iter().map(|(out, _, _)| out), p);
    Pass {
        deviance: -2.0 * loglik,
        information,
        rhs,
        max_eta,
    }
}

/// IRLS with optional trials per row (grouped data) and an optional offset; `None` when XᵀWX
/// is singular.
fn irls(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    trials: Option<&DVector<f64>>,
    offset: Option<&DVector<f64>>,
) -> Option<Irls> {
    let (y, offset) = (y.as_slice(), offset.map(|o| o.as_slice()));
    let trials = trials.map(|t| t.as_slice());
    let mut pass = irls_pass(x, y, trials, offset, Predictor::Start);
    let mut old_deviance = f64::INFINITY;
    let mut iterations = 0;
    loop {
        iterations += 1;
        let beta = pass.information.clone().cholesky()?.solve(&pass.rhs);
        pass = irls_pass(x, y, trials, offset, Predictor::At(&beta));
        let dev = pass.deviance;
        let converged = (dev - old_deviance).abs() / (dev.abs() + 0.1) < TOLERANCE;
        old_deviance = dev;
        if converged || iterations >= MAX_ITERATIONS {
            // Covariance at the final coefficients.
            return Some(Irls {
                beta,
                deviance: dev,
                covariance: pass.information.try_inverse()?,
                max_eta: pass.max_eta,
                iterations,
            });
        }
    }
}

/// Covariates that add no rank to the design (each is a combination of earlier columns).
///
/// Sequential Gram–Schmidt on XᵀX (p × p, one pass over the rows) rather than a rank per
/// leading block of X (an SVD of n × j for each j, far too slow on a million rows): column j
/// is redundant when its sum of squares left after projecting on the earlier kept columns is
/// at most 1e-10 of its own (a residual norm 1e-5 of the column's).
fn redundant_columns(x: &DMatrix<f64>, names: &[String]) -> Vec<String> {
    let gram = gram(x);
    let mut kept: Vec<usize> = Vec::new();
    let mut redundant = Vec::new();
    for (j, name) in names.iter().enumerate().take(x.ncols()) {
        let own = gram[(j, j)];
        let residual = if kept.is_empty() {
            own
        } else {
            let block = gram.select_rows(&kept).select_columns(&kept);
            let cross = DVector::from_iterator(kept.len(), kept.iter().map(|&k| gram[(k, j)]));
            block
                .cholesky()
                .map_or(own, |c| own - cross.dot(&c.solve(&cross)))
        };
        if own <= 0.0 || residual <= 1e-10 * own {
            redundant.push(name.clone());
        } else {
            kept.push(j);
        }
    }
    redundant
}

/// The inputs' shape and values: non-empty, one name and n values per covariate, finite.
fn check_inputs(
    outcome: &[bool],
    covariates: &[Vec<f64>],
    names: &[String],
) -> Result<(), StatsError> {
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
    Ok(())
}

impl LogisticFit {
    /// Fits `outcome ~ covariates` with an intercept. `covariates[j]` is column j.
    pub fn fit(
        outcome: &[bool],
        covariates: &[Vec<f64>],
        names: &[String],
    ) -> Result<Self, StatsError> {
        check_inputs(outcome, covariates, names)?;
        let p = covariates.len() + 1;
        let design = DMatrix::from_fn(outcome.len(), p, |i, j| {
            if j == 0 {
                1.0
            } else {
                covariates[j - 1][i]
            }
        });
        let outcome = outcome.iter().map(|&y| f64::from(u8::from(y))).collect();
        Self::fit_design(outcome, None, design, names)
    }

    /// [`LogisticFit::fit`] taking the columns over: each is moved into the design matrix and
    /// freed, so a large design is never held twice.
    pub fn fit_columns(
        outcome: &[bool],
        covariates: Vec<Vec<f64>>,
        names: &[String],
    ) -> Result<Self, StatsError> {
        check_inputs(outcome, &covariates, names)?;
        let mut design = DMatrix::zeros(outcome.len(), covariates.len() + 1);
        design.column_mut(0).fill(1.0);
        for (j, column) in covariates.into_iter().enumerate() {
            design.column_mut(j + 1).copy_from_slice(&column);
        }
        let outcome = outcome.iter().map(|&y| f64::from(u8::from(y))).collect();
        Self::fit_design(outcome, None, design, names)
    }

    /// The same fit on grouped data: each row a covariate pattern with `trials` patients of
    /// whom `successes` have the outcome, as `glm(cbind(successes, trials - successes) ~ x,
    /// binomial)`. Coefficients, standard errors and intervals equal those of the fit on one
    /// row per patient (the likelihoods differ by a constant); `deviance`, `loglik` and `aic`
    /// are the grouped ones up to that constant, and `n` counts the patients. On a large
    /// cohort whose covariates take few values this is far cheaper.
    pub fn fit_grouped(
        successes: &[f64],
        trials: &[f64],
        covariates: Vec<Vec<f64>>,
        names: &[String],
    ) -> Result<Self, StatsError> {
        let rows = trials.len();
        if successes.len() != rows {
            return Err(StatsError::LengthMismatch);
        }
        if trials.iter().any(|&t| !(t.is_finite() && t > 0.0))
            || successes
                .iter()
                .zip(trials)
                .any(|(&s, &t)| !(s.is_finite() && (0.0..=t).contains(&s)))
        {
            return Err(StatsError::NotFinite);
        }
        let flags = vec![false; rows];
        check_inputs(&flags, &covariates, names)?;
        let mut design = DMatrix::zeros(rows, covariates.len() + 1);
        design.column_mut(0).fill(1.0);
        for (j, column) in covariates.into_iter().enumerate() {
            design.column_mut(j + 1).copy_from_slice(&column);
        }
        let share = successes.iter().zip(trials).map(|(s, t)| s / t).collect();
        Self::fit_design(share, Some(trials), design, names)
    }

    /// The fit on a design whose first column is the intercept; `outcome` is 0/1 per row, or
    /// with `trials` each row's share of successes.
    fn fit_design(
        outcome: Vec<f64>,
        trials: Option<&[f64]>,
        design: DMatrix<f64>,
        names: &[String],
    ) -> Result<Self, StatsError> {
        let (rows, p) = (design.nrows(), design.ncols());
        let outcome_vec = DVector::from_vec(outcome);
        let trials = trials.map(DVector::from_column_slice);
        let terms: Vec<String> = std::iter::once("(Intercept)".to_string())
            .chain(names.iter().cloned())
            .collect();
        let redundant = redundant_columns(&design, &terms);
        if !redundant.is_empty() {
            return Err(StatsError::SingularDesign(redundant));
        }
        let fit = irls(&design, &outcome_vec, trials.as_ref(), None)
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
        let null_deviance = match &trials {
            None => deviance(
                &outcome_vec,
                &DVector::from_element(rows, outcome_vec.mean()),
            ),
            Some(t) => {
                let mean = outcome_vec.dot(t) / t.sum();
                -2.0 * outcome_vec
                    .iter()
                    .zip(t.iter())
                    .map(|(&y, &t)| t * (y * mean.ln() + (1.0 - y) * (1.0 - mean).ln()))
                    .sum::<f64>()
            }
        };
        let n = trials.as_ref().map_or(rows, |t| t.sum().round() as usize);
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
            trials,
        })
    }

    /// Wald interval of coefficient `j` (log-odds scale): coef ± z·se.
    pub fn wald_interval(&self, j: usize, conf_level: f64) -> (f64, f64) {
        let z = z_for(conf_level);
        (self.coef[j] - z * self.se[j], self.coef[j] + z * self.se[j])
    }

    /// Profile log-likelihood with coefficient `j` fixed at `value`.
    fn profile_loglik(&self, j: usize, value: f64) -> Option<f64> {
        let rows = self.design.nrows();
        let others = DMatrix::from_fn(rows, self.coef.len() - 1, |i, k| {
            self.design[(i, if k < j { k } else { k + 1 })]
        });
        let offset = self.design.column(j) * value;
        irls(&others, &self.outcome, self.trials.as_ref(), Some(&offset)).map(|f| -f.deviance / 2.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Grouped binomial data give the fit of one row per patient (the likelihoods differ by a
    /// constant): the same coefficients, standard errors and profile intervals, on seeded data
    /// with covariates that take few values (as a cohort's sex, age in years and factors).
    #[test]
    fn grouped_data_give_the_fit_of_one_row_per_patient() {
        let mut draw = super::super::xorshift(20261207);
        let n = 4000;
        let (mut x1, mut x2, mut x3, mut y) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let a = draw(2) as f64;
            let b = draw(3) as f64;
            let age = 50.0 + draw(30) as f64;
            let eta = -1.0 + 0.7 * a - 0.4 * b + 0.03 * (age - 65.0);
            let p = 1.0 / (1.0 + (-eta).exp());
            y.push((draw(1_000_000) as f64) < p * 1e6);
            x1.push(a);
            x2.push(f64::from(u8::from(b == 1.0)));
            x3.push(age / 10.0);
        }
        let names: Vec<String> = ["a", "b=1", "age"].map(String::from).to_vec();
        let single =
            LogisticFit::fit_columns(&y, vec![x1.clone(), x2.clone(), x3.clone()], &names).unwrap();
        // The covariate patterns, in order of first appearance.
        let mut patterns: Vec<([f64; 3], f64, f64)> = Vec::new();
        for i in 0..n {
            let key = [x1[i], x2[i], x3[i]];
            let at = match patterns.iter().position(|p| p.0 == key) {
                Some(k) => k,
                None => {
                    patterns.push((key, 0.0, 0.0));
                    patterns.len() - 1
                }
            };
            patterns[at].1 += f64::from(u8::from(y[i]));
            patterns[at].2 += 1.0;
        }
        assert!(patterns.len() < n / 10);
        let columns: Vec<Vec<f64>> = (0..3)
            .map(|j| patterns.iter().map(|p| p.0[j]).collect())
            .collect();
        let successes: Vec<f64> = patterns.iter().map(|p| p.1).collect();
        let trials: Vec<f64> = patterns.iter().map(|p| p.2).collect();
        let grouped = LogisticFit::fit_grouped(&successes, &trials, columns, &names).unwrap();
        assert_eq!(grouped.n, n);
        for j in 0..4 {
            assert!((grouped.coef[j] - single.coef[j]).abs() < 1e-10, "coef {j}");
            assert!((grouped.se[j] - single.se[j]).abs() < 1e-10, "se {j}");
            assert!((grouped.p[j] - single.p[j]).abs() < 1e-10, "p {j}");
        }
        let (a, b) = (
            grouped.profile_interval(1, 0.95).unwrap(),
            single.profile_interval(1, 0.95).unwrap(),
        );
        assert!(
            (a.0 - b.0).abs() < 1e-8 && (a.1 - b.1).abs() < 1e-8,
            "{a:?} {b:?}"
        );
        // The likelihoods differ by the constant log of the binomial coefficients: the
        // likelihood-ratio of the covariates is the same.
        let lr = |f: &LogisticFit| f.null_deviance - f.deviance;
        assert!((lr(&grouped) - lr(&single)).abs() < 1e-8);
        // Trials must be positive and successes within them.
        assert!(LogisticFit::fit_grouped(&[2.0], &[1.0], vec![vec![0.0]], &names[..1]).is_err());
    }
}
