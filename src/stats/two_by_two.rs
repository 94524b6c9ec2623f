//! 2×2 tables as R analyses them. Cells: `a` exposed with the outcome, `b` exposed without,
//! `c` unexposed with, `d` unexposed without. Sample odds ratio with Woolf's interval, risk
//! ratio (Katz log interval), risk difference (Wald, unpooled), Pearson's chi-square with and
//! without Yates' correction (`chisq.test`), and Fisher's exact test with the conditional
//! maximum-likelihood odds ratio and its exact interval (`fisher.test`): the same equations as
//! R, solved to machine precision rather than at `uniroot`'s default tolerance.

use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::ln_binomial;

use super::km::z_for;
use super::{bisect_increasing, StatsError};

/// An estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The estimate.
    pub estimate: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// A chi-square test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom (1).
    pub df: u32,
    /// Upper-tail p-value.
    pub p: f64,
}

/// Fisher's exact test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fisher {
    /// Two-sided p-value (sum of the probabilities of tables no more likely than the observed).
    pub p: f64,
    /// Conditional maximum-likelihood odds ratio (0 or infinite at the support's ends).
    pub odds_ratio: f64,
    /// Exact lower limit.
    pub lower: f64,
    /// Exact upper limit.
    pub upper: f64,
}

/// The analyses of one 2×2 table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoByTwo {
    /// Sample odds ratio ad/bc with Woolf's interval.
    pub odds_ratio: Interval,
    /// Risk ratio with the Katz log interval.
    pub risk_ratio: Interval,
    /// Risk difference with the Wald (unpooled) interval.
    pub risk_difference: Interval,
    /// Pearson chi-square without correction.
    pub chisq: ChiSquare,
    /// Pearson chi-square with Yates' correction.
    pub chisq_yates: ChiSquare,
    /// Fisher's exact test.
    pub fisher: Fisher,
}

fn chi_square_p(statistic: f64) -> f64 {
    ChiSquared::new(1.0).map_or(f64::NAN, |d| d.sf(statistic))
}

/// Analyses a table at a confidence level.
pub fn analyse(a: u64, b: u64, c: u64, d: u64, conf_level: f64) -> Result<TwoByTwo, StatsError> {
    if a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0 {
        return Err(StatsError::DegenerateTable("a row or column sums to zero"));
    }
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::ConfLevel(conf_level));
    }
    let z = z_for(conf_level);
    let (af, bf, cf, df) = (a as f64, b as f64, c as f64, d as f64);
    let or = af * df / (bf * cf);
    let se_log_or = (1.0 / af + 1.0 / bf + 1.0 / cf + 1.0 / df).sqrt();
    let (n1, n0) = (af + bf, cf + df);
    let (p1, p0) = (af / n1, cf / n0);
    let rr = p1 / p0;
    let se_log_rr = (1.0 / af - 1.0 / n1 + 1.0 / cf - 1.0 / n0).sqrt();
    let rd = p1 - p0;
    let se_rd = (p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0).sqrt();
    // Pearson chi-square over the four cells; Yates subtracts min(0.5, |O − E|).
    let n = n1 + n0;
    let (col1, col0) = (af + cf, bf + df);
    let cells = [
        (af, n1 * col1 / n),
        (bf, n1 * col0 / n),
        (cf, n0 * col1 / n),
        (df, n0 * col0 / n),
    ];
    let yates = cells.iter().map(|(o, e)| (o - e).abs()).fold(0.5, f64::min);
    let pearson = |correction: f64| -> f64 {
        cells
            .iter()
            .map(|(o, e)| ((o - e).abs() - correction).powi(2) / e)
            .sum()
    };
    let (plain, corrected) = (pearson(0.0), pearson(yates));
    Ok(TwoByTwo {
        odds_ratio: Interval {
            estimate: or,
            lower: or * (-z * se_log_or).exp(),
            upper: or * (z * se_log_or).exp(),
        },
        risk_ratio: Interval {
            estimate: rr,
            lower: rr * (-z * se_log_rr).exp(),
            upper: rr * (z * se_log_rr).exp(),
        },
        risk_difference: Interval {
            estimate: rd,
            lower: rd - z * se_rd,
            upper: rd + z * se_rd,
        },
        chisq: ChiSquare {
            statistic: plain,
            df: 1,
            p: chi_square_p(plain),
        },
        chisq_yates: ChiSquare {
            statistic: corrected,
            df: 1,
            p: chi_square_p(corrected),
        },
        fisher: fisher(a, b, c, d, conf_level),
    })
}

/// The noncentral hypergeometric distribution of `a` given the margins (R's `fisher.test`:
/// m = a + c, n = b + d, k = a + b).
struct Conditional {
    support: Vec<u64>,
    log_density: Vec<f64>,
}

impl Conditional {
    fn new(a: u64, b: u64, c: u64, d: u64) -> Self {
        let (m, n, k) = (a + c, b + d, a + b);
        let lo = k.saturating_sub(n);
        let hi = k.min(m);
        let support: Vec<u64> = (lo..=hi).collect();
        let log_density = support
            .iter()
            .map(|&x| ln_binomial(m, x) + ln_binomial(n, k - x) - ln_binomial(m + n, k))
            .collect();
        Self {
            support,
            log_density,
        }
    }

    /// Probabilities of the support under odds ratio `ncp`.
    fn density(&self, ncp: f64) -> Vec<f64> {
        let log_ncp = ncp.ln();
        let d: Vec<f64> = self
            .log_density
            .iter()
            .zip(&self.support)
            .map(|(l, &x)| l + log_ncp * x as f64)
            .collect();
        let max = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = d.iter().map(|v| (v - max).exp()).collect();
        let total: f64 = e.iter().sum();
        e.iter().map(|v| v / total).collect()
    }

    fn mean(&self, ncp: f64) -> f64 {
        self.density(ncp)
            .iter()
            .zip(&self.support)
            .map(|(p, &x)| p * x as f64)
            .sum()
    }

    /// P(X ≤ q) or, upper, P(X ≥ q).
    fn tail(&self, q: u64, ncp: f64, upper: bool) -> f64 {
        self.density(ncp)
            .iter()
            .zip(&self.support)
            .filter(|(_, &x)| if upper { x >= q } else { x <= q })
            .map(|(p, _)| p)
            .sum()
    }
}

/// The odds ratio `t` on a log scale, for root finding over (0, ∞).
fn from_log(u: f64) -> f64 {
    u.exp()
}

/// Fisher's exact test with the conditional MLE and exact interval.
pub fn fisher(a: u64, b: u64, c: u64, d: u64, conf_level: f64) -> Fisher {
    let dist = Conditional::new(a, b, c, d);
    let (lo, hi) = (dist.support[0], dist.support[dist.support.len() - 1]);
    // Two-sided p: tables no more likely than the observed, with R's relative tolerance.
    let null = dist.density(1.0);
    let observed = null[(a - lo) as usize];
    let p = null
        .iter()
        .filter(|&&v| v <= observed * (1.0 + 1e-7))
        .sum::<f64>()
        .min(1.0);
    // Roots on log(odds ratio): mean and tails are monotone in it.
    const SPAN: f64 = 700.0;
    let odds_ratio = if a == lo {
        0.0
    } else if a == hi {
        f64::INFINITY
    } else {
        from_log(bisect_increasing(-SPAN, SPAN, |u| {
            dist.mean(from_log(u)) - a as f64
        }))
    };
    let alpha = (1.0 - conf_level) / 2.0;
    let lower = if a == lo {
        0.0
    } else {
        // P(X ≥ a | t) rises with t: the lower limit is where it reaches alpha.
        from_log(bisect_increasing(-SPAN, SPAN, |u| {
            dist.tail(a, from_log(u), true) - alpha
        }))
    };
    let upper = if a == hi {
        f64::INFINITY
    } else {
        // P(X ≤ a | t) falls with t: the upper limit is where it falls to alpha.
        from_log(bisect_increasing(-SPAN, SPAN, |u| {
            alpha - dist.tail(a, from_log(u), false)
        }))
    };
    Fisher {
        p,
        odds_ratio,
        lower,
        upper,
    }
}
