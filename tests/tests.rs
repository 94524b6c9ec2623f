//! One integration-test binary (it links once, not once per file): modules per area.

mod bad_input;
mod classify;
mod cli;
mod disclosure;
mod fixture;
mod fuzz_replay;
mod independent_plan;
mod mapping;
mod minimal_stats;
mod plan_reference;
mod random_cohort;
mod run;
mod stats;
mod synth;
mod util;
