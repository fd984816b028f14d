//! Criterion benches (placeholder until written).
fn main() {}
