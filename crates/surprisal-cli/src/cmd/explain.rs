//! `surprisal explain LOSS`: the model a loss is the negative log-likelihood of (family, link,
//! fixed parameters), the exact affine map loss = scale·NLL + shift (or its expected-NLL form, or
//! why the loss is no NLL), its gradient with respect to the raw output, and a numeric check on
//! seeded points computed through the library. Three losses add a classic demonstration:
//! `mse` (squared error vs the Gaussian NLL at the MLE σ), `softmax_cross_entropy_probs` and
//! `kl_div` (cross-entropy = entropy + KL), `sigmoid_binary_cross_entropy` (the gradient of a
//! squared error through a sigmoid vanishes for confidently wrong logits; the cross-entropy's
//! does not).

use crate::error::{CliError, CliResult};
use clap::Args;
use serde_json::{Value, json};
use surprisal::loss::catalogue::{NamedLoss, Target, lookup};
use surprisal::loss::{Likelihood, Shift};

/// Arguments of `surprisal explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The loss's name (see `surprisal losses`).
    #[arg(value_parser = crate::input::choice_name)]
    pub loss: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seed of the generated demonstration points.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Also draw a plot (`.png` or `.svg`): for `sigmoid_binary_cross_entropy` and `mse`, the
    /// gradients of the squared error through a sigmoid and of the cross-entropy over logits
    /// −10..10 (y = 0); for the other losses, the loss and scale·NLL + shift over a range of the
    /// first output (the two curves overlap).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<String>,
}

/// The gradient of each loss with respect to its raw output, as in the loss's module docs.
pub fn gradient_formula(name: &str) -> &'static str {
    match name {
        "mse" => "∂ℓ/∂x = 2(x − y)",
        "l1" => "∂ℓ/∂x = sign(x − y)   (0 at x = y)",
        "huber" => "∂ℓ/∂x = clamp(x − y, −δ, δ)",
        "smooth_l1" => "∂ℓ/∂x = clamp(x − y, −β, β)/β",
        "log_cosh" => "∂ℓ/∂x = tanh(x − y)",
        "pinball" => "∂ℓ/∂x = 1{y < x} − τ   (½ − τ at y = x)",
        "gaussian_nll" => "∂ℓ/∂x = (x − y)/v̄,   ∂ℓ/∂v = ½(1/v̄ − (x − y)²/v̄²),   v̄ = max(v, eps)",
        "student_t_nll" => {
            "∂ℓ/∂μ = −(ν+1) z/(σ(ν + z²)),   ∂ℓ/∂σ = (1 − (ν+1) z²/(ν + z²))/σ,   z = (y − μ)/σ"
        }
        "poisson_nll" => "∂ℓ/∂x = eˣ − y   (log input; 1 − y/(x + eps) for a rate input)",
        "poisson_deviance" => "∂d/∂η = 2(μ − y),   μ = e^η",
        "gamma_deviance" => "∂d/∂η = 2(1 − y/μ),   μ = e^η",
        "tweedie_deviance" => "∂d/∂η = 2·μ^{1−p}·(μ − y),   μ = e^η",
        "sigmoid_binary_cross_entropy" => "∂ℓ/∂x = σ(x) − y = p − y",
        "binary_cross_entropy" => "∂ℓ/∂p = (p − y)/max(p(1 − p), 1e−12)",
        "sigmoid_focal" => {
            "∂ℓ/∂x = (2y − 1)·α_t (1 − p_t)^γ [γ p_t log p_t − (1 − p_t)],   p_t = p if y = 1 else 1 − p"
        }
        "softmax_cross_entropy" => "∂ℓ/∂x_c = p_c − 1{c = y},   p = softmax(x)",
        "softmax_cross_entropy_smoothed" => "∂ℓ/∂x_c = p_c − q_c,   q = (1 − ε)·onehot(y) + ε/C",
        "softmax_cross_entropy_probs" => "∂ℓ/∂x_c = p_c − q_c,   p = softmax(x)",
        "nll" => "∂ℓ/∂(log p_c) = −1{c = y}",
        "kl_div" => "∂ℓ/∂(log p_c) = −q_c",
        "distillation" => "∂ℓ/∂x_c = T·(p_c − q_c),   p = softmax(x/T), q = softmax(teacher/T)",
        _ => "(see the loss's documentation)",
    }
}

/// SplitMix64 uniforms in [0, 1).
struct Uniforms(u64);

impl Uniforms {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    fn four(&mut self) -> [f64; 4] {
        [self.next(), self.next(), self.next(), self.next()]
    }
}

/// A shift as text after a plus sign (a negative constant as `− c`).
fn shift_text(s: &Shift) -> String {
    match s {
        Shift::Constant(c) if *c < 0.0 => format!("−{}", -c),
        Shift::Constant(c) => format!("{c}"),
        Shift::PerTarget { formula, .. } => formula.to_string(),
        Shift::PerTargetWith { formula, name, param, .. } => format!("{formula}   ({name} = {param})"),
    }
}

/// The shift as the last term of the map's sum: `+ s`, `− s` for a negative one, nothing for 0.
fn plus_shift(shift: &str) -> String {
    match shift.strip_prefix('−') {
        _ if shift == "0" => String::new(),
        Some(rest) => format!(" − {rest}"),
        None => format!(" + {shift}"),
    }
}

/// The fixed parameters as further arguments of the NLL: `, scale = 1`, or nothing.
fn fixed_args(fixed: &[(&str, f64)]) -> String {
    fixed.iter().map(|(n, v)| format!(", {n} = {v}")).collect()
}

fn fixed_text(fixed: &[(&str, f64)]) -> String {
    if fixed.is_empty() {
        return "none".into();
    }
    fixed.iter().map(|(n, v)| format!("{n} = {v}")).collect::<Vec<_>>().join(", ")
}

fn target_json(t: &Target) -> Value {
    match t {
        Target::Value(y) => json!(y),
        Target::Distribution(q) => json!(q),
    }
}

/// One demonstration point: outputs, target, loss, NLL (or E_q NLL), the map's value, difference.
fn points(entry: &NamedLoss, seed: u64, n: usize) -> Vec<Value> {
    let mut u = Uniforms(seed);
    let mut out = Vec::new();
    for _ in 0..n {
        let (o, t) = (entry.sample)(u.four());
        let loss = (entry.evaluate)(&o, &t);
        let nll = match (&entry.likelihood, &t) {
            (Likelihood::Nll(m), Target::Value(y)) => Some((m.nll)(&o, *y)),
            (Likelihood::ExpectedNll(m), Target::Distribution(q)) => Some((m.expected_nll)(&o, q)),
            _ => None,
        };
        let mapped = entry.declared(&o, &t);
        out.push(json!({
            "outputs": o,
            "target": target_json(&t),
            "loss": loss,
            "nll": nll,
            "map": mapped,
            "difference": mapped.map(|m| loss - m),
        }));
    }
    out
}

fn model_json(entry: &NamedLoss) -> Value {
    match &entry.likelihood {
        Likelihood::Nll(m) => json!({
            "kind": "nll",
            "family": m.family,
            "link": m.link.name(),
            "fixed": fixed_text(&m.fixed),
            "scale": m.scale,
            "shift": shift_text(&m.shift),
            "map": format!("loss = {}·NLL_{}(y | {}{}){}", m.scale, m.family, m.link.mean_formula("x"), fixed_args(&m.fixed), plus_shift(&shift_text(&m.shift))),
        }),
        Likelihood::ExpectedNll(m) => json!({
            "kind": "expected_nll",
            "family": m.family,
            "link": m.link.name(),
            "fixed": fixed_text(&m.fixed),
            "scale": m.scale,
            "shift": m.shift_formula,
            "map": format!("loss = {}·E_{{y∼q}}[NLL_{}(y | {}{})]{}", m.scale, m.family, m.link.mean_formula("x"), fixed_args(&m.fixed), plus_shift(m.shift_formula)),
        }),
        Likelihood::NotNll { why } => json!({"kind": "not_nll", "why": why}),
    }
}

/// `mse`: on seeded data, the mean squared error of predictions and the mean Gaussian NLL at the
/// MLE σ̂² = MSE (through the Normal family), which is ½ log(2π e·MSE), increasing in the MSE.
fn demo_mse(seed: u64) -> CliResult<Value> {
    use surprisal::family::{Family, Normal};
    let mut u = Uniforms(seed ^ 0x5eed);
    let n = 200;
    // y = 1 + 2x + noise (Box–Muller), predictions ŷ = 1 + 2x.
    let mut y = Vec::with_capacity(n);
    let mut yhat = Vec::with_capacity(n);
    for _ in 0..n {
        let x = u.next() * 4.0;
        let (u1, u2) = (u.next().max(1e-300), u.next());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        yhat.push(1.0 + 2.0 * x);
        y.push(1.0 + 2.0 * x + 0.7 * z);
    }
    let opts = surprisal::loss::Options::with_reduction(surprisal::loss::Reduction::Mean);
    let mse = surprisal::loss::mse(&yhat, &y, &opts).map_err(|e| CliError::library("mse", e))?.value;
    let sigma = mse.sqrt();
    let mut nll = 0.0;
    for (m, t) in yhat.iter().zip(&y) {
        let d = Normal::new(*m, sigma).map_err(|e| CliError::library("normal", e))?;
        nll -= d.log_prob(*t);
    }
    nll /= n as f64;
    let closed = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * mse).ln();
    Ok(json!({
        "n": n,
        "mse": mse,
        "sigma_mle": sigma,
        "mean_gaussian_nll": nll,
        "half_log_2_pi_e_mse": closed,
        "difference": nll - closed,
    }))
}

/// Cross-entropy = entropy + KL on a seeded (q, p = softmax(x)), the losses through the catalogue
/// and the three quantities through `divergence::discrete_information`.
fn demo_cross_entropy(seed: u64) -> CliResult<Value> {
    use surprisal::divergence::{Base, Normalization, discrete_information};
    let mut u = Uniforms(seed ^ 0xce);
    let logits: Vec<f64> = (0..4).map(|_| (u.next() - 0.5) * 6.0).collect();
    let w: Vec<f64> = (0..4).map(|_| 0.05 + u.next()).collect();
    let s: f64 = w.iter().sum();
    let q: Vec<f64> = w.iter().map(|v| v / s).collect();
    let mut logp = vec![0.0; 4];
    surprisal::num::log_softmax(&logits, &mut logp).map_err(|e| CliError::library("log_softmax", e))?;
    let p: Vec<f64> = logp.iter().map(|v| v.exp()).collect();
    let info = discrete_information(&q, &p, Base::Nats, Normalization::default())
        .map_err(|e| CliError::library("discrete_information", e))?;
    let ce_entry = lookup("softmax_cross_entropy_probs").expect("in the catalogue");
    let kl_entry = lookup("kl_div").expect("in the catalogue");
    let ce_loss = (ce_entry.evaluate)(&logits, &Target::Distribution(q.clone()));
    let kl_loss = (kl_entry.evaluate)(&logp, &Target::Distribution(q.clone()));
    Ok(json!({
        "logits": logits,
        "p": p,
        "q": q,
        "entropy_q": info.entropy,
        "cross_entropy": info.cross_entropy,
        "kl_q_p": info.kl,
        "softmax_cross_entropy_probs_loss": ce_loss,
        "kl_div_loss": kl_loss,
        "entropy_plus_kl_minus_cross_entropy": info.entropy + info.kl - info.cross_entropy,
        "loss_difference": ce_loss - (info.entropy + kl_loss),
    }))
}

/// For y = 0 and logits −10..10: the gradient of ½(σ(x) − y)² (through the library's mse) is
/// (p − y)·p(1 − p), the cross-entropy's (through the library) is p − y.
fn demo_sigmoid(y: f64) -> CliResult<Value> {
    let sum = surprisal::loss::Options::with_reduction(surprisal::loss::Reduction::Sum);
    let mut rows = Vec::new();
    for k in -5..=5 {
        let x = 2.0 * k as f64;
        let p = surprisal::num::sigmoid(x);
        let m = surprisal::loss::mse(&[p], &[y], &sum).map_err(|e| CliError::library("mse", e))?;
        let mse_grad = 0.5 * m.grad[0] * p * (1.0 - p);
        let b = surprisal::loss::sigmoid_binary_cross_entropy::<f64, f64>(&[x], &[y], None, &sum)
            .map_err(|e| CliError::library("sigmoid_binary_cross_entropy", e))?;
        rows.push(json!({"logit": x, "p": p, "mse_grad": mse_grad, "bce_grad": b.grad[0]}));
    }
    Ok(json!({"target": y, "rows": rows}))
}

/// The gradients of `demo_sigmoid` on a fine grid of logits −10..10 (401 points), through the
/// library: ((p − y)·p(1 − p) from the mse's gradient, p − y from the cross-entropy's).
fn sigmoid_gradient_curves(y: f64) -> CliResult<Vec<crate::plot::Series>> {
    let sum = surprisal::loss::Options::with_reduction(surprisal::loss::Reduction::Sum);
    let xs: Vec<f64> = (0..=400).map(|k| -10.0 + 0.05 * k as f64).collect();
    let p: Vec<f64> = xs.iter().map(|&x| surprisal::num::sigmoid(x)).collect();
    let ys = vec![y; xs.len()];
    let m = surprisal::loss::mse(&p, &ys, &sum).map_err(|e| CliError::library("mse", e))?;
    let b = surprisal::loss::sigmoid_binary_cross_entropy::<f64, f64>(&xs, &ys, None, &sum)
        .map_err(|e| CliError::library("sigmoid_binary_cross_entropy", e))?;
    let mse: Vec<(f64, f64)> =
        xs.iter().zip(&p).zip(&m.grad).map(|((&x, &p), &g)| (x, 0.5 * g * p * (1.0 - p))).collect();
    let bce: Vec<(f64, f64)> = xs.iter().zip(&b.grad).map(|(&x, &g)| (x, g)).collect();
    Ok(vec![
        ("cross-entropy (Bernoulli NLL): p − y".to_string(), bce),
        ("squared error through a sigmoid: (p − y)·p(1 − p)".to_string(), mse),
    ])
}

/// The loss and its declared scale·NLL + shift as the first output sweeps the range the loss's
/// sampler gives it, the other outputs and the target held at a seeded point.
fn loss_curves(entry: &NamedLoss, seed: u64) -> Vec<crate::plot::Series> {
    let mut u = Uniforms(seed);
    let base = u.four();
    let (outputs, target) = (entry.sample)(base);
    let firsts: Vec<f64> = (0..=200)
        .map(|k| {
            let mut v = base;
            v[0] = 0.0025 + 0.995 * k as f64 / 200.0;
            (entry.sample)(v).0[0]
        })
        .filter(|x| x.is_finite())
        .collect();
    let lo = firsts.iter().copied().fold(outputs[0], f64::min);
    let hi = firsts.iter().copied().fold(outputs[0], f64::max);
    let (lo, hi) = if hi > lo { (lo, hi) } else { (outputs[0] - 1.0, outputs[0] + 1.0) };
    let mut loss = Vec::new();
    let mut map = Vec::new();
    for k in 0..=400 {
        let x = lo + (hi - lo) * k as f64 / 400.0;
        let mut o = outputs.clone();
        o[0] = x;
        loss.push((x, (entry.evaluate)(&o, &target)));
        if let Some(m) = entry.declared(&o, &target) {
            map.push((x, m));
        }
    }
    let mut series = vec![(format!("{} loss", entry.name), loss)];
    if let Likelihood::Nll(m) = &entry.likelihood {
        series.push((format!("{}·NLL_{} + shift", m.scale, m.family), map));
    } else if let Likelihood::ExpectedNll(m) = &entry.likelihood {
        series.push((format!("{}·E_q[NLL_{}] + shift", m.scale, m.family), map));
    }
    series
}

/// Draws the `--plot` of `surprisal explain`.
fn plot(path: &str, entry: &NamedLoss, seed: u64) -> CliResult<()> {
    if matches!(entry.name, "sigmoid_binary_cross_entropy" | "mse") {
        return crate::plot::line_plot(
            path,
            "Gradient w.r.t. the logit x, target y = 0, p = σ(x)",
            "logit x",
            "∂loss/∂x",
            &sigmoid_gradient_curves(0.0)?,
        );
    }
    let title = match &entry.likelihood {
        Likelihood::NotNll { .. } => format!("{} (declares no likelihood)", entry.name),
        _ => format!("{}: the loss is scale·NLL + shift", entry.name),
    };
    crate::plot::line_plot(path, &title, "first raw output", "loss", &loss_curves(entry, seed))
}

/// Runs `surprisal explain`.
pub fn run(a: &ExplainArgs) -> CliResult<()> {
    let Some(entry) = lookup(&a.loss) else {
        let names: Vec<&str> = surprisal::loss::catalogue().iter().map(|l| l.name).collect();
        return Err(CliError::Usage(format!("unknown loss `{}` (losses: {})", a.loss, names.join(", "))));
    };
    if let Some(p) = &a.plot {
        crate::plot::format_of(p)?;
        plot(p, &entry, a.seed)?;
    }
    let model = model_json(&entry);
    let pts = if matches!(entry.likelihood, Likelihood::NotNll { .. }) {
        Vec::new()
    } else {
        points(&entry, a.seed, 5)
    };
    let demo = match entry.name {
        "mse" => Some(("mse_vs_gaussian_nll", demo_mse(a.seed)?)),
        "softmax_cross_entropy_probs" | "kl_div" => {
            Some(("cross_entropy_entropy_kl", demo_cross_entropy(a.seed)?))
        }
        "sigmoid_binary_cross_entropy" => Some(("sigmoid_gradients", demo_sigmoid(0.0)?)),
        _ => None,
    };
    if a.json {
        let mut doc = json!({
            "loss": entry.name,
            "summary": entry.summary,
            "settings": entry.settings,
            "model": model,
            "gradient": gradient_formula(entry.name),
            "points": pts,
        });
        if let Some((k, v)) = &demo {
            doc[*k] = v.clone();
        }
        outln!("{}", serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings"))?;
        return Ok(());
    }
    outln!("{}: {}", entry.name, entry.summary)?;
    if !entry.settings.is_empty() {
        outln!("settings: {}", entry.settings)?;
    }
    outln!()?;
    match &entry.likelihood {
        Likelihood::Nll(_) | Likelihood::ExpectedNll(_) => {
            outln!(
                "model     family {}, link {}, fixed {}",
                model["family"].as_str().unwrap_or(""),
                model["link"].as_str().unwrap_or(""),
                model["fixed"].as_str().unwrap_or("")
            )?;
            outln!("map       {}", model["map"].as_str().unwrap_or(""))?;
            outln!("          so minimising the loss is maximum likelihood under this model.")?;
        }
        Likelihood::NotNll { why } => {
            outln!("not an NLL: {why}")?;
        }
    }
    outln!("gradient  {}", gradient_formula(entry.name))?;
    if !pts.is_empty() {
        outln!()?;
        outln!("check on seeded points (seed {}), computed through the library:", a.seed)?;
        outln!(
            "{:<34} {:<26} {:>14} {:>14} {:>14} {:>10}",
            "outputs",
            "target",
            "loss",
            "NLL",
            "scale·NLL+shift",
            "diff"
        )?;
        for p in &pts {
            let fmt_vec = |v: &Value| -> String {
                match v {
                    Value::Array(xs) => {
                        let s: Vec<String> =
                            xs.iter().map(|x| format!("{:.3}", x.as_f64().unwrap_or(f64::NAN))).collect();
                        format!("[{}]", s.join(", "))
                    }
                    v => format!("{:.3}", v.as_f64().unwrap_or(f64::NAN)),
                }
            };
            let num = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.6}"));
            outln!(
                "{:<34} {:<26} {:>14} {:>14} {:>14} {:>10}",
                fmt_vec(&p["outputs"]),
                fmt_vec(&p["target"]),
                num(&p["loss"]),
                num(&p["nll"]),
                num(&p["map"]),
                p["difference"].as_f64().map_or("-".to_string(), |x| format!("{x:.1e}"))
            )?;
        }
    }
    if let Some((kind, d)) = &demo {
        outln!()?;
        let f = |k: &str| d[k].as_f64().unwrap_or(f64::NAN);
        match *kind {
            "mse_vs_gaussian_nll" => {
                outln!(
                    "MSE vs the Gaussian NLL at the MLE σ (n = {}, y = 1 + 2x + noise, ŷ = 1 + 2x):",
                    d["n"]
                )?;
                outln!("  MSE                              {:.6}", f("mse"))?;
                outln!("  σ̂ = √MSE (the MLE of σ)          {:.6}", f("sigma_mle"))?;
                outln!("  mean Gaussian NLL at σ̂           {:.6}", f("mean_gaussian_nll"))?;
                outln!(
                    "  ½ log(2π e · MSE)                {:.6}   (difference {:.1e})",
                    f("half_log_2_pi_e_mse"),
                    f("difference")
                )?;
                outln!("  the profile NLL is increasing in the MSE: least squares is maximum likelihood.")?;
            }
            "cross_entropy_entropy_kl" => {
                outln!("cross-entropy = entropy + KL (q a target distribution, p = softmax(x)):")?;
                outln!("  H(q)                             {:.6}", f("entropy_q"))?;
                outln!(
                    "  KL(q ‖ p)                        {:.6}   (kl_div loss: {:.6})",
                    f("kl_q_p"),
                    f("kl_div_loss")
                )?;
                outln!(
                    "  H(q, p)                          {:.6}   (softmax_cross_entropy_probs loss: {:.6})",
                    f("cross_entropy"),
                    f("softmax_cross_entropy_probs_loss")
                )?;
                outln!(
                    "  H(q) + KL − H(q, p)              {:.1e}",
                    f("entropy_plus_kl_minus_cross_entropy")
                )?;
                outln!(
                    "  H(q) does not depend on the model: minimising the cross-entropy minimises the KL."
                )?;
            }
            _ => {
                outln!(
                    "gradient w.r.t. the logit for y = 0: ½(σ(x) − y)² gives (p − y)·p(1 − p); cross-entropy gives p − y"
                )?;
                outln!("{:>8} {:>12} {:>16} {:>16}", "logit", "p", "MSE∘sigmoid", "cross-entropy")?;
                for r in d["rows"].as_array().into_iter().flatten() {
                    let g = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
                    outln!(
                        "{:>8.1} {:>12.6} {:>16.3e} {:>16.6}",
                        g("logit"),
                        g("p"),
                        g("mse_grad"),
                        g("bce_grad")
                    )?;
                }
                outln!(
                    "a confidently wrong logit (x = 10, y = 0) gets almost no gradient through the squared error,"
                )?;
                outln!("while the cross-entropy — the Bernoulli NLL — still pushes with p − y ≈ 1.")?;
            }
        }
    }
    Ok(())
}
