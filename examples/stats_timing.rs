//! Times each estimator of `bonemet survival` separately on one CSV (a profiling aid for
//! `just bench-stats`): read, KM per group, log-rank, Cox (with its concordance, and alone),
//! concordance alone, logistic regression.
//! Usage: cargo run --release --example stats_timing -- FILE.csv
use std::time::Instant;

use bonemet::io::frame::{ColumnUse, Frame};
use bonemet::stats::cox::{concordance, coxph, coxph_with, CoxOptions, Ties};
use bonemet::stats::km::{ConfType, KaplanMeier};
use bonemet::stats::logistic::LogisticFit;
use bonemet::stats::logrank::survdiff;

/// The best of three runs of `f`, in seconds.
fn best_of_three(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let clock = Instant::now();
            f();
            clock.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: stats_timing FILE.csv")?;
    let clock = Instant::now();
    let columns = [
        "time", "status", "group", "x1", "x2", "x3", "x4", "x5", "x6",
    ];
    let wanted: Vec<(&str, ColumnUse)> = columns.iter().map(|&c| (c, ColumnUse::Numbers)).collect();
    let mut frame = Frame::read(std::path::Path::new(&path), &wanted)?;
    let time = frame.numbers("time")?;
    let event: Vec<bool> = frame.numbers("status")?.iter().map(|&s| s == 1.0).collect();
    let group: Vec<usize> = frame
        .numbers("group")?
        .iter()
        .map(|&g| g as usize)
        .collect();
    let x: Vec<Vec<f64>> = (1..=6)
        .map(|k| frame.numbers(&format!("x{k}")))
        .collect::<Result<_, _>>()?;
    println!("read            {:>8.3} s", clock.elapsed().as_secs_f64());
    let km = best_of_three(|| {
        for g in 0..4 {
            let idx: Vec<usize> = (0..time.len()).filter(|&i| group[i] == g).collect();
            let t: Vec<f64> = idx.iter().map(|&i| time[i]).collect();
            let e: Vec<bool> = idx.iter().map(|&i| event[i]).collect();
            KaplanMeier::fit(&t, &e, None, 0.95, ConfType::Log).expect("km");
        }
    });
    println!("km x4           {km:>8.3} s");
    let logrank = best_of_three(|| {
        survdiff(&time, &event, &group, None, 0.0).expect("logrank");
    });
    println!("logrank         {logrank:>8.3} s");
    let mut fit = None;
    let cox = best_of_three(|| fit = Some(coxph(&time, &event, None, &x, None, Ties::Efron)));
    let fit = fit.ok_or("no fit")??;
    println!(
        "cox + concord.  {cox:>8.3} s ({} iterations)",
        fit.iterations
    );
    let alone = best_of_three(|| {
        let options = CoxOptions {
            concordance: false,
            ..CoxOptions::new(Ties::Efron)
        };
        coxph_with(&time, &event, None, &x, None, options).expect("cox");
    });
    println!("cox alone       {alone:>8.3} s");
    let eta: Vec<f64> = (0..time.len())
        .map(|i| (0..6).map(|j| x[j][i] * fit.coef[j]).sum())
        .collect();
    let c = best_of_three(|| {
        concordance(&time, &event, None, &eta, None);
    });
    println!("concordance     {c:>8.3} s");
    // Clustered by pairs of rows (as the run's recurrent-SRE model clusters intervals by
    // patient): the robust variance's score residuals and cluster sums, without concordance.
    let cluster: Vec<usize> = (0..time.len()).map(|i| i / 2).collect();
    let options = CoxOptions {
        cluster: Some(&cluster),
        concordance: false,
        ..CoxOptions::new(Ties::Efron)
    };
    let robust = best_of_three(|| {
        coxph_with(&time, &event, None, &x, None, options).expect("cox");
    });
    println!("cox + robust    {robust:>8.3} s");
    // Logistic regression of the event on the six covariates (the run's adjusted model is of
    // this size).
    let names: Vec<String> = (1..=6).map(|k| format!("x{k}")).collect();
    let logistic = best_of_three(|| {
        LogisticFit::fit(&event, &x, &names).expect("logistic");
    });
    println!("logistic        {logistic:>8.3} s");
    Ok(())
}
