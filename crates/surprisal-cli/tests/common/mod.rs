//! Helpers shared by the end-to-end tests of the built `surprisal` binary (each test file uses
//! some of them).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the binary with arguments (and optional text on stdin).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    run_bytes(args, stdin.map(str::as_bytes))
}

/// Runs the binary with arguments (and optional bytes on stdin).
pub fn run_bytes(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_surprisal"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// A file with the given contents in this process's temporary folder; returns its path.
pub fn tmp_file(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("surprisal-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

/// The single line on stderr (asserting there is exactly one).
pub fn stderr_line(out: &Output) -> String {
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(e.trim_end().lines().count(), 1, "expected one line on stderr, got:\n{e}");
    e
}

/// A seeded generator (SplitMix64) of uniforms and standard normals.
pub struct Rng(pub u64);

impl Rng {
    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Runs a command that must succeed and parses its JSON output.
pub fn json_out(args: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let out = run_bytes(args, stdin);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Asserts a JSON number equals `want` to 1e-10 (relative above 1).
pub fn close(got: &serde_json::Value, want: f64) {
    let g = got.as_f64().unwrap_or_else(|| panic!("not a number: {got}"));
    assert!((g - want).abs() <= 1e-10 * want.abs().max(1.0), "got {g}, want {want}");
}
