//! Writes a seeded binary-predictions CSV (`target,prob`) for benchmarking `surprisal score`.
//!
//! ```text
//! cargo run --release -p surprisal-cli --example gen_scores -- scores.csv [rows] [seed]
//! target/release/surprisal score scores.csv --target target --prob prob
//! ```
//!
//! Each row draws p ~ Uniform(0, 1) (six decimals) and y ~ Bernoulli(p), so the predictions are
//! calibrated. The default is 10,000,000 rows (about 110 MB).

use std::io::Write;

/// SplitMix64: a small seeded generator.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: gen_scores OUT.csv [rows] [seed]");
        std::process::exit(2);
    };
    let rows: u64 = args.get(2).map_or(10_000_000, |s| s.parse().expect("rows is an integer"));
    let seed: u64 = args.get(3).map_or(2026, |s| s.parse().expect("seed is an integer"));
    let mut rng = SplitMix(seed);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(b"target,prob\n")?;
    for _ in 0..rows {
        let micro = rng.next_u64() % 1_000_000;
        let u = rng.next_u64() % 1_000_000;
        let y = u64::from(u < micro);
        writeln!(out, "{y},0.{micro:06}")?;
    }
    out.flush()
}
