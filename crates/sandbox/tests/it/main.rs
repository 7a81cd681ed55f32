//! Integration tests: the sandbox driven over real HTTP, as a client would.

mod admin;
mod contract;
mod faults;
mod helpers;
mod orders;
mod persistence;
mod robustness;
