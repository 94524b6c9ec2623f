//! Descriptive statistics of a study's Table 1, as R's `quantile` (type 7) and the `tableone`
//! package compute them: quantiles by selection, and standardised mean differences between
//! two groups (Austin 2009 for a number; Yang and Dalton 2012 for a factor).

use nalgebra::{DMatrix, DVector};

/// R's type-7 quantile of non-empty `values` (reordered in place): the order statistics it
/// needs found by selection, in linear time, instead of a sort.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    let h = (values.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (_, &mut below, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let fraction = h - lo as f64;
    if fraction == 0.0 {
        return below;
    }
    // The next order statistic: the smallest of those above.
    let next = above.iter().copied().fold(f64::INFINITY, f64::min);
    below + fraction * (next - below)
}

/// The standardised mean difference of a continuous variable between two groups (tableone:
/// the difference of means over the root of the mean of the variances).
pub fn smd_continuous(a: &[f64], b: &[f64]) -> Option<f64> {
    let moments = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    };
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let ((m1, v1), (m2, v2)) = (moments(a), moments(b));
    let pooled = ((v1 + v2) / 2.0).sqrt();
    (pooled > 0.0).then(|| ((m1 - m2) / pooled).abs())
}

/// The standardised mean difference of a categorical variable between two groups (Yang and
/// Dalton 2012, as tableone computes it): sqrt((T − C)ᵀ S⁻¹ (T − C)) over the levels but the
/// first, S the mean of the two groups' multinomial covariance matrices (a generalised
/// inverse when singular).
pub fn smd_categorical(a: &[u64], b: &[u64]) -> Option<f64> {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return None;
    }
    // Levels present in either group; the first of them is the reference.
    let levels: Vec<usize> = (0..a.len()).filter(|&k| a[k] + b[k] > 0).collect();
    if levels.len() < 2 {
        return None;
    }
    let p: Vec<f64> = levels.iter().map(|&k| a[k] as f64 / na).collect();
    let q: Vec<f64> = levels.iter().map(|&k| b[k] as f64 / nb).collect();
    let k = levels.len() - 1;
    let diff = DVector::from_iterator(k, (1..=k).map(|j| p[j] - q[j]));
    let s = DMatrix::from_fn(k, k, |r, c| {
        let (r, c) = (r + 1, c + 1);
        if r == c {
            (p[r] * (1.0 - p[r]) + q[r] * (1.0 - q[r])) / 2.0
        } else {
            -(p[r] * p[c] + q[r] * q[c]) / 2.0
        }
    });
    let inverse = s.pseudo_inverse(1e-12).ok()?;
    let value = (diff.transpose() * inverse * &diff)[(0, 0)];
    Some(value.max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yang and Dalton's formula worked by hand for p = (.3, .5, .2), q = (.1, .6, .3): the
    /// 2 × 2 covariance of the last two levels, inverted in closed form.
    #[test]
    fn categorical_smd_follows_yang_and_dalton() {
        let smd = smd_categorical(&[30, 50, 20], &[10, 60, 30]).unwrap();
        // S over levels b, c: [[(.25 + .24)/2, -(.1 + .18)/2], [-(.1 + .18)/2, (.16 + .21)/2]].
        let (s11, s12, s22): (f64, f64, f64) = (0.245, -0.14, 0.185);
        let (t1, t2): (f64, f64) = (-0.1, -0.1);
        let det = s11 * s22 - s12 * s12;
        let quad = (t1 * t1 * s22 - 2.0 * t1 * t2 * s12 + t2 * t2 * s11) / det;
        assert!((smd - quad.sqrt()).abs() < 1e-12, "{smd}");
        // Two levels: the difference of proportions over the pooled SD.
        let two = smd_categorical(&[40, 60], &[60, 40]).unwrap();
        assert!((two - 0.2 / (0.24f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn continuous_smd_is_the_mean_difference_over_the_pooled_sd() {
        let smd = smd_continuous(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap();
        // Means 2 and 4, variances 1 and 4.
        assert!((smd - 2.0 / (2.5f64).sqrt()).abs() < 1e-12);
        assert!((quantile(&mut [4.0, 2.0, 3.0, 1.0], 0.25) - 1.75).abs() < 1e-12);
        assert_eq!(quantile(&mut [5.0, 1.0, 3.0], 0.5), 3.0);
        assert_eq!(quantile(&mut [7.0], 0.75), 7.0);
    }
}
