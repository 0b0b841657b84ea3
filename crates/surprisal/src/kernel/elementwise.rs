//! Fused element-wise losses: value and gradient in one vectorised pass over (input, target), with
//! the weights, mask and reduction of [`crate::loss::Options`] applied in the same pass.
//!
//! ```text
//! mse      ℓ = r²                        g = 2r                          r = x − y
//! l1       ℓ = |r|                       g = sign(r)  (0 at r = 0)
//! huber    ℓ = ½r² (|r| < δ), δ(|r| − ½δ)  g = clamp(r, −δ, δ)
//! bce      ℓ = pw·y·softplus(−x) + (1 − y)·softplus(x)
//!          g = (1 − y)·σ(x) − pw·y·σ(−x)
//!          softplus(±x) = max(±x, 0) + log1p(e^{−|x|}),  σ from the same u = e^{−|x|}
//! ```
//!
//! An element masked out or of weight 0 contributes exactly 0 to the value and the gradient
//! (even where its loss is infinite or NaN); `mean` divides by the number of elements kept by the
//! mask; a fully masked batch gives 0 and a zero gradient. These are the policies of
//! [`crate::loss::mse()`], [`crate::loss::l1()`], [`crate::loss::huber()`] and
//! [`crate::loss::sigmoid_binary_cross_entropy()`], which are the reference implementations.

use super::cross_entropy::W;
use super::exp::{exp, log1p_unit};
use super::threads::{SendPtr, run_blocks};
use multiversion::multiversion;
use multiversion::target::target_cfg_f;

/// Which element-wise loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Mse,
    L1,
    Huber(f32),
    Bce,
}

/// Inputs of one call (validated).
#[derive(Clone, Copy)]
pub(crate) struct Elem<'a> {
    pub kind: Kind,
    pub x: &'a [f32],
    pub t: &'a [f32],
    pub pos_weight: Option<&'a [f32]>,
    pub weight: Option<&'a [f32]>,
    pub mask: Option<&'a [bool]>,
    /// The reduction factor.
    pub k: f32,
    /// Run the portable body instead of the dispatched one.
    pub scalar: bool,
}

/// (ℓ, ∂ℓ/∂x) of one element.
#[inline(always)]
fn lane<const FMA: bool>(kind: Kind, x: f32, t: f32, pw: f32) -> (f32, f32) {
    match kind {
        Kind::Mse => {
            let r = x - t;
            (r * r, 2.0 * r)
        }
        Kind::L1 => {
            let r = x - t;
            let g = if r > 0.0 {
                1.0
            } else if r < 0.0 {
                -1.0
            } else {
                r * 0.0
            };
            (r.abs(), g)
        }
        Kind::Huber(delta) => {
            let r = x - t;
            let z = r.abs();
            let l = if z < delta { 0.5 * r * r } else { delta * (z - 0.5 * delta) };
            let g = if r < -delta {
                -delta
            } else if r > delta {
                delta
            } else {
                r
            };
            (l, g)
        }
        Kind::Bce => {
            let u = exp::<FMA>(-x.abs());
            let lp = log1p_unit::<FMA>(u);
            let sp_pos = x.max(0.0) + lp; // softplus(x)
            let sp_neg = (-x).max(0.0) + lp; // softplus(−x)
            let a = pw * t;
            let c = 1.0 - t;
            let l = (if a == 0.0 { 0.0 } else { a * sp_neg }) + if c == 0.0 { 0.0 } else { c * sp_pos };
            let inv = 1.0 / (1.0 + u);
            let (sig_pos, sig_neg) = if x >= 0.0 { (inv, u * inv) } else { (u * inv, inv) };
            (l, c * sig_pos - a * sig_neg)
        }
    }
}

/// One block of elements `lo..hi`; returns Σ of the weighted losses (f64).
///
/// # Safety
/// `grad` valid for writes at `lo..hi`, `per` null or valid there.
#[inline(always)]
unsafe fn body<const FMA: bool>(e: &Elem<'_>, lo: usize, hi: usize, grad: *mut f32, per: *mut f32) -> f64 {
    let n = e.x.len();
    let pw_at = |i: usize| e.pos_weight.map_or(1.0, |p| if p.len() == n { p[i] } else { p[i % p.len()] });
    let w_at = |i: usize| {
        let keep = e.mask.is_none_or(|m| m[i]);
        let w = e.weight.map_or(1.0, |w| w[i]);
        if keep { w } else { 0.0 }
    };
    let mut total = 0f64;
    let mut i = lo;
    while i + W <= hi {
        let x: &[f32; W] = e.x[i..i + W].try_into().unwrap_or_else(|_| unreachable!());
        let t: &[f32; W] = e.t[i..i + W].try_into().unwrap_or_else(|_| unreachable!());
        let mut pw = [1f32; W];
        if let Some(p) = e.pos_weight {
            if p.len() == n {
                pw.copy_from_slice(&p[i..i + W]);
            } else {
                pw = std::array::from_fn(|j| pw_at(i + j));
            }
        }
        let mut c = [1f32; W];
        if let Some(w) = e.weight {
            c.copy_from_slice(&w[i..i + W]);
        }
        if let Some(m) = e.mask {
            for j in 0..W {
                c[j] = if m[i + j] { c[j] } else { 0.0 };
            }
        }
        let mut l = [0f32; W];
        let mut g = [0f32; W];
        for j in 0..W {
            let (lj, gj) = lane::<FMA>(e.kind, x[j], t[j], pw[j]);
            let keep = c[j] != 0.0;
            l[j] = if keep { c[j] * lj } else { 0.0 };
            g[j] = if keep { e.k * (c[j] * gj) } else { 0.0 };
        }
        // SAFETY: i..i + W lies in the caller's range.
        unsafe {
            grad.add(i).cast::<[f32; W]>().write_unaligned(g);
            if !per.is_null() {
                per.add(i).cast::<[f32; W]>().write_unaligned(l);
            }
        }
        total += f64::from(l.iter().sum::<f32>());
        i += W;
    }
    for i in i..hi {
        let c = w_at(i);
        let (l, g) = lane::<FMA>(e.kind, e.x[i], e.t[i], pw_at(i));
        let (l, g) = if c != 0.0 { (c * l, e.k * (c * g)) } else { (0.0, 0.0) };
        // SAFETY: i lies in the caller's range.
        unsafe {
            grad.add(i).write(g);
            if !per.is_null() {
                per.add(i).write(l);
            }
        }
        total += f64::from(l);
    }
    total
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn dispatch(e: &Elem<'_>, lo: usize, hi: usize, grad: SendPtr<f32>, per: SendPtr<f32>) -> f64 {
    // SAFETY: the driver hands each thread its own range of both buffers.
    unsafe {
        if target_cfg_f!(target_feature = "fma") {
            body::<true>(e, lo, hi, grad.0, per.0)
        } else {
            body::<false>(e, lo, hi, grad.0, per.0)
        }
    }
}

/// Runs the kernel over all elements on `threads` threads (contiguous blocks); returns the sum of
/// the weighted losses, the blocks' partial sums added in thread order.
pub(crate) fn run(e: &Elem<'_>, grad: &mut [f32], per: Option<&mut [f32]>, threads: usize) -> f64 {
    let n = e.x.len();
    let g = SendPtr(grad.as_mut_ptr());
    let p = SendPtr(per.map_or(std::ptr::null_mut(), |p| p.as_mut_ptr()));
    let parts = run_blocks(n, threads, |_, r| {
        if e.scalar {
            // SAFETY: the blocks are disjoint and inside both buffers.
            unsafe { body::<false>(e, r.start, r.end, g.get(), p.get()) }
        } else {
            dispatch(e, r.start, r.end, g, p)
        }
    });
    parts.iter().sum()
}
