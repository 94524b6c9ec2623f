//! Estimators and tests, as pure numeric code over slices (no polars types), each matching
//! R's `survival` to 1e-6 relative on reference data (tests/stats.rs names the R call behind
//! every expected value). So far: Kaplan–Meier ([`km`]), the G-rho log-rank family
//! ([`logrank`]), restricted mean survival ([`rmst`]), proportions ([`proportion`]) and 2×2
//! tables ([`two_by_two`]), logistic regression ([`logistic`]), Cox regression ([`cox`]) and
//! cumulative incidence with competing risks ([`cuminc`]) and Fine–Gray regression
//! ([`fine_gray`]); Table 1's quantiles and standardised differences ([`describe`]) and
//! Holm's adjustment ([`multiplicity`]).

/// A key whose unsigned order is `f64::total_cmp`'s order.
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Row indices sorted by stratum, then by time (ascending or descending), ties in row order:
/// the order every risk-set sweep walks. Whole-number times (days) take one counting pass
/// over their values; others a least-significant-digit radix sort of their order-preserving
/// bits (bytes equal in every row are skipped; keys varying in more bytes are sorted as (key,
/// row) pairs instead). Then a counting sort by stratum; every pass is stable, so ties keep
/// their row order. Times already in order (a caller that sorted once for several
/// estimators) are found in one pass and not sorted again.
pub(crate) fn order_by_stratum_and_time(
    time: &[f64],
    strata: Option<&[usize]>,
    descending: bool,
) -> Vec<usize> {
    let n = time.len();
    let key_of = |t: f64| {
        let key = total_order_key(t);
        if descending {
            !key
        } else {
            key
        }
    };
    let in_order = time.windows(2).all(|w| key_of(w[0]) <= key_of(w[1]));
    let order: Vec<usize> = if in_order {
        (0..n).collect()
    } else if let Some(order) = order_by_whole_numbers(time, descending) {
        order
    } else {
        order_by_time(time, key_of)
    };
    let Some(strata) = strata else {
        return order;
    };
    let groups = strata.iter().max().map_or(0, |m| m + 1);
    group_by_key(order.iter().copied(), |i| strata[i], groups).0
}

/// The ranges of sorted positions that each stratum takes in `order` (as
/// [`order_by_stratum_and_time`] gives it): the whole order at once without strata.
pub(crate) fn stratum_ranges(
    order: &[usize],
    strata: Option<&[usize]>,
) -> Vec<std::ops::Range<usize>> {
    let n = order.len();
    let Some(strata) = strata else {
        return std::iter::once(0..n).filter(|r| !r.is_empty()).collect();
    };
    let mut ranges = Vec::new();
    let mut start = 0;
    for k in 1..=n {
        if k == n || strata[order[k]] != strata[order[start]] {
            ranges.push(start..k);
            start = k;
        }
    }
    ranges
}

/// `items` grouped by `key_of` (keys below `keys`), a stable counting sort: the items in key
/// order, those of one key in the order given; and where each key's items start, with the
/// end (`keys + 1` bounds).
pub(crate) fn group_by_key(
    items: impl Iterator<Item = usize> + Clone,
    key_of: impl Fn(usize) -> usize,
    keys: usize,
) -> (Vec<usize>, Vec<usize>) {
    let mut starts = vec![0usize; keys + 1];
    for i in items.clone() {
        starts[key_of(i) + 1] += 1;
    }
    for k in 1..=keys {
        starts[k] += starts[k - 1];
    }
    let mut grouped = vec![0usize; starts[keys]];
    let mut next = starts.clone();
    for i in items {
        let slot = &mut next[key_of(i)];
        grouped[*slot] = i;
        *slot += 1;
    }
    (grouped, starts)
}

/// The lowest and highest of `time` when every time is a whole number (days, say); `None`
/// otherwise, and for an empty slice. A −0 gives `None`: the general sort orders it before 0.
pub(crate) fn whole_number_range(time: &[f64]) -> Option<(f64, f64)> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for &t in time {
        // (An integer round trip, not fract(): that is a libm call per row without SSE4.1;
        // NaN and infinities do not come back.)
        if (t as i64) as f64 != t || (t == 0.0 && t.is_sign_negative()) {
            return None;
        }
        low = low.min(t);
        high = high.max(t);
    }
    (low <= high).then_some((low, high))
}

/// [`whole_number_range`] when the times also span not many more values than there are rows
/// (under twice as many): one counting bucket per value then costs no more than the rows.
pub(crate) fn short_whole_number_range(time: &[f64]) -> Option<(f64, f64)> {
    let (low, high) = whole_number_range(time)?;
    (high - low < 2.0 * time.len().max(128) as f64).then_some((low, high))
}

/// The stable order of `time` (descending or not) by one counting pass, when every time is a
/// whole number (days, say) and they span not many more values than there are rows; `None`
/// otherwise. A −0 is left to the general sort, which orders it before 0.
fn order_by_whole_numbers(time: &[f64], descending: bool) -> Option<Vec<usize>> {
    let n = time.len();
    let (low, high) = short_whole_number_range(time)?;
    let span = high - low;
    // Exact buckets: whole numbers below 2^53 differ by a whole number, exact in f64; larger
    // ones this close (the span under 2n) are within a factor of two, where subtraction is
    // exact.
    let bucket = |t: f64| (if descending { high - t } else { t - low }) as usize;
    let mut start = vec![0usize; span as usize + 2];
    for &t in time {
        start[bucket(t) + 1] += 1;
    }
    for b in 1..start.len() {
        start[b] += start[b - 1];
    }
    // Rows placed in row order: ties keep it.
    let mut order = vec![0usize; n];
    for (row, &t) in time.iter().enumerate() {
        let slot = &mut start[bucket(t)];
        order[*slot] = row;
        *slot += 1;
    }
    Some(order)
}

/// The stable order of `time` by `key_of` (radix passes, or a comparison sort of (key, row)
/// pairs for keys varying in most bytes).
fn order_by_time(time: &[f64], key_of: impl Fn(f64) -> u64) -> Vec<usize> {
    let n = time.len();
    let mut keys: Vec<u64> = time.iter().map(|&t| key_of(t)).collect();
    // The bytes in which some key differs from the first: the only ones a radix pass must
    // sort by (times in whole days vary in two or three).
    let first = keys.first().copied().unwrap_or(0);
    let varying = keys.iter().fold(0u64, |bits, &k| bits | (k ^ first));
    let bytes: Vec<usize> = (0..8).filter(|b| (varying >> (8 * b)) & 255 != 0).collect();
    if bytes.len() > 3 {
        if let Some(order) = order_by_few_keys(&keys) {
            return order;
        }
        // Keys that vary in most bytes (continuous values): a comparison sort of (key, row)
        // pairs is faster than eight scattering passes.
        use rayon::slice::ParallelSliceMut;
        let mut pairs: Vec<(u64, usize)> = keys.into_iter().zip(0..n).collect();
        pairs.par_sort_unstable();
        return pairs.into_iter().map(|(_, i)| i).collect();
    }
    let mut histograms = vec![[0usize; 256]; bytes.len()];
    for &k in &keys {
        for (&byte, histogram) in bytes.iter().zip(histograms.iter_mut()) {
            histogram[((k >> (8 * byte)) & 255) as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut next_order = vec![0usize; n];
    let mut next_keys = vec![0u64; n];
    for (&byte, histogram) in bytes.iter().zip(&histograms) {
        let mut offsets = [0usize; 256];
        let mut sum = 0;
        for (offset, count) in offsets.iter_mut().zip(histogram) {
            *offset = sum;
            sum += count;
        }
        for (&k, &i) in keys.iter().zip(&order) {
            let digit = ((k >> (8 * byte)) & 255) as usize;
            next_keys[offsets[digit]] = k;
            next_order[offsets[digit]] = i;
            offsets[digit] += 1;
        }
        std::mem::swap(&mut keys, &mut next_keys);
        std::mem::swap(&mut order, &mut next_order);
    }
    order
}

/// The stable order of `keys` by a counting sort over their distinct values, when those are
/// few: times in days or months on a large cohort vary in most bytes of their bits (so radix
/// passes do not pay) yet take a few thousand values. `None` when the keys are too many
/// distinct values for that to pay.
fn order_by_few_keys(keys: &[u64]) -> Option<Vec<usize>> {
    let n = keys.len();
    let most = (n / 4).min(1 << 16);
    // Each row's key as the index of its distinct value (in order of first appearance).
    let mut index: foldhash::HashMap<u64, u32> = Default::default();
    let mut distinct: Vec<u64> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut key_index = Vec::with_capacity(n);
    for &k in keys {
        let next = distinct.len() as u32;
        let i = *index.entry(k).or_insert(next);
        if i == next {
            if distinct.len() == most {
                return None;
            }
            distinct.push(k);
            counts.push(0);
        }
        counts[i as usize] += 1;
        key_index.push(i);
    }
    // Where each distinct value's rows start in the sorted order.
    let mut by_key: Vec<usize> = (0..distinct.len()).collect();
    by_key.sort_unstable_by_key(|&i| distinct[i]);
    let mut start = vec![0usize; distinct.len()];
    let mut sum = 0;
    for &i in &by_key {
        start[i] = sum;
        sum += counts[i];
    }
    // Rows placed in row order: ties keep it.
    let mut order = vec![0usize; n];
    for (row, &i) in key_index.iter().enumerate() {
        let slot = &mut start[i as usize];
        order[*slot] = row;
        *slot += 1;
    }
    Some(order)
}

/// Σ aᵢbᵢ over the common length, in eight interleaved partial sums combined in a fixed
/// order: the same bits on every run and thread count, and a loop the compiler vectorises (a
/// single running sum must add in row order, one addition's latency per row).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0; LANES];
    let (a_blocks, b_blocks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_blocks.remainder(), b_blocks.remainder());
    for (x, y) in a_blocks.zip(b_blocks) {
        // Fixed-size blocks: no bounds checks, lanes mapped straight onto vector registers.
        let (x, y): (&[f64; LANES], &[f64; LANES]) = match (x.try_into(), y.try_into()) {
            (Ok(x), Ok(y)) => (x, y),
            _ => unreachable!("chunks_exact yields blocks of LANES"),
        };
        for k in 0..LANES {
            lanes[k] += x[k] * y[k];
        }
    }
    let mut sum = 0.0;
    for lane in lanes {
        sum += lane;
    }
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += x * y;
    }
    sum
}

/// Row indices sorted by `values` ascending, ties in row order.
pub(crate) fn order_by(values: &[f64]) -> Vec<usize> {
    order_by_stratum_and_time(values, None, false)
}

/// Row indices sorted by `values` descending, ties in row order.
pub(crate) fn order_by_descending(values: &[f64]) -> Vec<usize> {
    order_by_stratum_and_time(values, None, true)
}

/// exp(b) with its Wald interval exp(b ± z·se): a hazard or odds ratio from a log-scale
/// coefficient.
pub(crate) fn exp_wald_interval(b: f64, se: f64, conf_level: f64) -> (f64, f64, f64) {
    let z = km::z_for(conf_level);
    (b.exp(), (b - z * se).exp(), (b + z * se).exp())
}

/// The root of `f`, increasing on [lo, hi] with a sign change, by bisection to the last bit.
pub(crate) fn bisect_increasing(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

pub mod cox;
pub mod cuminc;
pub mod describe;
pub mod fine_gray;
pub mod km;
pub mod logistic;
pub mod logrank;
pub mod multiplicity;
pub mod proportion;
pub mod rate;
pub mod rmst;
pub mod two_by_two;

/// Why an estimator cannot run on its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// Input slices differ in length.
    #[error("input columns differ in length")]
    LengthMismatch,
    /// No observation.
    #[error("no observation")]
    Empty,
    /// A time is NaN or infinite.
    #[error("a time is not a finite number")]
    NotFinite,
    /// With delayed entry, an entry time is not before its exit time.
    #[error("an entry time is not before its exit time")]
    EntryNotBeforeExit,
    /// A confidence level outside (0, 1).
    #[error("confidence level {0} is not in (0, 1)")]
    ConfLevel(f64),
    /// A restriction time that is not positive.
    #[error("restriction time {0} is not > 0")]
    Horizon(f64),
    /// A table cell is negative or every margin is empty.
    #[error("the table is degenerate: {0}")]
    DegenerateTable(&'static str),
    /// The design matrix is singular: these terms are combinations of earlier ones.
    #[error("singular design: {} add no information beyond the earlier terms (collinear or constant)", .0.join(", "))]
    SingularDesign(Vec<String>),
    /// The outcome is perfectly separated by these covariates: their coefficients diverge.
    #[error("separation: fitted probabilities of 0 or 1; the coefficients of {} diverge (the outcome is perfectly predicted)", .0.join(", "))]
    Separation(Vec<String>),
    /// Fewer than two groups have an expected count above zero.
    #[error("a test needs at least two groups with expected events")]
    TooFewGroups,
    /// No event of the cause being modelled.
    #[error("no event of the cause being modelled")]
    NoEvents,
}

/// A seeded xorshift64 stream for the unit tests' data (the same numbers on every run): each
/// call the next state modulo `below`.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |below| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_sums_every_product_whatever_the_length() {
        for n in [0usize, 1, 7, 8, 9, 16, 23] {
            let a: Vec<f64> = (0..n).map(|i| i as f64 + 1.0).collect();
            let b: Vec<f64> = (0..n).map(|i| 2.0 * i as f64 - 3.0).collect();
            // Small integers: every partial sum is exact, so any order gives this value.
            let expected: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), expected, "length {n}");
        }
        // The shorter slice bounds the sum.
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 14.0);
    }

    #[test]
    fn whole_number_times_sort_by_counting_as_by_comparison() {
        // Days with ties (kept in row order), ascending and descending.
        let times: Vec<f64> = (0..3000)
            .map(|i| f64::from((i * 7919) % 997) - 40.0)
            .collect();
        for descending in [false, true] {
            let key = |t: f64| {
                let k = total_order_key(t);
                if descending {
                    !k
                } else {
                    k
                }
            };
            let mut expected: Vec<usize> = (0..times.len()).collect();
            expected.sort_by_key(|&i| key(times[i]));
            let counted = order_by_whole_numbers(&times, descending);
            assert_eq!(
                counted.as_deref(),
                Some(&expected[..]),
                "descending {descending}"
            );
            assert_eq!(
                order_by_stratum_and_time(&times, None, descending),
                expected
            );
        }
        // Not for fractions, a −0 (ordered before 0 elsewhere), non-finite times, or values
        // spread far wider than the rows.
        assert_eq!(order_by_whole_numbers(&[3.0, 1.5, 2.0], false), None);
        assert_eq!(order_by_whole_numbers(&[3.0, -0.0, 0.0], false), None);
        assert_eq!(order_by_whole_numbers(&[3.0, f64::NAN], false), None);
        assert_eq!(order_by_whole_numbers(&[3.0, f64::INFINITY], false), None);
        assert_eq!(order_by_whole_numbers(&[3.0, 1e9, 2.0], false), None);
        assert_eq!(
            order_by_whole_numbers(&[3.0, 1.0, 2.0, 1.0], true),
            Some(vec![0, 2, 1, 3])
        );
    }

    #[test]
    fn few_distinct_times_sort_by_counting_as_by_comparison() {
        // Continuous-looking times (days over 30.4375) taking few values, ties keeping their
        // row order: the counting sort, and a stable comparison sort, give the same order.
        let times: Vec<f64> = (0..4000)
            .map(|i| f64::from((i * 7919) % 613) / 30.4375)
            .collect();
        let keys: Vec<u64> = times.iter().map(|&t| total_order_key(t)).collect();
        let mut expected: Vec<usize> = (0..times.len()).collect();
        expected.sort_by_key(|&i| keys[i]);
        assert_eq!(order_by_few_keys(&keys).as_deref(), Some(&expected[..]));
        let key = |t: f64| total_order_key(t);
        assert_eq!(order_by_time(&times, key), expected);
        let descending: Vec<usize> = {
            let mut d: Vec<usize> = (0..times.len()).collect();
            d.sort_by_key(|&i| !keys[i]);
            d
        };
        assert_eq!(order_by_time(&times, |t| !total_order_key(t)), descending);
        // Too many distinct values: left to the comparison sort.
        let continuous: Vec<u64> = (0..4000u64).map(|i| i * 2_654_435_761).collect();
        assert_eq!(order_by_few_keys(&continuous), None);
        assert_eq!(order_by_few_keys(&[]), Some(Vec::new()));
    }

    #[test]
    fn times_already_in_order_keep_their_rows_and_are_still_split_by_stratum() {
        let ascending = [1.0, 1.0, 2.0, 3.0, 3.0, 5.0];
        assert_eq!(
            order_by_stratum_and_time(&ascending, None, false),
            [0, 1, 2, 3, 4, 5]
        );
        // The general path agrees with the shortcut: ties keep their row order.
        let key = |t: f64| total_order_key(t);
        assert_eq!(order_by_time(&ascending, key), [0, 1, 2, 3, 4, 5]);
        let strata = [1, 0, 1, 0, 0, 1];
        assert_eq!(
            order_by_stratum_and_time(&ascending, Some(&strata), false),
            [1, 3, 4, 0, 2, 5]
        );
        let descending = [5.0, 3.0, 3.0, 2.0];
        assert_eq!(
            order_by_stratum_and_time(&descending, None, true),
            [0, 1, 2, 3]
        );
        assert_eq!(
            order_by_stratum_and_time(&descending, None, false),
            [3, 1, 2, 0]
        );
        assert!(order_by_stratum_and_time(&[], None, false).is_empty());
    }
}
