//! Classifiers alone (no I/O) on 1,000,000 and 10,000,000 patients: C1–C7, C9, C10 on the
//! patients table, sequentially and on a 2-thread pool (the speed-up is the ratio of the two),
//! and every classifier with events and labs (C8, calcium history) on 1,000,000.
//! Run with `just bench-classify`; throughput reads in patients per second.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

use bonemet::classify::{classify_baseline, classify_cohort, Threads};
use bonemet::schema::Cohort;
use bonemet::study::StudySettings;

#[path = "../tests/random_cohort.rs"]
#[allow(dead_code)]
mod random_cohort;

/// A cheap digest of a patient's baseline classification, so that nothing is optimised away
/// and nothing is stored.
fn digest(cohort: &Cohort, p: usize, settings: &StudySettings) -> u64 {
    let c = classify_baseline(cohort, p, settings);
    (c.molecular_subgroup as u64)
        ^ ((c.m_category as u64) << 4)
        ^ (u64::from(c.corrected_calcium.is_ok()) << 8)
        ^ (c.risk_factor_count.map_or(7, u64::from) << 9)
        ^ (u64::from(c.oligometastatic == Ok(true)) << 12)
        ^ (u64::from(c.weight_bearing.is_ok()) << 13)
        ^ ((c.metastatic_pattern as u64) << 14)
        ^ (u64::from(c.ctx_valid == Ok(true)) << 16)
        ^ (c.ntx_class.map_or(3, |n| n as u64) << 17)
}

fn baseline(c: &mut Criterion) {
    let settings = StudySettings::default();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    for n in [1_000_000usize, 10_000_000] {
        let cohort = random_cohort::random_cohort(n, 42);
        let mut group = c.benchmark_group(format!("baseline_c1-c7_c9_c10/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10);
        group.bench_function("1 thread", |b| {
            b.iter(|| {
                (0..n)
                    .map(|p| digest(black_box(&cohort), p, &settings))
                    .fold(0u64, |a, d| a.wrapping_add(d))
            })
        });
        group.bench_function("2 threads", |b| {
            b.iter(|| {
                two.install(|| {
                    (0..n)
                        .into_par_iter()
                        .with_min_len(4096)
                        .map(|p| digest(black_box(&cohort), p, &settings))
                        .reduce(|| 0, u64::wrapping_add)
                })
            })
        });
        group.finish();
    }
}

fn with_history(c: &mut Criterion) {
    let settings = StudySettings::default();
    let n = 1_000_000;
    let cohort = random_cohort::random_cohort(n, 43);
    let mut group = c.benchmark_group(format!("all_classifiers_with_events_and_labs/{n}"));
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    for (name, threads) in [
        ("1 thread", Threads::Exactly(1)),
        ("2 threads", Threads::Exactly(2)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| classify_cohort(black_box(&cohort), &settings, threads).expect("classified"))
        });
    }
    group.finish();
}

criterion_group!(benches, baseline, with_history);
criterion_main!(benches);
