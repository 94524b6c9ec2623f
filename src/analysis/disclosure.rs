//! Disclosure control: the one pass every result of `bonemet run` goes through before anything
//! is written (report, summary.json, tables, charts). The analyses count what they count; this
//! module decides what a reader may see (docs/analysis-plan.md, "Disclosure control"):
//!
//! - a count from 1 to `min_cell − 1` is shown as `<min_cell` ([`Count::Suppressed`]);
//! - a count that, with the figures shown beside it, would give a hidden count away by
//!   arithmetic is shown as `suppressed` ([`Count::Withheld`]). The counts of a result are
//!   entered in a [`Ledger`] with the sums that tie them (a breakdown's groups add up to its
//!   total, which is assumed known to the reader; a group's patients are those with the event
//!   and those without); an attacker who knows every shown count and these sums narrows each
//!   hidden one to a range ([`Ledger::ranges`]), and while one is narrowed to a single value,
//!   the smallest shown count of a sum it is in is withheld as well;
//! - every figure derived from a hidden count (a proportion, an interval, a median, a curve, a
//!   test between groups, a model fitted on few events) is not shown;
//! - curves are shown only while at least `min_cell` patients are at risk, a step of fewer than
//!   `min_cell` events is merged with the next ones, and at-risk tables stop where fewer than
//!   `min_cell` are at risk;
//! - histogram bins (fixed edges) are counts of a breakdown like any other.

use std::collections::HashMap;

use super::estimators::SUPPRESSED;
use super::model::*;

/// What a reader is shown of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The number.
    Value,
    /// `<min_cell`: the reader knows it is from 1 to `min_cell − 1`.
    Below,
    /// `suppressed`: the reader knows it is 0 or at least `min_cell` (else it would read
    /// `<min_cell`).
    Withheld,
    /// `suppressed` in a group or breakdown of fewer than `min_cell` patients: there even
    /// `<min_cell` or 0 would tell how the few patients split, so every count reads
    /// `suppressed`, and the reader knows only that it is from 0 up.
    Blanked,
    /// Not shown at all: complementary suppression found nothing left to withhold around a
    /// small count that could still be worked out, so the counts around it are dropped.
    Dropped,
    /// Never printed, but it is a count of patients (those without the event: n − events):
    /// from 0 up, and sensitive when from 1 to `min_cell − 1`.
    Unprinted,
    /// A total assumed known to the reader from elsewhere (a population's size).
    Known,
}

/// One count of the results.
#[derive(Debug, Clone, Copy)]
struct Slot {
    value: u64,
    shown: Shown,
    /// Withheld first when it protects as well as another: a count whose hiding costs the
    /// reader least (a competing-event count: the cumulative incidence of the event of
    /// interest stays shown).
    first_to_withhold: bool,
}

/// A range of values a reader can narrow a count to: `lo..=hi`, `hi` = [`UNBOUNDED`] when it
/// has no upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Smallest possible value.
    pub lo: u64,
    /// Largest possible value.
    pub hi: u64,
}

/// No upper bound.
pub const UNBOUNDED: u64 = u64::MAX;

/// The counts of a run's results, what is shown of each, and the sums a reader can solve.
#[derive(Debug, Default)]
pub struct Ledger {
    min_cell: u64,
    slots: Vec<Slot>,
    /// `total = Σ parts`.
    sums: Vec<(usize, Vec<usize>)>,
}

impl Ledger {
    /// An empty ledger for a threshold.
    pub fn new(min_cell: u64) -> Self {
        Self {
            min_cell,
            ..Self::default()
        }
    }

    /// Enters a printed count: shown, or `<min_cell` when from 1 to `min_cell − 1`.
    pub fn printed(&mut self, value: u64) -> usize {
        let shown = if value > 0 && value < self.min_cell {
            Shown::Below
        } else {
            Shown::Value
        };
        self.enter(value, shown)
    }

    /// Enters a printed count of a group or breakdown of fewer than `min_cell` patients.
    pub fn blanked(&mut self, value: u64) -> usize {
        self.enter(value, Shown::Blanked)
    }

    /// Enters a count never printed, but sensitive when small (n − events).
    pub fn unprinted(&mut self, value: u64) -> usize {
        self.enter(value, Shown::Unprinted)
    }

    /// Enters a total the reader is assumed to know from elsewhere. A small one is known only
    /// as small: wherever it is shown, it reads `<min_cell`.
    pub fn known(&mut self, value: u64) -> usize {
        if value > 0 && value < self.min_cell {
            self.enter(value, Shown::Below)
        } else {
            self.enter(value, Shown::Known)
        }
    }

    fn enter(&mut self, value: u64, shown: Shown) -> usize {
        self.slots.push(Slot {
            value,
            shown,
            first_to_withhold: false,
        });
        self.slots.len() - 1
    }

    /// Enters `total = Σ parts`.
    pub fn sum(&mut self, total: usize, parts: Vec<usize>) {
        debug_assert_eq!(
            self.slots[total].value,
            parts.iter().map(|&p| self.slots[p].value).sum::<u64>()
        );
        self.sums.push((total, parts));
    }

    /// What is shown of a count.
    pub fn shown(&self, slot: usize) -> Shown {
        self.slots[slot].shown
    }

    /// The range each count can be narrowed to by a reader who knows the shown counts, what
    /// each marker means and the sums: interval propagation over the sums until nothing
    /// changes.
    pub fn ranges(&self) -> Vec<Range> {
        let m = self.min_cell;
        let mut r: Vec<Range> = self
            .slots
            .iter()
            .map(|s| match s.shown {
                Shown::Value | Shown::Known => Range {
                    lo: s.value,
                    hi: s.value,
                },
                // With a threshold of 2, `<2` would read 1: such counts read `suppressed`
                // instead, as withheld ones do, and a reader knows nothing of either.
                Shown::Below if m == 2 => Range {
                    lo: 0,
                    hi: UNBOUNDED,
                },
                Shown::Below => Range { lo: 1, hi: m - 1 },
                Shown::Withheld | Shown::Blanked | Shown::Dropped | Shown::Unprinted => Range {
                    lo: 0,
                    hi: UNBOUNDED,
                },
            })
            .collect();
        // Bounds only tighten and are integers: this ends; the cap guards against a slow
        // crawl of two unbounded counts (the ranges stay true, only less narrow).
        for _ in 0..256 {
            let mut changed = false;
            for (total, parts) in &self.sums {
                let members: Vec<usize> = std::iter::once(*total)
                    .chain(parts.iter().copied())
                    .collect();
                let snapshot: Vec<Range> = members.iter().map(|&k| r[k]).collect();
                let (parts_lo, parts_hi) = bounds_of_sum(&snapshot[1..]);
                // The total lies within the parts' sum.
                changed |= self.tighten(&mut r, *total, parts_lo, parts_hi);
                // Each part is the total minus the others.
                let total_range = snapshot[0];
                for (k, &p) in parts.iter().enumerate() {
                    let own = snapshot[k + 1];
                    let others_lo = parts_lo - u128::from(own.lo);
                    let others_hi = parts_hi.map(|h| h - u128::from(own.hi));
                    let lo = match others_hi {
                        Some(h) => u128::from(total_range.lo).saturating_sub(h),
                        None => 0,
                    };
                    let hi = (total_range.hi != UNBOUNDED)
                        .then(|| u128::from(total_range.hi).saturating_sub(others_lo));
                    changed |= self.tighten(&mut r, p, lo, hi);
                }
            }
            if !changed {
                break;
            }
        }
        r
    }

    /// Narrows `r[k]` to `lo..=hi` (`None`: unbounded) and to what its marker allows; whether
    /// it changed.
    fn tighten(&self, r: &mut [Range], k: usize, lo: u128, hi: Option<u128>) -> bool {
        let before = r[k];
        let x = &mut r[k];
        x.lo = x.lo.max(u64::try_from(lo).unwrap_or(UNBOUNDED - 1));
        if let Some(hi) = hi {
            x.hi = x.hi.min(u64::try_from(hi).unwrap_or(UNBOUNDED));
        }
        if self.slots[k].shown == Shown::Withheld && self.min_cell > 2 {
            // `suppressed` is never 1 to min_cell − 1: that would read `<min_cell`.
            if x.lo >= 1 && x.lo < self.min_cell {
                x.lo = self.min_cell;
            }
            if x.hi >= 1 && x.hi < self.min_cell {
                x.hi = 0;
            }
        }
        *x != before
    }

    /// Whether the reader learns a small count exactly: one shown as `<min_cell`, or an
    /// unprinted one from 1 to `min_cell − 1`, narrowed to one value. A withheld count is
    /// at least `min_cell` or 0 and is hidden only to protect the small ones: working it out
    /// discloses no small count (the ranges already use whatever it would tell).
    fn exposed(&self, k: usize, r: &Range) -> bool {
        let s = &self.slots[k];
        r.lo == r.hi
            && match s.shown {
                Shown::Below => true,
                Shown::Unprinted | Shown::Blanked | Shown::Dropped => {
                    s.value > 0 && s.value < self.min_cell
                }
                Shown::Withheld | Shown::Value | Shown::Known => false,
            }
    }

    /// The hidden counts a reader learns exactly (none once [`Ledger::protect`] has run).
    pub fn exposed_counts(&self) -> Vec<usize> {
        let r = self.ranges();
        (0..self.slots.len())
            .filter(|&k| self.exposed(k, &r[k]))
            .collect()
    }

    /// Complementary suppression: while a hidden count can be solved for, withholds a shown
    /// count of a sum it is in: of the candidates (non-zero counts before zeros, a sum's parts
    /// before its total, smallest first), the first that alone stops the solving, else the
    /// first (the next round adds another). Counts no shown count can protect (every other
    /// member of their sums hidden or known) are left as they are.
    pub fn protect(&mut self) {
        let mut sums_of: Vec<Vec<usize>> = vec![Vec::new(); self.slots.len()];
        for (j, (total, parts)) in self.sums.iter().enumerate() {
            sums_of[*total].push(j);
            for &p in parts {
                sums_of[p].push(j);
            }
        }
        let mut hopeless = vec![false; self.slots.len()];
        let mut r = self.ranges();
        loop {
            let Some(k) = (0..self.slots.len()).find(|&k| !hopeless[k] && self.exposed(k, &r[k]))
            else {
                return;
            };
            // The shown counts of its sums, and of the sums of the hidden counts beside it
            // that are themselves worked out (withholding one of those is what protects it
            // when its own sums have nothing left to withhold).
            let mut near: Vec<usize> = sums_of[k].clone();
            for &j in &sums_of[k] {
                let (total, parts) = &self.sums[j];
                for h in std::iter::once(*total).chain(parts.iter().copied()) {
                    let hidden = !matches!(self.slots[h].shown, Shown::Value | Shown::Known);
                    if h != k && hidden && r[h].lo == r[h].hi {
                        near.extend_from_slice(&sums_of[h]);
                    }
                }
            }
            near.sort_unstable();
            near.dedup();
            let mut candidates: Vec<(bool, bool, bool, u64, usize)> = near
                .iter()
                .flat_map(|&j| {
                    let (total, parts) = &self.sums[j];
                    std::iter::once((true, *total)).chain(parts.iter().map(|&p| (false, p)))
                })
                .filter(|&(_, c)| self.slots[c].shown == Shown::Value)
                // A withheld zero protects little (it reads 0 or at least min_cell): zeros come
                // last, after totals.
                .map(|(is_total, c)| {
                    let slot = &self.slots[c];
                    (
                        slot.value == 0,
                        is_total,
                        !slot.first_to_withhold,
                        slot.value,
                        c,
                    )
                })
                .collect();
            candidates.sort_unstable();
            candidates.dedup_by_key(|x| x.4);
            if candidates.is_empty() {
                // Nothing left to withhold: the shown markers themselves (`<min_cell`,
                // `suppressed` for 0 or at least min_cell) give it away. Drop the counts around
                // it altogether.
                let mut dropped = false;
                for &j in &near {
                    let (total, parts) = &self.sums[j];
                    for c in std::iter::once(*total).chain(parts.iter().copied()) {
                        if matches!(
                            self.slots[c].shown,
                            Shown::Below | Shown::Withheld | Shown::Blanked
                        ) {
                            self.slots[c].shown = Shown::Dropped;
                            dropped = true;
                        }
                    }
                }
                if dropped {
                    r = self.ranges();
                } else {
                    hopeless[k] = true;
                }
                continue;
            }
            // Try the first few: one that protects `k` on its own is the least to hide.
            let mut chosen = None;
            for &(_, _, _, _, c) in candidates.iter().take(16) {
                self.slots[c].shown = Shown::Withheld;
                let tried = self.ranges();
                if !self.exposed(k, &tried[k]) {
                    chosen = Some(tried);
                    break;
                }
                self.slots[c].shown = Shown::Value;
            }
            r = match chosen {
                Some(tried) => tried,
                None => {
                    self.slots[candidates[0].4].shown = Shown::Withheld;
                    self.ranges()
                }
            };
        }
    }
}

/// The bounds of a sum of ranges (`None`: unbounded).
fn bounds_of_sum(ranges: &[Range]) -> (u128, Option<u128>) {
    let lo = ranges.iter().map(|x| u128::from(x.lo)).sum();
    let hi = ranges
        .iter()
        .map(|x| (x.hi != UNBOUNDED).then_some(u128::from(x.hi)))
        .sum();
    (lo, hi)
}

/// Two walks over the results: the first enters every count and sum in a ledger, the second
/// (after [`Ledger::protect`]) writes back what is shown of each, in the same order.
struct Walk<'a> {
    ledger: &'a mut Ledger,
    writing: bool,
    /// Slots in the order the first walk entered them (a keyed count may reuse one).
    order: Vec<usize>,
    cursor: usize,
    /// Counts shown under one key (population and group) share their slot: the same number
    /// shown in two places is one count.
    keys: HashMap<String, usize>,
    /// Whether the counts entered now belong to a group or breakdown of fewer than `min_cell`
    /// patients.
    blank: bool,
    log: DisclosureJson,
}

impl Walk<'_> {
    fn next(&mut self, enter: impl FnOnce(&mut Ledger) -> usize) -> usize {
        if self.writing {
            let k = self.order[self.cursor];
            self.cursor += 1;
            k
        } else {
            let k = enter(self.ledger);
            self.order.push(k);
            k
        }
    }

    /// Whether `n` patients are too few to show how they split.
    fn few(&self, n: u64) -> bool {
        n > 0 && n < self.ledger.min_cell
    }

    /// Sets whether the counts entered next are blanked; returns the previous setting.
    fn blanking(&mut self, blank: bool) -> bool {
        std::mem::replace(&mut self.blank, blank)
    }

    fn enter_now(&mut self, value: u64) -> usize {
        if self.blank {
            self.ledger.blanked(value)
        } else {
            self.ledger.printed(value)
        }
    }

    /// A printed count.
    fn count(&mut self, c: &mut Count) -> usize {
        let value = c.shown().unwrap_or(0);
        let k = if self.writing {
            self.next(|_| 0)
        } else {
            let k = self.enter_now(value);
            self.order.push(k);
            k
        };
        self.write(c, k);
        k
    }

    /// A printed count that is the same number wherever `key` names it.
    fn keyed(&mut self, key: String, c: &mut Count) -> usize {
        let value = c.shown().unwrap_or(0);
        let k = if self.writing {
            self.next(|_| unreachable!("the second walk enters nothing"))
        } else {
            let k = match self.keys.get(&key) {
                Some(&k) if self.ledger.slots[k].value == value => k,
                _ => {
                    let k = self.enter_now(value);
                    self.keys.insert(key, k);
                    k
                }
            };
            self.order.push(k);
            k
        };
        self.write(c, k);
        k
    }

    fn write(&mut self, c: &mut Count, k: usize) {
        if !self.writing {
            return;
        }
        match self.ledger.shown(k) {
            Shown::Below => {
                *c = if self.ledger.min_cell == 2 {
                    Count::Withheld
                } else {
                    Count::Suppressed(self.ledger.min_cell)
                };
                self.log.below_threshold += 1;
            }
            Shown::Withheld => {
                *c = Count::Withheld;
                self.log.complementary += 1;
            }
            Shown::Blanked => {
                *c = Count::Withheld;
                self.log.few_patients += 1;
            }
            Shown::Dropped => {
                *c = Count::NotShown;
                self.log.not_shown += 1;
            }
            _ => {}
        }
    }

    fn unprinted(&mut self, value: u64) -> usize {
        self.next(|l| l.unprinted(value))
    }

    fn known(&mut self, value: u64) -> usize {
        self.next(|l| l.known(value))
    }

    fn sum(&mut self, total: usize, parts: Vec<usize>) {
        if !self.writing {
            self.ledger.sum(total, parts);
        }
    }

    /// The groups of a breakdown add up to a total the reader may know (when there are
    /// several); a first group named `all` is that total, shown.
    fn breakdown(&mut self, names: &[&str], values: &[u64], slots: Vec<usize>) {
        if names.first() == Some(&"all") && slots.len() > 2 {
            self.sum(slots[0], slots[1..].to_vec());
        } else if slots.len() > 1 {
            let total = self.known(values.iter().sum());
            self.sum(total, slots);
        }
    }

    /// `n = Σ outcomes + the rest` (the rest unprinted).
    fn split(&mut self, n: (u64, usize), outcomes: &[(u64, usize)]) {
        let Some(rest) = n.0.checked_sub(outcomes.iter().map(|o| o.0).sum::<u64>()) else {
            // More events than patients (recurrent events): no such sum.
            return;
        };
        let rest = self.unprinted(rest);
        let mut parts: Vec<usize> = outcomes.iter().map(|o| o.1).collect();
        parts.push(rest);
        self.sum(n.1, parts);
    }
}

fn value(c: &Count) -> u64 {
    c.shown().unwrap_or(0)
}

/// Enters (or writes back) every count of the results and the sums that tie them.
fn walk(s: &mut RunSummary, w: &mut Walk) {
    // The cohort: deaths and missing values among the patients.
    let c = &mut s.cohort;
    let all = value(&c.patients);
    let patients = (all, w.keyed("all patients".into(), &mut c.patients));
    let before = w.blanking(w.few(all));
    let deaths = (value(&c.deaths), w.count(&mut c.deaths));
    w.split(patients, &[deaths]);
    for m in &mut c.missingness {
        let missing = (value(&m.missing), w.count(&mut m.missing));
        w.split(patients, &[missing]);
    }
    w.blanking(before);
    // Each analysis's population: its size and exclusions add up to where it started from.
    for a in &mut s.analyses {
        let total = value(&a.n) + a.excluded.iter().map(|e| value(&e.n)).sum::<u64>();
        let before = w.blanking(w.few(total));
        let mut values = vec![value(&a.n)];
        let mut slots = vec![w.count(&mut a.n)];
        for e in &mut a.excluded {
            values.push(value(&e.n));
            slots.push(w.count(&mut e.n));
        }
        w.breakdown(&[], &values, slots);
        w.blanking(before);
    }
    table_one(&mut s.table_one, w);
    for a in &mut s.incidence {
        proportions(&a.population, &mut a.groups, w);
    }
    for a in &mut s.associations {
        let mut both = [a.exposed.clone(), a.reference.clone()];
        proportions(&a.population, &mut both, w);
        [a.exposed, a.reference] = both;
    }
    for m in &mut s.models {
        let before = w.blanking(w.few(value(&m.n) + value(&m.n_dropped_missing)));
        let n = (value(&m.n), w.count(&mut m.n));
        let dropped = (
            value(&m.n_dropped_missing),
            w.count(&mut m.n_dropped_missing),
        );
        let tiny = w.blank || w.few(n.0);
        let outer = w.blanking(tiny);
        let events = (value(&m.events), w.count(&mut m.events));
        if let Some(intervals) = &mut m.intervals {
            w.count(intervals);
        } else {
            // Patients with and without the event (a first event or a death per patient).
            w.split(n, &[events]);
        }
        w.blanking(outer);
        let base = w.known(n.0 + dropped.0);
        w.sum(base, vec![n.1, dropped.1]);
        w.blanking(before);
    }
    for a in &mut s.survival {
        let names: Vec<String> = a.groups.iter().map(|g| g.group.clone()).collect();
        let total = breakdown_total(&names, a.groups.iter().map(|g| value(&g.n)));
        let before = w.blanking(w.few(total));
        let (mut ns, mut es) = (Vec::new(), Vec::new());
        for g in &mut a.groups {
            let n = (
                value(&g.n),
                w.keyed(format!("{}|{}", a.population, g.group), &mut g.n),
            );
            let outer = w.blanking(w.blank || w.few(n.0));
            let e = (value(&g.events), w.count(&mut g.events));
            w.split(n, &[e]);
            for at in &mut g.at_months {
                w.count(&mut at.n_risk);
            }
            w.blanking(outer);
            ns.push(n);
            es.push(e);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for column in [ns, es] {
            let (v, k): (Vec<u64>, Vec<usize>) = column.into_iter().unzip();
            w.breakdown(&names, &v, k);
        }
        w.blanking(before);
    }
    for a in &mut s.cumulative_incidence {
        let names: Vec<String> = a.groups.iter().map(|g| g.group.clone()).collect();
        let total = breakdown_total(&names, a.groups.iter().map(|g| value(&g.n)));
        let before = w.blanking(w.few(total));
        let (mut ns, mut es, mut cs) = (Vec::new(), Vec::new(), Vec::new());
        for g in &mut a.groups {
            let n = (
                value(&g.n),
                w.keyed(format!("{}|{}", a.population, g.group), &mut g.n),
            );
            let outer = w.blanking(w.blank || w.few(n.0));
            let e = (value(&g.events), w.count(&mut g.events));
            let c = (value(&g.competing), w.count(&mut g.competing));
            if !w.writing {
                w.ledger.slots[c.1].first_to_withhold = true;
            }
            w.split(n, &[e, c]);
            for at in &mut g.at_months {
                w.count(&mut at.n_risk);
            }
            w.blanking(outer);
            ns.push(n);
            es.push(e);
            cs.push(c);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for column in [ns, es, cs] {
            let (v, k): (Vec<u64>, Vec<usize>) = column.into_iter().unzip();
            w.breakdown(&names, &v, k);
        }
        w.count(&mut a.events_at_origin);
        w.blanking(before);
    }
    for a in &mut s.rates {
        let names: Vec<String> = a.groups.iter().map(|g| g.group.clone()).collect();
        let total = breakdown_total(&names, a.groups.iter().map(|g| value(&g.patients)));
        let before = w.blanking(w.few(total));
        let (mut ps, mut es) = (Vec::new(), Vec::new());
        for g in &mut a.groups {
            let p = value(&g.patients);
            ps.push((p, w.count(&mut g.patients)));
            let outer = w.blanking(w.blank || w.few(p));
            es.push((value(&g.events), w.count(&mut g.events)));
            w.blanking(outer);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for column in [ps, es] {
            let (v, k): (Vec<u64>, Vec<usize>) = column.into_iter().unzip();
            w.breakdown(&names, &v, k);
        }
        w.blanking(before);
    }
    // The histogram: its bins add up to its shown n.
    let h = &mut s.corrected_calcium;
    let total = value(&h.n);
    let n = w.count(&mut h.n);
    let before = w.blanking(w.few(total));
    let bins: Vec<usize> = h.bins.iter_mut().map(|b| w.count(&mut b.count)).collect();
    w.sum(n, bins);
    w.blanking(before);
}

/// The patients of a breakdown: its `all` group's, or the sum of its groups'.
fn breakdown_total(names: &[String], n: impl Iterator<Item = u64>) -> u64 {
    let n: Vec<u64> = n.collect();
    if names.first().is_some_and(|g| g == "all") {
        n[0]
    } else {
        n.iter().sum()
    }
}

/// Proportions of a breakdown: each group's n splits into events and the rest; the groups'
/// n and events add up to totals the reader may know.
fn proportions(population: &str, groups: &mut [ProportionJson], w: &mut Walk) {
    let names: Vec<String> = groups.iter().map(|g| g.group.clone()).collect();
    let total = breakdown_total(&names, groups.iter().map(|g| value(&g.n)));
    let before = w.blanking(w.few(total));
    let (mut ns, mut es) = (Vec::new(), Vec::new());
    for g in groups.iter_mut() {
        let n = (
            value(&g.n),
            w.keyed(format!("{population}|{}", g.group), &mut g.n),
        );
        let outer = w.blanking(w.blank || w.few(n.0));
        let e = (value(&g.events), w.count(&mut g.events));
        w.blanking(outer);
        w.split(n, &[e]);
        ns.push(n);
        es.push(e);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for column in [ns, es] {
        let (v, k): (Vec<u64>, Vec<usize>) = column.into_iter().unzip();
        w.breakdown(&names, &v, k);
    }
    w.blanking(before);
}

/// Table 1: within each column a variable's levels and missing add up to the column's n; in
/// each row the overall cell is the sum of the two groups'.
fn table_one(t: &mut TableOneJson, w: &mut Walk) {
    let columns = t.n.len();
    let n: Vec<(u64, usize)> =
        t.n.iter_mut()
            .enumerate()
            .map(|(c, count)| {
                let k = if c == 0 {
                    w.keyed("all patients".into(), count)
                } else {
                    w.count(count)
                };
                (value(count), k)
            })
            .collect();
    if columns == 3 {
        w.sum(n[0].1, vec![n[1].1, n[2].1]);
    }
    let mut start = 0;
    while start < t.rows.len() {
        let variable = t.rows[start].variable.clone();
        let end = start
            + t.rows[start..]
                .iter()
                .take_while(|r| r.variable == variable)
                .count();
        // Per column, the slots that add up to its n.
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); columns];
        for row in &mut t.rows[start..end] {
            let cells: Vec<usize> = match &mut row.content {
                TableOneCells::Level { counts, .. } | TableOneCells::Missing(counts) => counts
                    .iter_mut()
                    .zip(&n)
                    .map(|(c, &(column_n, _))| {
                        // A column of fewer than min_cell patients shows no split.
                        let before = w.blanking(w.few(column_n));
                        let k = w.count(c);
                        w.blanking(before);
                        k
                    })
                    .collect(),
                TableOneCells::Median { with_value, .. } => {
                    with_value.iter().map(|&v| w.unprinted(v)).collect()
                }
                TableOneCells::Rendered => Vec::new(),
            };
            if cells.len() == columns {
                for (c, &k) in cells.iter().enumerate() {
                    parts[c].push(k);
                }
                if columns == 3 {
                    w.sum(cells[0], vec![cells[1], cells[2]]);
                }
            }
        }
        for (c, p) in parts.into_iter().enumerate() {
            if !p.is_empty() {
                w.sum(n[c].1, p);
            }
        }
        start = end;
    }
}

/// Applies the disclosure rules to a run's results (`min_cell` 0 or 1: nothing to hide) and
/// records what it hid in `s.disclosure`.
pub fn disclose(s: &mut RunSummary, min_cell: u64) {
    s.min_cell = min_cell;
    let mut log = DisclosureJson {
        min_cell,
        ..DisclosureJson::default()
    };
    if min_cell <= 1 {
        render_table_one(&mut s.table_one, min_cell);
        s.disclosure = log;
        return;
    }
    hide_models_on_few(s, min_cell, &mut log);
    let mut ledger = Ledger::new(min_cell);
    let mut w = Walk {
        ledger: &mut ledger,
        writing: false,
        order: Vec::new(),
        cursor: 0,
        keys: HashMap::new(),
        blank: false,
        log: DisclosureJson::default(),
    };
    walk(s, &mut w);
    w.ledger.protect();
    w.writing = true;
    walk(s, &mut w);
    log.below_threshold = w.log.below_threshold;
    log.complementary = w.log.complementary;
    log.few_patients = w.log.few_patients;
    log.not_shown = w.log.not_shown;
    hide_derived(s, min_cell, &mut log);
    render_table_one(&mut s.table_one, min_cell);
    s.suppressed_counts =
        log.below_threshold + log.complementary + log.few_patients + log.not_shown;
    s.disclosure = log;
}

/// A model fitted on fewer than `min_cell` patients, events or (logistic) non-events is not
/// shown: its ratios are figures derived from a small count.
fn hide_models_on_few(s: &mut RunSummary, m: u64, log: &mut DisclosureJson) {
    let small = |x: u64| x > 0 && x < m;
    for model in &mut s.models {
        let (n, events) = (value(&model.n), value(&model.events));
        let logistic = model.intervals.is_none() && model.ratio == "odds ratio";
        let few = small(n) || small(events) || (logistic && small(n.saturating_sub(events)));
        if few && model.not_fitted.is_none() {
            model.terms.clear();
            model.constant_terms.clear();
            model.not_fitted = Some(SUPPRESSED.into());
            log.estimates_hidden += 1;
        }
    }
}

/// Hides what is derived from hidden counts, and cuts and merges curves.
fn hide_derived(s: &mut RunSummary, m: u64, log: &mut DisclosureJson) {
    for x in &mut s.cohort.missingness {
        if x.missing.is_suppressed() {
            x.share = None;
        }
    }
    for a in &mut s.incidence {
        for g in &mut a.groups {
            hide_proportion(g, log);
        }
    }
    for a in &mut s.associations {
        let hidden = [&a.exposed, &a.reference]
            .iter()
            .any(|g| g.n.is_suppressed() || g.events.is_suppressed());
        hide_proportion(&mut a.exposed, log);
        hide_proportion(&mut a.reference, log);
        if hidden && a.not_estimated.is_none() {
            a.odds_ratio = Estimate::NONE;
            a.exact_odds_ratio = Estimate::NONE;
            a.risk_ratio = Estimate::NONE;
            a.fisher_p = None;
            a.chisq_p = None;
            a.not_estimated = Some(SUPPRESSED.into());
            log.estimates_hidden += 1;
        }
    }
    for a in &mut s.survival {
        let mut any_hidden = false;
        for g in &mut a.groups {
            if g.n.is_suppressed() || g.events.is_suppressed() {
                any_hidden = true;
                let had = g.median_months.estimate.is_some() || !g.curve.is_empty();
                g.median_months = Estimate::NONE;
                g.rmst_24_months = Estimate::NONE;
                // The numbers at risk stay (each went through the ledger), not the estimates.
                for x in &mut g.at_months {
                    x.survival = Estimate::NONE;
                }
                g.curve.clear();
                g.at_risk.clear();
                if had {
                    a.not_estimated.push(format!("{}: {SUPPRESSED}", g.group));
                    log.estimates_hidden += 1;
                }
            } else {
                horizon_estimates(&mut g.at_months, m);
                publish_curve(&mut g.curve, m, log);
                cut_at_risk(&mut g.at_risk, m, log);
            }
        }
        if any_hidden && (a.logrank.is_some() || a.hazard_ratio.is_some()) {
            a.logrank = None;
            a.hazard_ratio = None;
            a.not_estimated
                .push(format!("log-rank and hazard ratio: {SUPPRESSED}"));
            log.estimates_hidden += 1;
        }
    }
    for a in &mut s.cumulative_incidence {
        let mut any_hidden = false;
        for g in &mut a.groups {
            // A competing count withheld to protect another leaves the curve of the event of
            // interest as it is; one below the threshold does not.
            let competing_small = matches!(g.competing, Count::Suppressed(_));
            if g.n.is_suppressed() || g.events.is_suppressed() || competing_small {
                any_hidden = true;
                let had = !g.curve.is_empty()
                    || g.at_months.iter().any(|x| x.survival.estimate.is_some());
                // The numbers at risk stay (each went through the ledger), not the estimates.
                for x in &mut g.at_months {
                    x.survival = Estimate::NONE;
                }
                g.curve.clear();
                g.at_risk.clear();
                if had {
                    a.not_estimated.push(format!("{}: {SUPPRESSED}", g.group));
                    log.estimates_hidden += 1;
                }
            } else {
                horizon_estimates(&mut g.at_months, m);
                publish_curve(&mut g.curve, m, log);
                cut_at_risk(&mut g.at_risk, m, log);
            }
        }
        if any_hidden && a.gray_test.is_some() {
            a.gray_test = None;
            a.not_estimated.push(format!("Gray's test: {SUPPRESSED}"));
            log.estimates_hidden += 1;
        }
    }
    for a in &mut s.rates {
        let mut any_hidden = false;
        for g in &mut a.groups {
            if g.patients.is_suppressed() || g.events.is_suppressed() {
                any_hidden = true;
                if g.rate.estimate.is_some() {
                    log.estimates_hidden += 1;
                }
                g.person_years = None;
                g.rate = Estimate::NONE;
            }
        }
        if any_hidden && a.rate_ratio.is_some() {
            a.rate_ratio = None;
            log.estimates_hidden += 1;
        }
    }
    let h = &mut s.corrected_calcium;
    if h.n.is_suppressed() {
        h.quartiles = None;
    }
    log.bins_hidden = h.bins.iter().filter(|b| b.count.is_suppressed()).count() as u64;
}

/// A proportion whose counts are hidden shows no estimate.
fn hide_proportion(g: &mut ProportionJson, log: &mut DisclosureJson) {
    if (g.n.is_suppressed() || g.events.is_suppressed()) && g.wilson.estimate.is_some() {
        g.wilson = Estimate::NONE;
        g.exact = Estimate::NONE;
        log.estimates_hidden += 1;
    }
}

/// An estimate at a horizon is shown only while at least `m` patients are at risk there.
fn horizon_estimates(at: &mut [SurvivalAtJson], m: u64) {
    for x in at {
        if x.n_risk.shown().is_none_or(|n| n < m) {
            x.survival = Estimate::NONE;
        }
    }
}

/// A published curve: cut at the first step with fewer than `m` at risk; a step with fewer
/// than `m` events merged with the next ones (the merged step is drawn at the last of them,
/// with the estimate there); steps left over at the end, with fewer than `m` events between
/// them, not drawn.
fn publish_curve(curve: &mut Vec<CurvePointJson>, m: u64, log: &mut DisclosureJson) {
    let mut shown = Vec::new();
    let (mut pending_events, mut pending_steps) = (0u64, 0u64);
    let mut cut = 0u64;
    for (k, p) in curve.iter().enumerate() {
        if p.n_risk < m {
            cut += curve[k..].iter().filter(|p| p.n_events > 0).count() as u64;
            break;
        }
        if p.n_events == 0 {
            // A time with only competing events or censoring: the curve does not move.
            continue;
        }
        pending_events += p.n_events;
        pending_steps += 1;
        if pending_events >= m {
            shown.push(*p);
            log.curve_steps_merged += pending_steps - 1;
            pending_events = 0;
            pending_steps = 0;
        }
    }
    log.curve_steps_cut += cut + pending_steps;
    *curve = shown;
}

/// An at-risk table stops at the first time fewer than `m` are at risk.
fn cut_at_risk(rows: &mut Vec<AtRiskJson>, m: u64, log: &mut DisclosureJson) {
    let keep = rows
        .iter()
        .position(|r| r.n_risk.shown().is_none_or(|n| n < m))
        .unwrap_or(rows.len());
    log.at_risk_rows_cut += (rows.len() - keep) as u64;
    rows.truncate(keep);
}

/// Table 1's cells as printed: `n (%)` of the patients with a value (the share only where the
/// column's missing count is shown: a share of a hidden denominator would give it away),
/// `<min_cell` or `suppressed`, `median (IQR)` over at least `min_cell` patients.
fn render_table_one(t: &mut TableOneJson, m: u64) {
    let mut start = 0;
    while start < t.rows.len() {
        let variable = t.rows[start].variable.clone();
        let end = start
            + t.rows[start..]
                .iter()
                .take_while(|r| r.variable == variable)
                .count();
        let missing_hidden: Vec<bool> = t.rows[start..end]
            .iter()
            .find_map(|r| match &r.content {
                TableOneCells::Missing(counts) => {
                    Some(counts.iter().map(|c| c.is_suppressed()).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        for row in &mut t.rows[start..end] {
            let content = std::mem::take(&mut row.content);
            match content {
                TableOneCells::Level { counts, share_of } => {
                    row.cells = counts
                        .iter()
                        .enumerate()
                        .map(|(c, count)| match count {
                            Count::Shown(k) if !missing_hidden.get(c).copied().unwrap_or(false) => {
                                format!(
                                    "{k} ({:.1}%)",
                                    100.0 * *k as f64 / share_of[c].max(1) as f64
                                )
                            }
                            other => other.to_string(),
                        })
                        .collect();
                }
                TableOneCells::Missing(counts) => {
                    row.cells = counts.iter().map(Count::to_string).collect();
                }
                TableOneCells::Median { with_value, text } => {
                    row.cells = with_value
                        .iter()
                        .zip(text)
                        .map(|(&v, text)| if v == 0 || v < m { "—".into() } else { text })
                        .collect();
                }
                TableOneCells::Rendered => {}
            }
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hidden_cell_beside_a_known_total_takes_the_next_smallest_with_it() {
        let mut l = Ledger::new(5);
        let cells: Vec<usize> = [3, 40, 12, 30].iter().map(|&v| l.printed(v)).collect();
        let total = l.known(85);
        l.sum(total, cells.clone());
        assert_eq!(l.exposed_counts(), [cells[0]]);
        l.protect();
        assert!(l.exposed_counts().is_empty());
        assert_eq!(l.shown(cells[2]), Shown::Withheld);
        assert_eq!(l.shown(cells[1]), Shown::Value);
        assert_eq!(l.shown(cells[3]), Shown::Value);
    }

    #[test]
    fn a_small_rest_is_protected_by_withholding_the_events() {
        // 50 patients, 48 deaths: 2 alive would be 50 − 48.
        let mut l = Ledger::new(5);
        let n = l.printed(50);
        let deaths = l.printed(48);
        let alive = l.unprinted(2);
        l.sum(n, vec![deaths, alive]);
        l.protect();
        assert_eq!(l.shown(deaths), Shown::Withheld);
        assert!(l.exposed_counts().is_empty());
    }

    #[test]
    fn markers_are_reasoned_with_a_withheld_cell_just_above_the_threshold_is_not_enough() {
        // 26 = 1 + 5 + 20. Withholding the 5 would not do: `<5` is 1..4 and `suppressed` is 0
        // or ≥ 5, so 1 + 5 would be the only solution. Withholding the 20 does.
        let mut l = Ledger::new(5);
        let cells: Vec<usize> = [1, 5, 20].iter().map(|&v| l.printed(v)).collect();
        let total = l.known(26);
        l.sum(total, cells.clone());
        let mut only_the_five = Ledger::new(5);
        let five: Vec<usize> = [1, 5, 20]
            .iter()
            .map(|&v| only_the_five.printed(v))
            .collect();
        let total_five = only_the_five.known(26);
        only_the_five.sum(total_five, five.clone());
        only_the_five.slots[five[1]].shown = Shown::Withheld;
        assert_eq!(only_the_five.exposed_counts(), [five[0]]);
        l.protect();
        assert!(l.exposed_counts().is_empty());
        assert_eq!(l.shown(cells[1]), Shown::Value);
        assert_eq!(l.shown(cells[2]), Shown::Withheld);
    }

    #[test]
    fn a_curve_is_cut_below_the_threshold_at_risk_and_small_steps_merge() {
        let point = |months: f64, n_risk: u64, n_events: u64| CurvePointJson {
            months,
            estimate: 1.0,
            lower: None,
            upper: None,
            n_risk,
            n_events,
        };
        let mut curve = vec![
            point(1.0, 40, 2),
            point(2.0, 38, 0),
            point(3.0, 37, 3),
            point(4.0, 30, 6),
            point(5.0, 20, 1),
            point(6.0, 4, 2),
        ];
        let mut log = DisclosureJson::default();
        publish_curve(&mut curve, 5, &mut log);
        let months: Vec<f64> = curve.iter().map(|p| p.months).collect();
        assert_eq!(months, [3.0, 4.0]);
        assert_eq!(log.curve_steps_merged, 1);
        // 5.0 left over (one event), 6.0 cut (4 at risk).
        assert_eq!(log.curve_steps_cut, 2);
    }
}
