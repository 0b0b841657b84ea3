//! Linear quantile regression = asymmetric-Laplace maximum likelihood, solved exactly as a linear
//! program.
//!
//! 1. The Engel food-expenditure data (235 households): `foodexp ~ a + b·income` at several
//!    quantile levels τ, with the minimised pinball loss, the scale MLE σ̂ and the log-likelihood.
//! 2. A synthetic problem with n = 20 000 rows and p = 5 columns (seeded), timed: the simplex
//!    takes a few tens of long steps (each through many vertices) at O(np + n log n) each.
//!
//! Run with `cargo run --release -p surprisal --example quantile_regression`.

#[path = "common/engel.rs"]
mod engel;

use ndarray::Array2;
use std::time::Instant;
use surprisal::fit::quantile::{QuantileOptions, quantile_regression};

fn main() {
    let (income, food) = engel::load_or_exit();
    let n = income.len();
    let mut x = Array2::ones((n, 2));
    for (i, v) in income.iter().enumerate() {
        x[[i, 1]] = *v;
    }
    println!("Engel food expenditure, n = {n}: foodexp = a + b·income + asymmetric-Laplace noise\n");
    println!(
        "{:>5} {:>12} {:>10} {:>14} {:>10} {:>14} {:>6} {:>7}",
        "τ", "a", "b", "Σ pinball", "σ̂", "log-lik", "iter", "unique"
    );
    for tau in [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] {
        match quantile_regression(x.view(), &food, tau, None, &QuantileOptions::default()) {
            Ok(f) => println!(
                "{tau:>5} {:>12.6} {:>10.6} {:>14.6} {:>10.6} {:>14.6} {:>6} {:>7}",
                f.coef[0], f.coef[1], f.objective, f.scale, f.loglike, f.iterations, f.unique
            ),
            Err(e) => eprintln!("τ = {tau}: {e}"),
        }
    }

    // A larger synthetic problem (SplitMix64, seeded).
    let (n, p) = (20_000usize, 5usize);
    let mut state = 2026u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Array2::ones((n, p));
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut mean = 1.0;
        for j in 1..p {
            x[[i, j]] = 4.0 * uniform() - 2.0;
            mean += j as f64 * x[[i, j]];
        }
        // Skewed Laplace-like noise.
        y[i] = mean - (1.0 - uniform()).ln() + 0.5 * (1.0 - uniform()).ln();
    }
    println!("\nsynthetic: n = {n}, p = {p}, y = 1 + Σ j·x_j + noise");
    for tau in [0.1, 0.5, 0.9] {
        let t0 = Instant::now();
        match quantile_regression(x.view(), &y, tau, None, &QuantileOptions::default()) {
            Ok(f) => {
                let coef: Vec<String> = f.coef.iter().map(|c| format!("{c:.4}")).collect();
                println!(
                    "τ = {tau}: β̂ = [{}], objective {:.4}, {} iterations, {:.3} s",
                    coef.join(", "),
                    f.objective,
                    f.iterations,
                    t0.elapsed().as_secs_f64()
                );
            }
            Err(e) => eprintln!("τ = {tau}: {e}"),
        }
    }
}
