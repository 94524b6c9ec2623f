//! Writes a large, valid cohort (patients, ~1.5 events and 4 lab rows per patient) for the
//! ingestion benchmark. Seeded, so the same arguments give the same bytes. This is load data
//! only: its epidemiology is not calibrated (that is `bonemet synth`'s job).
//!
//! Usage: cargo run --release --example bench_cohort -- N OUT_DIR [csv|parquet]
//! (parquet: the CSV files are written, read by polars with inferred types, written as
//! Parquet, and removed).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The library's seeded generator (SplitMix64) with the draws this generator needs.
struct Rng(bonemet::synth::model::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn date(day: i64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    (epoch + chrono::Duration::days(day)).to_string()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let out = Path::new(args.get(2).map_or("target/bench/cohort", String::as_str));
    std::fs::create_dir_all(out)?;
    let mut rng = Rng(bonemet::synth::model::Rng::for_patient(20261129, 0));
    let mut patients = BufWriter::new(File::create(out.join("patients.csv"))?);
    let mut events = BufWriter::new(File::create(out.join("events.csv"))?);
    let mut labs = BufWriter::new(File::create(out.join("labs.csv"))?);
    writeln!(patients, "patient_id,sex,age_at_diagnosis,diagnosis_date,histology,stage,tumor_size_mm,n_stage,egfr,alk,kras,ecog,bone_mets_date,bone_sites,bone_lesion_count,visceral_sites,visceral_mets_date,calcium,calcium_unit,albumin,albumin_unit,ntx,ctx,ctx_sampled_at,ctx_fasting,bone_agent,bone_agent_start,first_line,smi_cm2_m2,last_contact_date,vital_status,death_date")?;
    writeln!(events, "patient_id,event_date,event_type,site")?;
    writeln!(labs, "patient_id,sampled_at,analyte,value,unit,fasting")?;
    let sites = [
        "spine_thoracic",
        "spine_lumbar",
        "pelvis",
        "femur",
        "ribs",
        "humerus",
        "skull",
        "sacrum",
    ];
    let viscera = [
        "liver",
        "brain",
        "adrenal",
        "pleura",
        "contralateral_lung",
        "distant_nodes",
    ];
    let event_types = [
        "radiotherapy_bone",
        "pathologic_fracture",
        "bone_surgery",
        "spinal_cord_compression",
        "hypercalcemia",
    ];
    for i in 0..n {
        let id = format!("P{i:08}");
        let diagnosis = rng.below(3000) as i64;
        let follow_up = 30 + rng.below(1800) as i64;
        let last = diagnosis + follow_up;
        let dead = rng.unit() < 0.7;
        let bone = rng.unit() < 0.35;
        let bone_date = diagnosis
            + if rng.unit() < 0.7 {
                0
            } else {
                rng.below(follow_up as u64) as i64
            };
        let (bone_date_s, bone_sites, lesions) = if bone {
            let k = 1 + rng.below(3) as usize;
            let chosen: Vec<&str> = (0..k)
                .map(|j| sites[(i as usize + j * 3) % sites.len()])
                .collect();
            (
                date(bone_date),
                chosen.join(";"),
                (1 + rng.below(8)).to_string(),
            )
        } else {
            (String::new(), String::new(), String::new())
        };
        let visceral = if rng.unit() < 0.4 {
            rng.pick(&viscera)
        } else {
            ""
        };
        let agent = if bone {
            rng.pick(&["none", "zoledronic_acid", "denosumab"])
        } else {
            "none"
        };
        let calcium = 2.1 + rng.unit() * 0.8;
        let albumin = 28.0 + rng.unit() * 16.0;
        writeln!(
            patients,
            "{id},{},{},{},{},{},{:.1},{},{},{},{},{},{},{},{},{},,{:.2},mmol/l,{:.0},g/l,{:.0},{:.0},{}T0{}:{:02},{},{},,{},{:.1},{},{},{}",
            rng.pick(&["m", "f"]),
            40 + rng.below(50),
            date(diagnosis),
            rng.pick(&["adenocarcinoma", "squamous", "large_cell", "nsclc_nos", "small_cell", "other"]),
            rng.pick(&["i", "ii", "iii", "iva", "ivb", "iv"]),
            5.0 + rng.unit() * 80.0,
            rng.pick(&["n0", "n1", "n2", "n3", "nx"]),
            rng.pick(&["wild_type", "exon19_del", "l858r", "other_mutation", "not_tested"]),
            rng.pick(&["negative", "rearranged", "not_tested"]),
            rng.pick(&["wild_type", "g12a", "g12c", "g12d", "g12v", "other_mutation", "not_tested"]),
            rng.below(5),
            bone_date_s,
            bone_sites,
            lesions,
            visceral,
            calcium,
            albumin,
            rng.unit() * 200.0,
            rng.unit() * 1200.0,
            date(diagnosis + 1),
            7 + rng.below(3),
            rng.below(60),
            rng.pick(&["true", "false"]),
            agent,
            rng.pick(&["chemotherapy", "egfr_tki", "immunotherapy", "chemo_immunotherapy"]),
            30.0 + rng.unit() * 20.0,
            date(last),
            if dead { "dead" } else { "alive" },
            if dead { date(last) } else { String::new() },
        )?;
        // About 1.5 events per patient on average.
        let n_events = if bone {
            1 + rng.below(3) + rng.below(3)
        } else {
            rng.below(2)
        };
        for _ in 0..n_events {
            let day = diagnosis + rng.below(follow_up as u64 + 1) as i64;
            writeln!(
                events,
                "{id},{},{},{}",
                date(day),
                rng.pick(&event_types),
                rng.pick(&sites)
            )?;
        }
        for (analyte, value, unit) in [
            ("calcium", calcium, "mmol/l"),
            ("albumin", albumin, "g/l"),
            ("ntx", rng.unit() * 200.0, "nmol_bce/mmol_creat"),
            ("ctx", rng.unit() * 1200.0, "ng/l"),
        ] {
            writeln!(
                labs,
                "{id},{}T0{}:{:02},{analyte},{value:.2},{unit},{}",
                date(diagnosis + rng.below(30) as i64),
                7 + rng.below(3),
                rng.below(60),
                rng.pick(&["true", "false", ""])
            )?;
        }
    }
    patients.flush()?;
    events.flush()?;
    labs.flush()?;
    drop((patients, events, labs));
    if args.get(3).map(String::as_str) == Some("parquet") {
        for table in ["patients", "events", "labs"] {
            to_parquet(
                &out.join(format!("{table}.csv")),
                &out.join(format!("{table}.parquet")),
            )
            .map_err(std::io::Error::other)?;
            std::fs::remove_file(out.join(format!("{table}.csv")))?;
        }
    }
    Ok(())
}

fn to_parquet(csv: &Path, parquet: &Path) -> polars::prelude::PolarsResult<()> {
    use polars::prelude::*;
    let mut frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(10_000))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))?
        .finish()?;
    ParquetWriter::new(File::create(parquet)?).finish(&mut frame)?;
    Ok(())
}
