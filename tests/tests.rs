//! One integration-test binary (links once; see docs/conventions): modules per area.

mod bad_input;
mod classify;
mod cli;
mod fixture;
mod mapping;
mod random_cohort;
mod util;
