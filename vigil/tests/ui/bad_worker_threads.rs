#[vigil::main(worker_threads = 0)]
async fn main() {}

#[vigil::main(flavor = "multi_thread", worker_threads = "2")]
async fn string() {}

#[vigil::main(worker_threads = 2.5)]
async fn float() {}

#[vigil::main(worker_threads = -1)]
async fn negative() {}

#[vigil::main(worker_threads = 4u8)]
async fn wrong_suffix() {}

#[vigil::main(worker_threads = N)]
async fn not_a_literal() {}

const N: usize = 2;
