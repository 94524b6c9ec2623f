# bonemet tasks. The README's two commands work without `just`; these are conveniences.

# Validate the bundled demo cohort, writing reports/demo/.
demo:
    cargo run -- validate data/demo --out reports/demo

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

# Regenerate tests/data/fixture_parquet/ from the CSV fixture.
fixtures:
    cargo test --test tests regenerate_parquet_fixture -- --ignored

# Ingestion at scale (release build): validate vs polars' read, 1,000,000 patients.
bench-validate n="1000000" repeats="3":
    python3 scripts/bench_validate.py {{n}} {{repeats}}
