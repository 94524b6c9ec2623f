//! One integration-test binary (links once; see docs/conventions): modules per area.

mod bad_input;
mod cli;
mod fixture;
mod mapping;
mod util;
