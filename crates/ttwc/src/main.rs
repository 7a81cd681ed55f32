//! `ttwc`: the one binary.
fn main() {}
