//! Multiple testing: Holm's step-down adjustment, as R's `p.adjust(p, "holm")`.

/// Holm's step-down adjustment of the p-values present, in their places.
pub fn holm(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&k| p[k].is_some()).collect();
    order.sort_by(|&a, &b| p[a].unwrap_or(1.0).total_cmp(&p[b].unwrap_or(1.0)));
    let m = order.len();
    let mut adjusted = vec![None; p.len()];
    let mut running = 0.0f64;
    for (rank, &k) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p[k].unwrap_or(1.0)).min(1.0);
        running = running.max(value);
        adjusted[k] = Some(running);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R: p.adjust(c(0.01, 0.04, 0.03, 0.2), "holm") = 0.04 0.09 0.09 0.20.
    #[test]
    fn holm_matches_p_adjust() {
        let adjusted = holm(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.2)]);
        let expected = [Some(0.04), Some(0.09), None, Some(0.09), Some(0.2)];
        for (a, e) in adjusted.iter().zip(expected) {
            match (a, e) {
                (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "{a} {e}"),
                (a, e) => assert_eq!(*a, e),
            }
        }
    }
}
