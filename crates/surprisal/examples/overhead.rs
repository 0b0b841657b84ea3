//! Time of one `loss::mse` call with its gradient on 1000 f64 elements, for comparison with the
//! same call from Python (`crates/surprisal-py/bench/overhead.py`):
//!
//! ```sh
//! cargo run --release -p surprisal --example overhead
//! ```

use std::hint::black_box;
use std::time::Instant;

use surprisal::loss::{self, Options};

fn main() {
    let n = 1000;
    let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
    let opts = Options::mean();
    let calls = 20_000;
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..calls {
            let out = loss::mse(black_box(&x), black_box(&y), &opts).expect("valid input");
            black_box(out);
        }
        best = best.min(t.elapsed().as_secs_f64() / calls as f64);
    }
    println!(
        "rust   mse(return value, per-element, grad) on {n} f64: {:.2} µs per call (best of 7)",
        best * 1e6
    );
}
