//! Disclosure control against an attacker (issue #22, item 2): on random small cohorts and
//! thresholds 2–11, a reader who knows every number `bonemet run` shows and solves the sums
//! between them recovers no count below the threshold. The attacker here is written from the
//! outputs' documented structure (docs/outputs.md), not from the library's ledger: it reads
//! summary.json as a reader would, sets up the sums a reader knows (a breakdown's groups add up
//! to a total, a group's patients are those with the event, those with the competing event and
//! the rest, Table 1's columns and rows add up, a share is a count over a denominator), narrows
//! every hidden count to a range, and must never narrow a small one to a single value.

use bonemet::analysis::model::RunSummary;
use bonemet::classify::{classify_cohort_with, Histories, Threads};
use bonemet::study::StudySettings;
use serde_json::Value;
use std::collections::HashMap;

use crate::random_cohort::{random_cohort, Rng};

const UNBOUNDED: u64 = u64::MAX;

/// What the attacker knows of one count, and its true value (for the verdict only).
#[derive(Debug, Clone, Copy)]
struct Unknown {
    truth: u64,
    lo: u64,
    hi: u64,
    /// Shown as `suppressed`: 0 or at least the threshold.
    withheld: bool,
    /// A count whose recovery is a disclosure: shown as `<m`, or never shown and small.
    sensitive: bool,
    label_index: usize,
}

/// The attacker's system: counts and `total = Σ parts` relations.
struct Attack {
    m: u64,
    vars: Vec<Unknown>,
    labels: Vec<String>,
    sums: Vec<(usize, Vec<usize>)>,
    /// The same count shown in two places (same population and group).
    by_key: HashMap<String, usize>,
    /// Whether the counts read now belong to a group or breakdown of fewer than `m` patients,
    /// where `suppressed` may be any value (the rule is public: the reader knows where it
    /// applies, from the totals).
    few: bool,
}

impl Attack {
    fn new(m: u64) -> Self {
        Self {
            m,
            vars: Vec::new(),
            labels: Vec::new(),
            sums: Vec::new(),
            by_key: HashMap::new(),
            few: false,
        }
    }

    fn var(
        &mut self,
        truth: u64,
        lo: u64,
        hi: u64,
        withheld: bool,
        sensitive: bool,
        label: String,
    ) -> usize {
        self.labels.push(label);
        self.vars.push(Unknown {
            truth,
            lo,
            hi,
            withheld,
            sensitive,
            label_index: self.labels.len() - 1,
        });
        self.vars.len() - 1
    }

    /// A count as shown (`shown`) with its true value (`raw`).
    fn count(&mut self, shown: &Value, raw: &Value, label: String) -> usize {
        let truth = raw
            .as_u64()
            .unwrap_or_else(|| panic!("{label}: raw count {raw}"));
        match shown {
            Value::Number(n) => {
                let v = n.as_u64().unwrap();
                assert_eq!(v, truth, "{label}: a shown count is the true one");
                self.var(truth, v, v, false, false, label)
            }
            // With a threshold of 2, counts of 1 read `suppressed` too (`<2` would read 1).
            Value::String(s) if s == "suppressed" => {
                let any = self.few || self.m == 2;
                let sensitive = any && truth > 0 && truth < self.m;
                self.var(truth, 0, UNBOUNDED, !any, sensitive, label)
            }
            Value::String(s) if s.starts_with('<') => {
                assert_eq!(s, &format!("<{}", self.m), "{label}");
                assert!(truth > 0 && truth < self.m, "{label}: <m holds {truth}");
                self.var(truth, 1, self.m - 1, false, true, label)
            }
            // Not shown at all: nothing known.
            Value::Null => {
                let sensitive = truth > 0 && truth < self.m;
                self.var(truth, 0, UNBOUNDED, false, sensitive, label)
            }
            other => panic!("{label}: not a count: {other}"),
        }
    }

    fn keyed(&mut self, key: String, shown: &Value, raw: &Value, label: String) -> usize {
        let k = self.count(shown, raw, label);
        match self.by_key.get(&key) {
            Some(&other) if self.vars[other].truth == self.vars[k].truth => {
                // One count in two places: each tells what the other hides.
                self.sums.push((other, vec![k]));
            }
            _ => {
                self.by_key.insert(key, k);
            }
        }
        k
    }

    /// A count never shown (patients without the event): anything from 0.
    fn rest(&mut self, truth: u64, label: String) -> usize {
        let sensitive = truth > 0 && truth < self.m;
        self.var(truth, 0, UNBOUNDED, false, sensitive, label)
    }

    /// A total the reader is assumed to know; a small one only as small (wherever it is
    /// shown it reads `<m`).
    fn known(&mut self, truth: u64, label: String) -> usize {
        if truth > 0 && truth < self.m && self.m == 2 {
            self.var(truth, 0, UNBOUNDED, false, true, label)
        } else if truth > 0 && truth < self.m {
            self.var(truth, 1, self.m - 1, false, true, label)
        } else {
            self.var(truth, truth, truth, false, false, label)
        }
    }

    fn sum(&mut self, total: usize, parts: Vec<usize>) {
        self.sums.push((total, parts));
    }

    /// Breakdown columns: the groups add up to a known total (with two groups or more); a
    /// first group `all` is the total of the others.
    fn total_of_groups(&mut self, names: &[&str], parts: Vec<usize>, label: String) {
        if names.first() == Some(&"all") && parts.len() > 2 {
            self.sum(parts[0], parts[1..].to_vec());
        } else {
            self.total_of(parts, label);
        }
    }

    /// The parts add up to a known total (with two parts or more).
    fn total_of(&mut self, parts: Vec<usize>, label: String) {
        if parts.len() > 1 {
            let t = parts.iter().map(|&p| self.vars[p].truth).sum();
            let total = self.known(t, label);
            self.sum(total, parts);
        }
    }

    /// `n = Σ outcomes + rest`.
    fn split(&mut self, n: usize, outcomes: &[usize], label: String) {
        let used: u64 = outcomes.iter().map(|&o| self.vars[o].truth).sum();
        let Some(rest) = self.vars[n].truth.checked_sub(used) else {
            return;
        };
        let rest = self.rest(rest, label);
        let mut parts = outcomes.to_vec();
        parts.push(rest);
        self.sum(n, parts);
    }

    fn small(&self, n: u64) -> bool {
        n > 0 && n < self.m
    }

    fn clamp(&self, v: &mut Unknown) {
        if v.withheld {
            if v.lo >= 1 && v.lo < self.m {
                v.lo = self.m;
            }
            if v.hi >= 1 && v.hi < self.m {
                v.hi = 0;
            }
        }
    }

    /// Interval propagation over every sum until nothing moves.
    fn solve(&mut self) {
        for _ in 0..2000 {
            let mut moved = false;
            for (total, parts) in self.sums.clone() {
                let lo: u128 = parts.iter().map(|&p| u128::from(self.vars[p].lo)).sum();
                let hi: Option<u128> = parts
                    .iter()
                    .map(|&p| (self.vars[p].hi != UNBOUNDED).then_some(u128::from(self.vars[p].hi)))
                    .sum();
                moved |= self.narrow(total, lo, hi);
                let t = self.vars[total];
                for &p in &parts {
                    let others_lo: u128 = parts
                        .iter()
                        .filter(|&&q| q != p)
                        .map(|&q| u128::from(self.vars[q].lo))
                        .sum();
                    let others_hi: Option<u128> = parts
                        .iter()
                        .filter(|&&q| q != p)
                        .map(|&q| {
                            (self.vars[q].hi != UNBOUNDED).then_some(u128::from(self.vars[q].hi))
                        })
                        .sum();
                    let lo = others_hi.map_or(0, |h| u128::from(t.lo).saturating_sub(h));
                    let hi =
                        (t.hi != UNBOUNDED).then(|| u128::from(t.hi).saturating_sub(others_lo));
                    moved |= self.narrow(p, lo, hi);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn narrow(&mut self, k: usize, lo: u128, hi: Option<u128>) -> bool {
        let mut v = self.vars[k];
        let before = (v.lo, v.hi);
        v.lo = v.lo.max(u64::try_from(lo).unwrap_or(UNBOUNDED - 1));
        if let Some(hi) = hi {
            v.hi = v.hi.min(u64::try_from(hi).unwrap_or(UNBOUNDED));
        }
        self.clamp(&mut v);
        self.vars[k] = v;
        (v.lo, v.hi) != before
    }

    /// The small counts the attacker pins down, by label.
    fn recovered(&self) -> Vec<String> {
        for v in &self.vars {
            assert!(
                v.lo <= v.truth && v.truth <= v.hi,
                "the attacker's reasoning is sound: {} = {} in {}..{}",
                self.labels[v.label_index],
                v.truth,
                v.lo,
                v.hi
            );
        }
        self.vars
            .iter()
            .filter(|v| v.sensitive && v.lo == v.hi)
            .map(|v| format!("{} = {}", self.labels[v.label_index], v.truth))
            .collect()
    }
}

/// The attacker's sums over one run's summary.json (`shown`), with the true counts (`raw`,
/// the same run without disclosure control).
fn attack(shown: &Value, raw: &Value, m: u64) -> Attack {
    let mut a = Attack::new(m);
    let c = (&shown["cohort"], &raw["cohort"]);
    let patients = a.keyed(
        "all patients".into(),
        &c.0["patients"],
        &c.1["patients"],
        "patients".into(),
    );
    a.few = a.small(c.1["patients"].as_u64().unwrap());
    let deaths = a.count(&c.0["deaths"], &c.1["deaths"], "deaths".into());
    a.split(patients, &[deaths], "alive".into());
    for (s, r) in arr(&c.0["missingness"])
        .iter()
        .zip(arr(&c.1["missingness"]))
    {
        let label = format!("missing {}", s["column"]);
        let k = a.count(&s["missing"], &r["missing"], label.clone());
        a.split(patients, &[k], format!("{label}: present"));
        // A share of a known total tells the count.
        if let (Some(share), Some(n)) = (s["share"].as_f64(), c.0["patients"].as_u64()) {
            let v = (share * n as f64).round() as u64;
            a.vars[k].lo = a.vars[k].lo.max(v);
            a.vars[k].hi = a.vars[k].hi.min(v);
        }
    }
    a.few = false;
    for (s, r) in arr(&shown["analyses"]).iter().zip(arr(&raw["analyses"])) {
        let id = s["id"].as_str().unwrap();
        let total = r["n"].as_u64().unwrap()
            + arr(&r["excluded"])
                .iter()
                .map(|e| e["n"].as_u64().unwrap())
                .sum::<u64>();
        a.few = a.small(total);
        let mut parts = vec![a.count(&s["n"], &r["n"], format!("{id} n"))];
        for (e, f) in arr(&s["excluded"]).iter().zip(arr(&r["excluded"])) {
            parts.push(a.count(&e["n"], &f["n"], format!("{id} excluded {}", e["reason"])));
        }
        a.total_of(parts, format!("{id} before exclusions"));
    }
    a.few = false;
    table_one(&mut a, &shown["table_one"], &raw["table_one"]);
    for (s, r) in arr(&shown["incidence"]).iter().zip(arr(&raw["incidence"])) {
        proportions(
            &mut a,
            s["population"].as_str().unwrap(),
            arr(&s["groups"]),
            arr(&r["groups"]),
            s["id"].as_str().unwrap(),
        );
    }
    for (s, r) in arr(&shown["associations"])
        .iter()
        .zip(arr(&raw["associations"]))
    {
        let shown_groups = [s["exposed"].clone(), s["reference"].clone()];
        let raw_groups = [r["exposed"].clone(), r["reference"].clone()];
        proportions(
            &mut a,
            s["population"].as_str().unwrap(),
            &shown_groups,
            &raw_groups,
            s["id"].as_str().unwrap(),
        );
    }
    for (s, r) in arr(&shown["models"]).iter().zip(arr(&raw["models"])) {
        let id = s["id"].as_str().unwrap();
        let (n_raw, dropped_raw) = (
            r["n"].as_u64().unwrap(),
            r["n_dropped_missing"].as_u64().unwrap(),
        );
        a.few = a.small(n_raw + dropped_raw);
        let n = a.count(&s["n"], &r["n"], format!("{id} n"));
        let dropped = a.count(
            &s["n_dropped_missing"],
            &r["n_dropped_missing"],
            format!("{id} dropped"),
        );
        a.few = a.few || a.small(n_raw);
        let events = a.count(&s["events"], &r["events"], format!("{id} events"));
        if s.get("intervals").is_some() {
            a.count(&s["intervals"], &r["intervals"], format!("{id} intervals"));
        } else {
            a.split(n, &[events], format!("{id} without the event"));
        }
        a.total_of(vec![n, dropped], format!("{id} population"));
        a.few = false;
    }
    for (kind, outcomes) in [
        ("survival", &["events"][..]),
        ("cumulative_incidence", &["events", "competing"][..]),
    ] {
        for (s, r) in arr(&shown[kind]).iter().zip(arr(&raw[kind])) {
            let id = s["id"].as_str().unwrap();
            let population = s["population"].as_str().unwrap();
            let mut columns: Vec<Vec<usize>> = vec![Vec::new(); outcomes.len() + 1];
            let tiny = a.small(group_total(arr(&r["groups"]), "n"));
            for (g, h) in arr(&s["groups"]).iter().zip(arr(&r["groups"])) {
                let group = g["group"].as_str().unwrap();
                a.few = tiny;
                let n = a.keyed(
                    format!("{population}|{group}"),
                    &g["n"],
                    &h["n"],
                    format!("{id} {group} n"),
                );
                a.few = tiny || a.small(h["n"].as_u64().unwrap());
                let ks: Vec<usize> = outcomes
                    .iter()
                    .map(|o| a.count(&g[*o], &h[*o], format!("{id} {group} {o}")))
                    .collect();
                a.split(n, &ks, format!("{id} {group} censored"));
                columns[0].push(n);
                for (c, k) in ks.into_iter().enumerate() {
                    columns[c + 1].push(k);
                }
                // Numbers at risk at the horizons are counts too.
                for (x, y) in arr(&g["at_months"]).iter().zip(arr(&h["at_months"])) {
                    a.count(
                        &x["n_risk"],
                        &y["n_risk"],
                        format!("{id} {group} at risk at {}", x["months"]),
                    );
                }
            }
            let names: Vec<&str> = arr(&s["groups"])
                .iter()
                .map(|g| g["group"].as_str().unwrap())
                .collect();
            for (c, column) in columns.into_iter().enumerate() {
                a.total_of_groups(&names, column, format!("{id} total {c}"));
            }
            a.few = tiny;
            if let (Some(x), Some(y)) = (s.get("events_at_origin"), r.get("events_at_origin")) {
                a.count(x, y, format!("{id} events at origin"));
            }
            a.few = false;
        }
    }
    for (s, r) in arr(&shown["rates"]).iter().zip(arr(&raw["rates"])) {
        let id = s["id"].as_str().unwrap();
        let (mut ps, mut es) = (Vec::new(), Vec::new());
        let tiny = a.small(group_total(arr(&r["groups"]), "patients"));
        for (g, h) in arr(&s["groups"]).iter().zip(arr(&r["groups"])) {
            a.few = tiny;
            ps.push(a.count(
                &g["patients"],
                &h["patients"],
                format!("{id} {} patients", g["group"]),
            ));
            a.few = tiny || a.small(h["patients"].as_u64().unwrap());
            es.push(a.count(
                &g["events"],
                &h["events"],
                format!("{id} {} events", g["group"]),
            ));
        }
        a.few = false;
        a.total_of(ps, format!("{id} patients"));
        a.total_of(es, format!("{id} events"));
    }
    let h = (&shown["corrected_calcium"], &raw["corrected_calcium"]);
    let n = a.count(&h.0["n"], &h.1["n"], "calcium n".into());
    a.few = a.small(h.1["n"].as_u64().unwrap());
    let bins: Vec<usize> = arr(&h.0["bins"])
        .iter()
        .zip(arr(&h.1["bins"]))
        .map(|(x, y)| {
            a.count(
                &x["count"],
                &y["count"],
                format!("calcium bin {}", x["from"]),
            )
        })
        .collect();
    a.sum(n, bins);
    a.few = false;
    a
}

/// The patients of a breakdown: its `all` group's, or the sum of its groups'.
fn group_total(raw_groups: &[Value], field: &str) -> u64 {
    match raw_groups.first() {
        Some(g) if g["group"] == "all" => g[field].as_u64().unwrap(),
        _ => raw_groups.iter().map(|g| g[field].as_u64().unwrap()).sum(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], |x| x.as_slice())
}

/// A breakdown of proportions: n and events per group, the rest, and the estimate.
fn proportions(a: &mut Attack, population: &str, shown: &[Value], raw: &[Value], id: &str) {
    let (mut ns, mut es) = (Vec::new(), Vec::new());
    let tiny = a.small(group_total(raw, "n"));
    for (g, h) in shown.iter().zip(raw) {
        let group = g["group"].as_str().unwrap();
        a.few = tiny;
        let n = a.keyed(
            format!("{population}|{group}"),
            &g["n"],
            &h["n"],
            format!("{id} {group} n"),
        );
        a.few = tiny || a.small(h["n"].as_u64().unwrap());
        let e = a.count(&g["events"], &h["events"], format!("{id} {group} events"));
        a.few = false;
        a.split(n, &[e], format!("{id} {group} without"));
        // A shown proportion with a shown n tells the events, and the other way round.
        if let Some(p) = g["wilson"]["estimate"].as_f64() {
            if let Some(nv) = g["n"].as_u64() {
                let v = (p * nv as f64).round() as u64;
                a.vars[e].lo = a.vars[e].lo.max(v);
                a.vars[e].hi = a.vars[e].hi.min(v);
            }
            if let (Some(ev), true) = (g["events"].as_u64(), p > 0.0) {
                let v = (ev as f64 / p).round() as u64;
                a.vars[n].lo = a.vars[n].lo.max(v);
                a.vars[n].hi = a.vars[n].hi.min(v);
            }
        }
        ns.push(n);
        es.push(e);
    }
    let names: Vec<&str> = shown.iter().map(|g| g["group"].as_str().unwrap()).collect();
    a.total_of_groups(&names, ns, format!("{id} total n"));
    a.total_of_groups(&names, es, format!("{id} total events"));
}

/// Table 1's cells: `k (x%)`, `k`, `<m`, `suppressed`, or a median; columns add up to their
/// n, the overall cell is the sum of the two groups', and a share's denominator (patients with
/// a value) may tell the missing count.
fn table_one(a: &mut Attack, shown: &Value, raw: &Value) {
    let columns = arr(&shown["n"]).len();
    let n: Vec<usize> = (0..columns)
        .map(|c| {
            let (s, r) = (&shown["n"][c], &raw["n"][c]);
            if c == 0 {
                a.keyed("all patients".into(), s, r, "table 1 n overall".into())
            } else {
                a.count(s, r, format!("table 1 n column {c}"))
            }
        })
        .collect();
    if columns == 3 {
        a.sum(n[0], vec![n[1], n[2]]);
    }
    let rows_s = arr(&shown["rows"]);
    let rows_r = arr(&raw["rows"]);
    let mut start = 0;
    while start < rows_s.len() {
        let variable = rows_s[start]["variable"].as_str().unwrap().to_string();
        let end = start
            + rows_s[start..]
                .iter()
                .take_while(|r| r["variable"] == variable.as_str())
                .count();
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); columns];
        let mut shares: Vec<Vec<(u64, f64)>> = vec![Vec::new(); columns];
        let mut missing: Vec<Option<usize>> = vec![None; columns];
        for k in start..end {
            let level = rows_s[k]["level"].as_str().unwrap();
            let label = format!("table 1 {variable} {level}");
            let cells: Vec<usize> = (0..columns)
                .map(|c| {
                    let s = rows_s[k]["cells"][c].as_str().unwrap();
                    let r = rows_r[k]["cells"][c].as_str().unwrap();
                    if level == "median (IQR)" {
                        // Patients with a value: never printed; the truth from the raw counts.
                        let truth = raw_count(&raw["n"][c])
                            - rows_r[start..end]
                                .iter()
                                .find(|x| x["level"] == "missing")
                                .map_or(0, |x| leading_count(x["cells"][c].as_str().unwrap()));
                        return a.rest(truth, format!("{label} column {c} with a value"));
                    }
                    let truth = leading_count(r);
                    let value = match leading(s) {
                        Some(v) => Value::from(v),
                        None if s == "—" => Value::Null,
                        None => Value::from(s),
                    };
                    a.few = a.small(raw_count(&raw["n"][c]));
                    let k = a.count(&value, &Value::from(truth), format!("{label} column {c}"));
                    a.few = false;
                    if let Some(share) = share_of(s) {
                        shares[c].push((truth, share));
                    }
                    if level == "missing" {
                        missing[c] = Some(k);
                    }
                    k
                })
                .collect();
            for (c, &k) in cells.iter().enumerate() {
                parts[c].push(k);
            }
            if columns == 3 {
                a.sum(cells[0], vec![cells[1], cells[2]]);
            }
        }
        for (c, p) in parts.into_iter().enumerate() {
            a.sum(n[c], p);
            // The denominators that print every shown share as it reads pin the patients with
            // a value, so the missing count, when only one fits.
            if let (Some(m), Some(total)) = (missing[c], shown["n"][c].as_u64()) {
                let fits: Vec<u64> = (1..=total)
                    .filter(|&d| {
                        shares[c].iter().all(|&(k, x)| {
                            format!("{:.1}", 100.0 * k as f64 / d as f64) == format!("{x:.1}")
                        })
                    })
                    .collect();
                if !shares[c].is_empty() && fits.len() == 1 {
                    let v = total - fits[0];
                    a.vars[m].lo = a.vars[m].lo.max(v);
                    a.vars[m].hi = a.vars[m].hi.min(v);
                }
            }
        }
        start = end;
    }
}

fn raw_count(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// The count a cell starts with (`12 (3.4%)` → 12).
fn leading(cell: &str) -> Option<u64> {
    cell.split_whitespace().next()?.parse().ok()
}

fn leading_count(cell: &str) -> u64 {
    leading(cell).unwrap_or_else(|| panic!("raw Table 1 cell {cell}"))
}

/// The share a cell prints (`12 (3.4%)` → 3.4).
fn share_of(cell: &str) -> Option<f64> {
    let inner = cell.split_once('(')?.1.strip_suffix("%)")?;
    inner.parse().ok()
}

/// A run's results on a cohort without disclosure control and with threshold `m`.
fn run_both(n: usize, seed: u64, m: u64) -> (RunSummary, RunSummary) {
    let cohort = random_cohort(n, seed);
    let histories = Histories::new(&cohort);
    let settings = StudySettings::default();
    let classified = classify_cohort_with(&cohort, &histories, &settings, Threads::Exactly(1))
        .expect("random cohorts classify");
    let analyse =
        |m| bonemet::analysis::analyse(&cohort, &histories, &classified, &[], &settings, m);
    (analyse(0), analyse(m))
}

#[test]
fn an_attacker_solving_the_shown_sums_recovers_no_small_count() {
    let mut rng = Rng::new(20261208);
    let mut attacked = 0;
    for case in 0..40 {
        let n = 20 + rng.below(260) as usize;
        let m = 2 + rng.below(10);
        let seed = rng.next();
        let (raw, shown) = run_both(n, seed, m);
        let raw_json = serde_json::to_value(&raw).unwrap();
        let shown_json = serde_json::to_value(&shown).unwrap();
        let mut a = attack(&shown_json, &raw_json, m);
        a.solve();
        let recovered = a.recovered();
        assert!(
            recovered.is_empty(),
            "case {case} (n {n}, seed {seed}, min_cell {m}): recovered {recovered:?}"
        );
        attacked += a.vars.iter().filter(|v| v.sensitive).count();
    }
    // The attacks had small counts to go after.
    assert!(attacked > 100, "{attacked}");
}

#[test]
fn curves_and_at_risk_tables_stop_below_the_threshold_and_steps_hold_enough_events() {
    let mut rng = Rng::new(7);
    for _ in 0..6 {
        let n = 60 + rng.below(400) as usize;
        let m = 2 + rng.below(10);
        let (raw, shown) = run_both(n, rng.next(), m);
        let curves = |s: &RunSummary| -> Vec<(
            String,
            Vec<bonemet::analysis::model::CurvePointJson>,
            Vec<bonemet::analysis::model::AtRiskJson>,
        )> {
            let mut out: Vec<_> = s
                .survival
                .iter()
                .flat_map(|a| {
                    a.groups.iter().map(move |g| {
                        (
                            format!("{} {}", a.id, g.group),
                            g.curve.clone(),
                            g.at_risk.clone(),
                        )
                    })
                })
                .collect();
            out.extend(s.cumulative_incidence.iter().flat_map(|a| {
                a.groups.iter().map(move |g| {
                    (
                        format!("{} {}", a.id, g.group),
                        g.curve.clone(),
                        g.at_risk.clone(),
                    )
                })
            }));
            out
        };
        let mut checked = 0;
        for ((name, raw_curve, _), (_, curve, at_risk)) in
            curves(&raw).into_iter().zip(curves(&shown))
        {
            let mut previous = f64::NEG_INFINITY;
            for p in &curve {
                let step = raw_curve
                    .iter()
                    .find(|q| q.months == p.months)
                    .expect("a shown step is a true one");
                assert!(
                    step.n_risk >= m,
                    "{name}: a step at {} with {} at risk",
                    p.months,
                    step.n_risk
                );
                let events: u64 = raw_curve
                    .iter()
                    .filter(|q| q.months > previous && q.months <= p.months)
                    .map(|q| q.n_events)
                    .sum();
                assert!(
                    events >= m,
                    "{name}: a step at {} of {events} events",
                    p.months
                );
                assert_eq!(
                    (p.estimate, p.lower, p.upper),
                    (step.estimate, step.lower, step.upper)
                );
                previous = p.months;
                checked += 1;
            }
            for r in &at_risk {
                assert!(
                    r.n_risk.shown().is_some_and(|k| k >= m),
                    "{name}: at risk {:?}",
                    r.n_risk
                );
            }
        }
        assert!(checked > 0);
    }
}
