# bonemet tasks. The README's two commands work without `just`; these are conveniences.

# The main job on the bundled demo cohort: validate, classify, analyse, report into reports/demo/.
demo:
    cargo run -- run data/demo --out reports/demo

# The test suite (what CI runs after the lints).
test:
    cargo test

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run

# Regenerate the 5,000-patient demo cohort (a test checks it matches a fresh synth).
demo-data:
    cargo run -- synth --patients 5000 --seed 20261129 --out data/demo

# Regenerate tests/data/fixture_parquet/ from the CSV fixture.
fixtures:
    cargo test --test tests regenerate_parquet_fixture -- --ignored

# Ingestion at scale (release build): validate vs polars' read, 1,000,000 patients.
bench-validate n="1000000" repeats="3" format="csv":
    python3 scripts/bench_validate.py {{n}} {{repeats}} {{format}}

# Statistics at scale (release): bonemet survival vs R survival's compute vs polars' read, 1M rows.
bench-stats n="1000000" repeats="3":
    python3 scripts/bench_stats.py {{n}} {{repeats}}

# Fine-Gray: bonemet survival --competing-value against cmprsk::crr (R), same file, same run.
bench-fine-gray n="10000":
    python3 scripts/bench_fine_gray.py {{n}}

# Classifiers alone (criterion: 1M and 10M patients, 1 vs 2 threads), then classify vs
# validate end to end on a 1,000,000-patient Parquet cohort.
bench-classify:
    cargo bench --bench classify
    python3 scripts/bench_classify.py 1000000 3 parquet

# Execute notebooks/explore-run.ipynb against the demo run with nbclient (Python
# requirements: notebooks/requirements.txt); the executed copy goes to target/notebooks/.
notebooks:
    cargo run -- run data/demo --out reports/demo
    python3 scripts/run_notebook.py notebooks/explore-run.ipynb reports/demo

# bonemet run on 1,000,000 patients (Parquet, events and labs), stage by stage, against
# polars reading the same three files (release build; data under target/bench/).
bench-run n="1000000" repeats="3":
    python3 scripts/bench_run.py {{n}} {{repeats}}

# Soak (release build, not in CI): RUNS runs of bonemet run over synthetic cohorts with
# random defect rates 0-20%, thresholds, threads and study settings, every 20th killed mid-way;
# checks row balance, determinism, clean-up; prints peak RSS and wall time (docs/robustness.md).
soak runs="200" seed="1":
    python3 scripts/soak.py {{runs}} {{seed}}

# The report as a person sees it (issue #23, item 4; CI runs it): build, run the demo into a
# temporary directory, open its report.html in headless Chromium (Debian: apt-get install -y
# chromium) and check: no console errors, the sections and the <nav>, every chart with a size,
# a screenshot that is not blank. Screenshots and result.json in target/report-check/.
report-check:
    python3 scripts/report_check.py

# Fuzz one input surface with cargo-fuzz (libFuzzer) for SECONDS, on nightly, not in CI
# (docs/robustness.md). Targets: patients_csv events_csv labs_csv patients_parquet
# events_parquet labs_parquet mapping_toml study_toml. Needs `rustup toolchain install nightly`
# and `cargo install cargo-fuzz`; seeds in fuzz/corpus/TARGET, new inputs kept there, crashes
# in fuzz/artifacts/TARGET (minimise one into tests/data/fuzz_regressions/TARGET/). CI replays
# the corpus and seeded mutations on stable instead (tests/fuzz_replay.rs).
fuzz target="patients_csv" seconds="300":
    cargo +nightly fuzz run {{target}} fuzz/corpus/{{target}} -- -max_total_time={{seconds}} -timeout=30 -rss_limit_mb=4096
