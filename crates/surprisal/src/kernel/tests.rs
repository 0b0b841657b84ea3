//! Tests of the kernels against the f64 reference path of [`crate::loss`].

use super::cross_entropy::Plan;
use super::*;
use crate::loss::{
    self, CrossEntropyOptions, Options, Reduction, softmax_cross_entropy, softmax_cross_entropy_probs,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(Config::with_cases(cases), TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// Which gradient storage a test run uses.
#[derive(Clone, Copy, Debug)]
enum Out {
    F32,
    Bf16,
    InPlace,
}

/// The f32 options mirroring f64 ones.
fn opts32<'a>(o: &CrossEntropyOptions<'a, f64>, w32: &'a Option<Vec<f32>>) -> CrossEntropyOptions<'a, f32> {
    CrossEntropyOptions {
        reduction: o.reduction,
        weight: w32.as_deref(),
        ignore_index: o.ignore_index,
        label_smoothing: o.label_smoothing as f32,
        mask: o.mask,
    }
}

/// Runs the class-target kernel; returns (value, row losses, gradient as f64).
#[allow(clippy::too_many_arguments)]
fn run_class(
    z: &[f32],
    bf: bool,
    v: usize,
    y: &[i64],
    o: &CrossEntropyOptions<f32>,
    out: Out,
    threads: usize,
    plan: Plan,
    scalar: bool,
) -> (f32, Vec<f32>, Vec<f64>) {
    let n = y.len();
    let mut per = vec![0f32; n];
    let zb: Vec<bf16> = z.iter().map(|&x| bf16::from_f32(x)).collect();
    match out {
        Out::InPlace => {
            let mut g = z.to_vec();
            let r = inplace(&mut g, v, y, o, Some(&mut per), threads, plan, scalar).unwrap();
            (r.value, per, g.iter().map(|&x| f64::from(x)).collect())
        }
        Out::F32 => {
            let mut g = vec![f32::NAN; n * v];
            let r = if bf {
                class_entry(&zb, v, y, o, GradOut::F32(&mut g), Some(&mut per), threads, plan, scalar)
            } else {
                class_entry(z, v, y, o, GradOut::F32(&mut g), Some(&mut per), threads, plan, scalar)
            }
            .unwrap();
            (r.value, per, g.iter().map(|&x| f64::from(x)).collect())
        }
        Out::Bf16 => {
            let mut g = vec![bf16::NAN; n * v];
            let r = if bf {
                class_entry(&zb, v, y, o, GradOut::Bf16(&mut g), Some(&mut per), threads, plan, scalar)
            } else {
                class_entry(z, v, y, o, GradOut::Bf16(&mut g), Some(&mut per), threads, plan, scalar)
            }
            .unwrap();
            (r.value, per, g.iter().map(|&x| x.to_f64()).collect())
        }
    }
}

/// |got − want| ≤ tol·max(|want|, 1) elementwise, infinities equal.
fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_infinite() || want.is_nan() {
        return got == want || (got.is_nan() && want.is_nan());
    }
    (got - want).abs() <= tol * want.abs().max(1.0)
}

#[test]
fn matches_the_reference_on_a_small_case() {
    let z = [1.0f32, 2.0, 3.0, 0.5, -1.0, 2.0];
    let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
    let want = softmax_cross_entropy::<f64, f64>(&z64, 3, &[2, 0], &CrossEntropyOptions::default()).unwrap();
    let (v, per, g) =
        run_class(&z, false, 3, &[2, 0], &CrossEntropyOptions::default(), Out::F32, 1, Plan::Rows, false);
    assert!(close(f64::from(v), want.value, 1e-6));
    for (a, b) in per.iter().zip(&want.per_element) {
        assert!(close(f64::from(*a), *b, 1e-6));
    }
    for (a, b) in g.iter().zip(&want.grad) {
        assert!(close(*a, *b, 1e-6));
    }
}

/// The f64 reference on the widened (as-stored) logits.
fn reference(z: &[f32], v: usize, y: &[i64], o: &CrossEntropyOptions<f64>) -> loss::LossOutput<f64> {
    let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
    softmax_cross_entropy::<f64, f64>(&z64, v, y, o).unwrap()
}

/// A random class-target problem: shape, logits with extremes, targets with ignores, options.
#[derive(Clone, Debug)]
struct Case {
    v: usize,
    z: Vec<f32>,
    y: Vec<i64>,
    weight: Option<Vec<f64>>,
    mask: Option<Vec<bool>>,
    eps: f64,
    reduction: Reduction,
    threads: usize,
}

fn logit() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -12.0f32..12.0,
        1 => -80.0f32..80.0,
        1 => Just(f32::NEG_INFINITY),
        1 => -1e6f32..1e6,
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let v = prop_oneof![1usize..40, 40usize..140, Just(16), Just(33), Just(257)];
    (1usize..6, v).prop_flat_map(|(n, v)| {
        (
            Just(v),
            proptest::collection::vec(logit(), n * v),
            proptest::collection::vec(prop_oneof![9 => 0..v as i64, 1 => Just(-100i64)], n),
            proptest::option::of(proptest::collection::vec(prop_oneof![4 => 0.1f64..3.0, 1 => Just(0.0)], v)),
            proptest::option::of(proptest::collection::vec(
                prop_oneof![3 => Just(true), 1 => Just(false)],
                n,
            )),
            prop_oneof![Just(0.0), 0.0f64..1.0],
            prop_oneof![Just(Reduction::Mean), Just(Reduction::Sum), Just(Reduction::None)],
            1usize..=4,
        )
            .prop_map(|(v, z, y, weight, mask, eps, reduction, threads)| Case {
                v,
                z,
                y,
                weight,
                mask,
                eps,
                reduction,
                threads,
            })
    })
}

/// Checks one kernel run against the reference (f32 tolerances; bf16 gradients to bf16
/// rounding).
fn check_case(
    c: &Case,
    bf: bool,
    out: Out,
    plan: Plan,
    scalar: bool,
) -> std::result::Result<(), TestCaseError> {
    let z: Vec<f32> =
        if bf { c.z.iter().map(|&x| bf16::from_f32(x).to_f32()).collect() } else { c.z.clone() };
    let o64 = CrossEntropyOptions {
        reduction: c.reduction,
        weight: c.weight.as_deref(),
        ignore_index: Some(-100),
        label_smoothing: c.eps,
        mask: c.mask.as_deref(),
    };
    let w32: Option<Vec<f32>> = c.weight.as_ref().map(|w| w.iter().map(|&x| x as f32).collect());
    let o32 = opts32(&o64, &w32);
    // The reference sees the f32-rounded options.
    let w64r: Option<Vec<f64>> = w32.as_ref().map(|w| w.iter().map(|&x| f64::from(x)).collect());
    let o64r =
        CrossEntropyOptions { weight: w64r.as_deref(), label_smoothing: f64::from(c.eps as f32), ..o64 };
    let want = reference(&z, c.v, &c.y, &o64r);
    let (value, per, grad) = run_class(&z, bf, c.v, &c.y, &o32, out, c.threads, plan, scalar);
    // Losses: relative 2e-5 (the logits themselves may be 1e6, where f32 shifts are exact only
    // to 1e6·2⁻²⁴ ≈ 0.06, so allow that absolute slack too).
    let zmax = z.iter().filter(|x| x.is_finite()).fold(1f64, |m, &x| m.max(f64::from(x).abs()));
    let ltol = |w: f64| 2e-5 * w.abs().max(1.0) + zmax * 1.2e-7 * c.v as f64;
    prop_assert!(
        (f64::from(value) - want.value).abs() <= ltol(want.value) * c.y.len() as f64
            || (value.is_infinite() && value == want.value as f32),
        "value {} vs {}",
        value,
        want.value
    );
    for (i, (&a, &b)) in per.iter().zip(&want.per_element).enumerate() {
        prop_assert!(
            (f64::from(a) - b).abs() <= ltol(b) || (a.is_infinite() && a == b as f32),
            "row {i}: {a} vs {b}"
        );
    }
    let gtol = if matches!(out, Out::Bf16) { 8e-3 } else { 2e-5 };
    for (j, (&a, &b)) in grad.iter().zip(&want.grad).enumerate() {
        prop_assert!(
            (a - b).abs() <= gtol * b.abs() + 2e-6 + zmax * 1e-7,
            "grad[{j}] {a} vs {b} ({:?})",
            (bf, out, plan, scalar)
        );
    }
    Ok(())
}

#[test]
fn class_targets_match_the_f64_reference_for_every_dtype_thread_count_and_path() {
    runner(48)
        .run(&case(), |c| {
            for (bf, out) in [
                (false, Out::F32),
                (false, Out::Bf16),
                (false, Out::InPlace),
                (true, Out::F32),
                (true, Out::Bf16),
            ] {
                check_case(&c, bf, out, Plan::Auto, false)?;
            }
            check_case(&c, false, Out::F32, Plan::Split, false)?;
            check_case(&c, false, Out::F32, Plan::TwoPass, false)?;
            check_case(&c, true, Out::Bf16, Plan::TwoPass, false)?;
            check_case(&c, false, Out::InPlace, Plan::TwoPass, false)?;
            check_case(&c, false, Out::F32, Plan::Rows, true)?;
            check_case(&c, true, Out::Bf16, Plan::Split, true)?;
            check_case(&c, false, Out::InPlace, Plan::Split, false)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_thread_count_on_one_larger_problem() {
    let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let (n, v) = (9, 1037);
    let z: Vec<f32> = (0..n * v).map(|_| rng.random_range(-15.0f32..15.0)).collect();
    let y: Vec<i64> = (0..n).map(|i| (i * 97 % v) as i64).collect();
    for threads in 1..=4 {
        let c = Case {
            v,
            z: z.clone(),
            y: y.clone(),
            weight: None,
            mask: None,
            eps: 0.1,
            reduction: Reduction::Mean,
            threads,
        };
        for plan in [Plan::Auto, Plan::Rows, Plan::Split, Plan::TwoPass] {
            check_case(&c, false, Out::F32, plan, false).unwrap();
            check_case(&c, true, Out::Bf16, plan, false).unwrap();
        }
    }
}

#[test]
fn results_are_bit_identical_for_a_given_thread_count() {
    let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let (n, v) = (7, 301);
    let z: Vec<f32> = (0..n * v).map(|_| rng.random_range(-20.0f32..20.0)).collect();
    let y: Vec<i64> = (0..n).map(|i| (i * 13 % v) as i64).collect();
    let o = CrossEntropyOptions::<f32>::default().label_smoothing(0.05);
    for threads in 1..=4 {
        for plan in [Plan::Rows, Plan::Split, Plan::TwoPass] {
            let a = run_class(&z, false, v, &y, &o, Out::F32, threads, plan, false);
            let b = run_class(&z, false, v, &y, &o, Out::F32, threads, plan, false);
            assert_eq!(a.0.to_bits(), b.0.to_bits());
            assert!(a.1.iter().zip(&b.1).all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(a.2.iter().zip(&b.2).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
    // The split-row path agrees with the row path to rounding.
    let rows = run_class(&z, false, v, &y, &o, Out::F32, 1, Plan::Rows, false);
    let split = run_class(&z, false, v, &y, &o, Out::F32, 3, Plan::Split, false);
    assert!((rows.0 - split.0).abs() <= 1e-5 * rows.0.abs());
    for (a, b) in rows.2.iter().zip(&split.2) {
        assert!((a - b).abs() <= 1e-6);
    }
}

#[test]
fn edge_rows_follow_the_reference_policies() {
    let (inf, ninf, nan) = (f32::INFINITY, f32::NEG_INFINITY, f32::NAN);
    // Rows: ordinary; +inf twice; all −inf; −inf on the target; NaN.
    let v = 20;
    let mut z = vec![0.5f32; 5 * v];
    z[v] = inf;
    z[v + 7] = inf;
    z[2 * v..3 * v].fill(ninf);
    z[3 * v + 4] = ninf;
    z[4 * v + 9] = nan;
    let y = [3i64, 7, 0, 4, 1];
    for threads in 1..=4 {
        for plan in [Plan::Rows, Plan::Split, Plan::TwoPass] {
            for eps in [0.0, 0.2] {
                let o = CrossEntropyOptions::<f32>::with_reduction(Reduction::None).label_smoothing(eps);
                let (_, per, g) = run_class(&z, false, v, &y, &o, Out::F32, threads, plan, false);
                let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
                let o64 = CrossEntropyOptions::<f64>::with_reduction(Reduction::None)
                    .label_smoothing(f64::from(eps));
                let want = softmax_cross_entropy::<f64, f64>(&z64, v, &y, &o64).unwrap();
                for i in 0..4 {
                    let (a, b) = (f64::from(per[i]), want.per_element[i]);
                    assert!(a == b || (a - b).abs() < 1e-5, "row {i}: {a} vs {b}");
                    for c in 0..v {
                        let (a, b) = (g[i * v + c], want.grad[i * v + c]);
                        assert!(a == b || (a - b).abs() < 1e-6, "row {i} class {c}: {a} vs {b}");
                    }
                }
                assert!(per[4].is_nan() && g[4 * v..].iter().all(|x| x.is_nan()));
                // Exact values: all −inf gives +inf and a zero gradient; −inf on the target +inf.
                assert_eq!(per[2], f32::INFINITY);
                assert!(g[2 * v..3 * v].iter().all(|&x| x == 0.0));
                assert_eq!(per[3], f32::INFINITY);
                if eps == 0.0 {
                    assert_eq!(g[3 * v + 4], -1.0);
                }
            }
        }
    }
}

/// Many rows per thread of every kind in sequence (the pipelined loop carries a row's gradient
/// into the next row's sweep): ordinary, ignored, a maximum after the first 256 entries that
/// overflows the shift, −inf entries, all −inf, NaN, +inf; gradient buffers at every alignment
/// within a 64-byte line, both input and output types, 1–3 threads. Every entry is written (the
/// buffer is poisoned first) and nothing outside the buffer is touched.
#[test]
fn rows_of_every_kind_in_sequence_at_every_alignment() {
    let (v, kinds) = (300usize, 8usize);
    let n = 3 * kinds;
    let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut z: Vec<f32> = (0..n * v).map(|_| rng.random_range(-6.0f32..6.0)).collect();
    let mut y: Vec<i64> = (0..n).map(|i| (i * 37 % v) as i64).collect();
    for i in 0..n {
        let row = &mut z[i * v..(i + 1) * v];
        match i % kinds {
            1 => y[i] = -100,
            2 => row[280] = 150.0,
            3 => {
                row[5] = f32::NEG_INFINITY;
                row[290] = f32::NEG_INFINITY;
                row[291] = f32::NEG_INFINITY; // a class of weight 0 below
            }
            4 => row.fill(f32::NEG_INFINITY),
            5 => row[100] = f32::NAN,
            6 => row[270] = f32::INFINITY,
            _ => {}
        }
    }
    let z64: Vec<f64> = z.iter().map(|&x| f64::from(bf16::from_f32(x))).collect();
    let zr: Vec<f32> = z64.iter().map(|&x| x as f32).collect();
    let zb: Vec<bf16> = zr.iter().map(|&x| bf16::from_f32(x)).collect();
    let w32: Vec<f32> = (0..v).map(|c| [0.5f32, 1.0, 2.0, 0.0][c % 4]).collect();
    let w64: Vec<f64> = w32.iter().map(|&x| f64::from(x)).collect();
    let same = |a: f64, b: f64, tol: f64| a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol;
    // No smoothing, smoothing, smoothing with class weights (each a variant of the loop).
    for (eps, weighted) in [(0.0f32, false), (0.1, false), (0.1, true)] {
        let mut o = CrossEntropyOptions::<f32>::with_reduction(Reduction::Mean).ignore_index(Some(-100));
        let mut o64 = CrossEntropyOptions::<f64>::with_reduction(Reduction::Mean).ignore_index(Some(-100));
        o = o.label_smoothing(eps);
        o64 = o64.label_smoothing(f64::from(eps));
        if weighted {
            o.weight = Some(&w32);
            o64.weight = Some(&w64);
        }
        let want = softmax_cross_entropy::<f64, f64>(&z64, v, &y, &o64).unwrap();
        for threads in [1, 3] {
            for off in [0, 1, 5, 8, 15] {
                for (bf_in, bf_out) in [(false, false), (true, true), (true, false), (false, true)] {
                    let mut per = vec![0f32; n];
                    let (g, tol): (Vec<f64>, f64) = if bf_out {
                        let mut buf = vec![bf16::from_f32(7.0); n * v + 32];
                        let dst = GradOut::Bf16(&mut buf[off..off + n * v]);
                        if bf_in {
                            class_entry(&zb, v, &y, &o, dst, Some(&mut per), threads, Plan::Rows, false)
                        } else {
                            class_entry(&zr, v, &y, &o, dst, Some(&mut per), threads, Plan::Rows, false)
                        }
                        .unwrap();
                        assert!(buf[..off].iter().chain(&buf[off + n * v..]).all(|&x| x.to_f32() == 7.0));
                        (buf[off..off + n * v].iter().map(|x| x.to_f64()).collect(), 4e-3)
                    } else {
                        let mut buf = vec![7.0f32; n * v + 32];
                        let dst = GradOut::F32(&mut buf[off..off + n * v]);
                        if bf_in {
                            class_entry(&zb, v, &y, &o, dst, Some(&mut per), threads, Plan::Rows, false)
                        } else {
                            class_entry(&zr, v, &y, &o, dst, Some(&mut per), threads, Plan::Rows, false)
                        }
                        .unwrap();
                        assert!(buf[..off].iter().chain(&buf[off + n * v..]).all(|&x| x == 7.0));
                        (buf[off..off + n * v].iter().map(|&x| f64::from(x)).collect(), 1e-6)
                    };
                    for i in 0..n {
                        let (a, b) = (f64::from(per[i]), want.per_element[i]);
                        assert!(same(a, b, 2e-5 * b.abs().max(1.0)), "row {i}: {a} vs {b}");
                        for c in 0..v {
                            let (a, b) = (g[i * v + c], want.grad[i * v + c]);
                            assert!(
                                same(a, b, tol * b.abs() + 1e-7),
                                "row {i} class {c}: {a} vs {b} (threads {threads}, offset {off}, {bf_in}/{bf_out}, {eps} {weighted})"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn fully_masked_or_ignored_gives_zero_loss_and_zero_gradient() {
    let z = vec![1.5f32; 3 * 40];
    for out in [Out::F32, Out::Bf16, Out::InPlace] {
        let o = CrossEntropyOptions::<f32>::default();
        let (v, per, g) = run_class(&z, false, 40, &[-100, -100, -100], &o, out, 2, Plan::Auto, false);
        assert_eq!(v, 0.0);
        assert!(per.iter().all(|&x| x == 0.0) && g.iter().all(|&x| x == 0.0));
        let m = [false; 3];
        let (v, _, g) = run_class(&z, false, 40, &[1, 2, 3], &o.mask(&m), out, 3, Plan::Split, false);
        assert_eq!(v, 0.0);
        assert!(g.iter().all(|&x| x == 0.0));
        // Sum over ignored rows: rows of zeros (written, not left as they were).
        let (v, _, g) = run_class(
            &z,
            false,
            40,
            &[-100, 5, -100],
            &CrossEntropyOptions::with_reduction(Reduction::Sum),
            out,
            2,
            Plan::Rows,
            false,
        );
        assert!(v > 0.0);
        assert!(g[..40].iter().chain(&g[80..]).all(|&x| x == 0.0));
    }
}

/// Probability-target problems.
/// (V, logits, targets, mask, ε, threads).
type ProbsCase = (usize, Vec<f32>, Vec<f32>, Option<Vec<bool>>, f64, usize);

fn probs_case() -> impl Strategy<Value = ProbsCase> {
    (1usize..5, prop_oneof![1usize..40, Just(70), Just(129)]).prop_flat_map(|(n, v)| {
        (
            Just(v),
            proptest::collection::vec(logit(), n * v),
            proptest::collection::vec(prop_oneof![3 => 0.0f32..1.0, 1 => Just(0.0)], n * v),
            proptest::option::of(proptest::collection::vec(any::<bool>(), n)),
            prop_oneof![Just(0.0), 0.0f64..1.0],
            1usize..=4,
        )
    })
}

#[test]
fn probability_targets_match_the_f64_reference() {
    runner(32)
        .run(&probs_case(), |(v, z, q, mask, eps, threads)| {
            let n = z.len() / v;
            let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
            let q64: Vec<f64> = q.iter().map(|&x| f64::from(x)).collect();
            let wv: Vec<f64> = (0..v).map(|c| 0.5 + (c % 3) as f64).collect();
            let w32: Vec<f32> = wv.iter().map(|&x| x as f32).collect();
            let eps32 = eps as f32;
            for weighted in [false, true] {
                let mut o64 = CrossEntropyOptions::<f64>::with_reduction(Reduction::Mean)
                    .label_smoothing(f64::from(eps32));
                let mut o32 =
                    CrossEntropyOptions::<f32>::with_reduction(Reduction::Mean).label_smoothing(eps32);
                if weighted {
                    o64 = o64.weight(&wv);
                    o32 = o32.weight(&w32);
                }
                if let Some(m) = &mask {
                    o64 = o64.mask(m);
                    o32 = o32.mask(m);
                }
                let want = softmax_cross_entropy_probs::<f64, f64>(&z64, v, &q64, &o64).unwrap();
                let zmax = z.iter().filter(|x| x.is_finite()).fold(1f64, |m, &x| m.max(f64::from(x).abs()));
                for (bf_out, plan) in [(false, Plan::Auto), (true, Plan::Rows), (false, Plan::Split)] {
                    let mut per = vec![0f32; n];
                    let (value, grad): (f32, Vec<f64>) = if bf_out {
                        let mut g = vec![bf16::ZERO; n * v];
                        let r = probs_entry(
                            &z,
                            v,
                            &q,
                            &o32,
                            GradOut::Bf16(&mut g),
                            Some(&mut per),
                            threads,
                            plan,
                            false,
                        )
                        .unwrap();
                        (r.value, g.iter().map(|x| x.to_f64()).collect())
                    } else {
                        let mut g = vec![0f32; n * v];
                        let r = probs_entry(
                            &z,
                            v,
                            &q,
                            &o32,
                            GradOut::F32(&mut g),
                            Some(&mut per),
                            threads,
                            plan,
                            false,
                        )
                        .unwrap();
                        (r.value, g.iter().map(|&x| f64::from(x)).collect())
                    };
                    let tol = |w: f64| 3e-5 * w.abs().max(1.0) * v as f64 + zmax * 1.2e-7 * v as f64 * 4.0;
                    prop_assert!(
                        (f64::from(value) - want.value).abs() <= tol(want.value)
                            || value == want.value as f32,
                        "{value} vs {}",
                        want.value
                    );
                    let gtol = if bf_out { 8e-3 } else { 3e-5 };
                    for (j, (a, b)) in grad.iter().zip(&want.grad).enumerate() {
                        prop_assert!(
                            (a - b).abs() <= gtol * b.abs().max(1.0) + zmax * 1e-7,
                            "grad[{j}] {a} vs {b} {:?}",
                            (bf_out, plan, weighted)
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_library_cross_entropy_uses_the_kernel_with_the_same_results() {
    let z = [1.0f32, 2.0, 3.0, 0.5, -1.0, 2.0];
    let out = softmax_cross_entropy(&z, 3, &[2, 0], &CrossEntropyOptions::<f32>::default()).unwrap();
    let mut g = [0f32; 6];
    let mut per = [0f32; 2];
    let k = cross_entropy_f32(
        &z,
        3,
        &[2, 0],
        &CrossEntropyOptions::default(),
        GradOut::F32(&mut g),
        Some(&mut per),
        1,
    )
    .unwrap();
    assert_eq!(out.value, k.value);
    assert_eq!(out.grad, g.to_vec());
    assert_eq!(out.per_element, per.to_vec());
    // Same errors as the generic path.
    let o = CrossEntropyOptions::<f32>::default();
    assert_eq!(
        softmax_cross_entropy(&z, 3, &[0, 3], &o).unwrap_err(),
        crate::Error::ClassOutOfRange { row: 1, value: 3, n_classes: 3 }
    );
    assert!(softmax_cross_entropy(&z, 4, &[0], &o).is_err());
    assert!(softmax_cross_entropy(&z, 0, &[], &o).is_err());
    assert!(
        softmax_cross_entropy(&z, 3, &[0, 1], &CrossEntropyOptions::with_reduction(Reduction::BatchMean))
            .is_err()
    );
}

#[test]
fn buffer_and_thread_errors() {
    let z = [0f32; 6];
    let o = CrossEntropyOptions::<f32>::default();
    let mut g = [0f32; 5];
    assert!(matches!(
        cross_entropy_f32(&z, 3, &[0, 1], &o, GradOut::F32(&mut g), None, 1),
        Err(crate::Error::ShapeMismatch { name: "grad", .. })
    ));
    let mut g = [0f32; 6];
    assert!(cross_entropy_f32(&z, 3, &[0, 1], &o, GradOut::F32(&mut g), None, 0).is_err());
    assert!(cross_entropy_f32(&z, 3, &[0, 1], &o, GradOut::F32(&mut g), Some(&mut [0.0; 3]), 1).is_err());
    let mut zz = z;
    assert!(cross_entropy_f32_inplace(&mut zz, 3, &[0, 9], &o, None, 1).is_err());
    let bad_q = [0.5f32, -0.5, 1.0, 0.0, 0.0, 1.0];
    assert!(matches!(
        cross_entropy_probs_f32(&z, 3, &bad_q, &o, GradOut::F32(&mut g), None, 1),
        Err(crate::Error::InvalidValue { index: Some(1), .. })
    ));
}

/// Element-wise: the kernels against the reference losses (f64 on widened inputs).
#[test]
fn elementwise_kernels_match_the_reference_losses() {
    let strat = (1usize..80).prop_flat_map(|n| {
        (
            proptest::collection::vec(
                prop_oneof![8 => -20.0f32..20.0, 1 => Just(f32::INFINITY), 1 => Just(f32::NEG_INFINITY)],
                n,
            ),
            proptest::collection::vec(0.0f32..1.0, n),
            proptest::option::of(proptest::collection::vec(prop_oneof![3 => 0.0f32..2.0, 1 => Just(0.0)], n)),
            proptest::option::of(proptest::collection::vec(any::<bool>(), n)),
            prop_oneof![Just(Reduction::Mean), Just(Reduction::Sum), Just(Reduction::None)],
            1usize..=4,
        )
    });
    runner(64)
        .run(&strat, |(x, t, w, m, reduction, threads)| {
            let n = x.len();
            let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let t64: Vec<f64> = t.iter().map(|&v| f64::from(v)).collect();
            let w64: Option<Vec<f64>> = w.as_ref().map(|w| w.iter().map(|&v| f64::from(v)).collect());
            let o64 = Options { reduction, weight: w64.as_deref(), mask: m.as_deref() };
            let o32 = Options { reduction, weight: w.as_deref(), mask: m.as_deref() };
            let pw = [0.5f32, 2.0];
            let pw64 = [0.5f64, 2.0];
            let pw_ok = n % 2 == 0;
            for kind in 0..5 {
                let want = match kind {
                    0 => loss::mse(&x64, &t64, &o64),
                    1 => loss::l1(&x64, &t64, &o64),
                    2 => loss::huber(&x64, &t64, 1.5, &o64),
                    3 => loss::sigmoid_binary_cross_entropy(&x64, &t64, None, &o64),
                    _ => loss::sigmoid_binary_cross_entropy(&x64, &t64, pw_ok.then_some(&pw64[..]), &o64),
                }
                .unwrap();
                for scalar in [false, true] {
                    let mut g = vec![f32::NAN; n];
                    let mut per = vec![f32::NAN; n];
                    let (k, pwk) = match kind {
                        0 => (elementwise::Kind::Mse, None),
                        1 => (elementwise::Kind::L1, None),
                        2 => (elementwise::Kind::Huber(1.5), None),
                        3 => (elementwise::Kind::Bce, None),
                        _ => (elementwise::Kind::Bce, pw_ok.then_some(&pw[..])),
                    };
                    let got =
                        elem_entry(k, &x, &t, pwk, &o32, &mut g, Some(&mut per), threads, scalar).unwrap();
                    let close32 = |a: f32, b: f64| {
                        a as f64 == b
                            || (a.is_nan() && b.is_nan())
                            || (f64::from(a) - b).abs() <= 2e-5 * b.abs().max(1.0)
                    };
                    prop_assert!(close32(got.value, want.value), "{kind}: {} vs {}", got.value, want.value);
                    for i in 0..n {
                        prop_assert!(
                            close32(per[i], want.per_element[i]),
                            "{kind} per {i}: {} vs {}",
                            per[i],
                            want.per_element[i]
                        );
                        prop_assert!(
                            close32(g[i], want.grad[i]),
                            "{kind} grad {i}: {} vs {}",
                            g[i],
                            want.grad[i]
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn elementwise_gradients_match_central_differences() {
    // The kernels' f32 gradients against central differences of the f64 reference value.
    let x =
        [0.3f32, -1.2, 2.5, 7.0, -0.1, 15.0, -30.0, 0.8, 1.1, -2.2, 0.6, 3.3, -4.4, 5.5, 0.25, -0.75, 1.9];
    let t: Vec<f32> = (0..x.len()).map(|i| (i % 4) as f32 / 3.0).collect();
    let w: Vec<f32> = (0..x.len()).map(|i| 0.5 + (i % 3) as f32).collect();
    let t64: Vec<f64> = t.iter().map(|&v| f64::from(v)).collect();
    let w64: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let o = Options::<f32>::mean().weight(&w);
    let o64 = Options::<f64>::mean().weight(&w64);
    for kind in 0..4 {
        let mut g = vec![0f32; x.len()];
        match kind {
            0 => mse_f32(&x, &t, &o, &mut g, None, 2),
            1 => l1_f32(&x, &t, &o, &mut g, None, 2),
            2 => huber_f32(&x, &t, 1.0, &o, &mut g, None, 2),
            _ => sigmoid_bce_f32(&x, &t, Some(&[2.0]), &o, &mut g, None, 2),
        }
        .unwrap();
        let value = |z: &[f64]| {
            match kind {
                0 => loss::mse(z, &t64, &o64),
                1 => loss::l1(z, &t64, &o64),
                2 => loss::huber(z, &t64, 1.0, &o64),
                _ => loss::sigmoid_binary_cross_entropy(z, &t64, Some(&[2.0]), &o64),
            }
            .unwrap()
            .value
        };
        let g64: Vec<f64> = g.iter().map(|&v| f64::from(v)).collect();
        crate::loss::testing::check_grad_fd(&x64, &g64, value, 1e-5);
    }
}

#[test]
fn elementwise_errors_and_fully_masked() {
    let mut g = [1f32; 3];
    assert!(mse_f32(&[1.0, 2.0, 3.0], &[1.0, 2.0], &Options::mean(), &mut g, None, 1).is_err());
    assert!(mse_f32(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], &Options::mean(), &mut g[..2], None, 1).is_err());
    assert!(huber_f32(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 0.0, &Options::mean(), &mut g, None, 1).is_err());
    assert!(
        sigmoid_bce_f32(&[1.0, 2.0, 3.0], &[1.0, 2.0, 0.0], None, &Options::mean(), &mut g, None, 1).is_err()
    );
    assert!(
        sigmoid_bce_f32(
            &[1.0, 2.0, 3.0],
            &[1.0, 0.0, 0.0],
            Some(&[1.0, -1.0, 1.0]),
            &Options::mean(),
            &mut g,
            None,
            1
        )
        .is_err()
    );
    assert!(
        l1_f32(&[1.0; 3], &[1.0; 3], &Options::with_reduction(Reduction::BatchMean), &mut g, None, 1)
            .is_err()
    );
    let m = [false; 3];
    let out = l1_f32(&[1.0, 5.0, 3.0], &[0.0; 3], &Options::mean().mask(&m), &mut g, None, 3).unwrap();
    assert_eq!((out.value, g), (0.0, [0.0; 3]));
}

#[test]
fn rows_whose_maximum_lies_beyond_the_guess_are_redone_exactly() {
    // The shift guess is the maximum of the first 256 logits; a much larger logit further on
    // overflows the one-pass sum, and the row is redone from its true maximum (or, with NaN or
    // +inf there, by the scalar path).
    let v = 300;
    let mut z = vec![0.25f32; 4 * v];
    z[280] = 120.0; // e^{120 − 0.25} overflows f32
    z[v + 290] = f32::INFINITY;
    z[2 * v + 299] = f32::NAN;
    z[3 * v + 270] = 60.0; // no overflow: the one pass stands
    let y = [280i64, 290, 3, 5];
    for (bf, out) in [(false, Out::F32), (true, Out::Bf16), (false, Out::InPlace)] {
        for threads in [1, 3] {
            let o = CrossEntropyOptions::<f32>::with_reduction(Reduction::None).label_smoothing(0.1);
            let (_, per, g) = run_class(&z, bf, v, &y, &o, out, threads, Plan::Rows, false);
            let o64 = CrossEntropyOptions::<f64>::with_reduction(Reduction::None)
                .label_smoothing(f64::from(0.1f32));
            let want = reference(&z, v, &y, &o64);
            for i in [0, 1, 3] {
                let (a, b) = (f64::from(per[i]), want.per_element[i]);
                assert!(a == b || (a - b).abs() <= 1e-4 * b.abs().max(1.0), "{i}: {a} vs {b}");
                for c in 0..v {
                    let (a, b) = (g[i * v + c], want.grad[i * v + c]);
                    assert!((a - b).abs() <= 8e-3 * b.abs() + 1e-6, "row {i} class {c}: {a} vs {b}");
                }
            }
            assert!(per[2].is_nan());
        }
    }
}

#[test]
fn confident_rows_have_a_nonnegative_loss_and_one_class_exactly_zero() {
    // The target holds the row's maximum by `lead` (0: every logit equal to it; V = 1: the only
    // class), away from and at the shifts the pipelined loop rounds to. −log p_y ≥ 0 always;
    // without smoothing, with one class or the others below the exponential's range, it is
    // exactly 0.
    let o64 = CrossEntropyOptions { reduction: Reduction::None, ..Default::default() };
    let smoothed = CrossEntropyOptions { label_smoothing: 0.1, ..o64 };
    for o in [&o64, &smoothed] {
        let o32 = opts32(o, &None);
        for v in [1usize, 2, 3, 16, 17, 33, 300, 5000] {
            for (base, lead) in [(20.0f32, 0.0f32), (0.3, 30.0), (20.0, 20.0), (-7.1, 100.0), (61.7, 1e4)] {
                let mut z = vec![base; v];
                z[v / 2] = base + lead;
                let y = [(v / 2) as i64];
                let want = reference(&z, v, &y, o).value;
                for plan in [Plan::Auto, Plan::Rows, Plan::TwoPass, Plan::Split] {
                    for scalar in [false, true] {
                        let (_, per, _) = run_class(&z, false, v, &y, &o32, Out::F32, 2, plan, scalar);
                        let what = format!(
                            "V {v}, z_y = {base} + {lead}, ε {}, {plan:?}, scalar {scalar}",
                            o.label_smoothing
                        );
                        assert!(per[0] >= 0.0, "{what}: loss {:e} < 0", per[0]);
                        assert!(close(f64::from(per[0]), want, 1e-6), "{what}: {} vs {want}", per[0]);
                        if (v == 1 || lead >= 100.0) && o.label_smoothing == 0.0 {
                            assert_eq!(per[0], 0.0, "{what}");
                        }
                    }
                }
            }
        }
    }
}
