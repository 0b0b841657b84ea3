//! A tour on real data: the Engel food-expenditure data (235 Belgian working-class households,
//! 1857), `foodexp ~ a + b·income`.
//!
//! The same regression line is scored by a loss and by the negative log-likelihood of the model
//! that loss assumes, and the two agree through the affine map each loss declares:
//!
//! - squared error   = Gaussian NLL with σ fixed        (least squares = Normal maximum likelihood)
//! - absolute error  = Laplace NLL with b fixed         (least absolute deviations = Laplace ML)
//! - pinball(τ)      = asymmetric-Laplace NLL           (quantile regression = ALD ML)
//!
//! Run with `cargo run --release -p surprisal --example tour`.

#[path = "common/engel.rs"]
mod engel;

use surprisal::family::{AsymmetricLaplace, Family, Laplace, Normal};
use surprisal::loss::{self, Likelihood, Options, Reduction};

fn main() {
    let (income, food) = engel::load_or_exit();
    let n = income.len();
    println!("surprisal tour: Engel food expenditure, n = {n} households");
    println!("model: foodexp = a + b·income + noise, and the noise distribution is the loss.\n");

    // ---- Fits: each line minimises one loss, i.e. maximises one likelihood. ----
    let ls = least_squares(&income, &food);
    let lad = best_line_through_pairs(&income, &food, |pred| {
        loss::l1(pred, &food, &Options::with_reduction(Reduction::Sum)).map(|o| o.value)
    });
    let taus = [0.1, 0.5, 0.9];
    let quantile: Vec<(f64, f64)> = taus
        .iter()
        .map(|&tau| {
            best_line_through_pairs(&income, &food, |pred| {
                loss::pinball(pred, &food, tau, &Options::with_reduction(Reduction::Sum)).map(|o| o.value)
            })
        })
        .collect();

    println!("Fitted lines (least squares in closed form; L1 and quantile fits exactly, over all lines");
    println!("through two data points, where a two-parameter linear program attains its optimum):");
    println!("  {:<34} {:>11} {:>11}", "fit (= maximum likelihood of)", "a", "b");
    println!("  {:<34} {:>11.4} {:>11.6}", "least squares (Normal)", ls.0, ls.1);
    println!("  {:<34} {:>11.4} {:>11.6}", "least abs. deviations (Laplace)", lad.0, lad.1);
    for (tau, q) in taus.iter().zip(&quantile) {
        println!("  {:<34} {:>11.4} {:>11.6}", format!("quantile τ = {tau} (asym. Laplace)"), q.0, q.1);
    }

    let lines = [("least squares", ls), ("least abs. dev.", lad)];
    let mean = Options::with_reduction(Reduction::Mean);

    // ---- 1. Squared error vs Gaussian NLL. ----
    println!("\n1. Squared error = Gaussian NLL with σ fixed. At the MLE σ² = mean r², mean NLL =");
    println!("   ½log(2πσ²) + ½, and r² = 2σ²·NLL − σ²·log(2πσ²) element by element.");
    println!(
        "   {:<16} {:>12} {:>9} {:>12} {:>16} {:>13} {:>13}",
        "line", "mean MSE", "σ (MLE)", "mean NLL", "2σ²·NLL+shift", "max|Δ| (MLE)", "max|Δ| decl."
    );
    for (name, (a, b)) in lines {
        let pred = predict(&income, a, b);
        let out = loss::mse(&pred, &food, &mean).expect("mse");
        let per =
            loss::mse(&pred, &food, &Options::with_reduction(Reduction::None)).expect("mse").per_element;
        let sigma = out.value.sqrt();
        let nll: Vec<f64> = pred
            .iter()
            .zip(&food)
            .map(|(&m, &y)| -Normal::new(m, sigma).expect("normal").log_prob(y))
            .collect();
        let (scale, shift) =
            (2.0 * sigma * sigma, -sigma * sigma * (2.0 * std::f64::consts::PI * sigma * sigma).ln());
        let mean_nll = avg(&nll);
        let at_mle = max_dev(&per, &nll, scale, shift);
        println!(
            "   {:<16} {:>12.3} {:>9.4} {:>12.6} {:>16.3} {:>13.2e} {:>13.2e}",
            name,
            out.value,
            sigma,
            mean_nll,
            scale * mean_nll + shift,
            at_mle,
            declared_dev(&loss::mse::likelihood(), &pred, &food, &per)
        );
    }

    // ---- 2. Absolute error vs Laplace NLL. ----
    println!(
        "\n2. Absolute error = Laplace NLL with b fixed. At the MLE b = mean |r|, mean NLL = 1 + log 2b,"
    );
    println!("   and |r| = b·NLL − b·log 2b element by element.");
    println!(
        "   {:<16} {:>12} {:>9} {:>12} {:>16} {:>13} {:>13}",
        "line", "mean MAE", "b (MLE)", "mean NLL", "b·NLL+shift", "max|Δ| (MLE)", "max|Δ| decl."
    );
    for (name, (a, b)) in lines {
        let pred = predict(&income, a, b);
        let per = loss::l1(&pred, &food, &Options::with_reduction(Reduction::None)).expect("l1").per_element;
        let mae = loss::l1(&pred, &food, &mean).expect("l1").value;
        let nll: Vec<f64> = pred
            .iter()
            .zip(&food)
            .map(|(&m, &y)| -Laplace::new(m, mae).expect("laplace").log_prob(y))
            .collect();
        let (scale, shift) = (mae, -mae * (2.0 * mae).ln());
        let mean_nll = avg(&nll);
        println!(
            "   {:<16} {:>12.4} {:>9.4} {:>12.6} {:>16.4} {:>13.2e} {:>13.2e}",
            name,
            mae,
            mae,
            mean_nll,
            scale * mean_nll + shift,
            max_dev(&per, &nll, scale, shift),
            declared_dev(&loss::l1::likelihood(), &pred, &food, &per)
        );
    }

    // ---- 3. Pinball vs asymmetric-Laplace NLL. ----
    println!("\n3. Pinball(τ) = asymmetric-Laplace NLL (σ = 1): loss = NLL + log τ(1−τ) element by element.");
    println!(
        "   Each τ-line beats the least-squares line on its own loss, and ~τ of the targets lie below it."
    );
    println!("   (Least-squares residuals sum to 0, so its mean pinball loss is MAE/2 at every τ.)");
    println!(
        "   {:<5} {:<16} {:>13} {:>14} {:>16} {:>9} {:>13}",
        "τ", "line", "mean pinball", "mean ALD NLL", "NLL+log τ(1−τ)", "share ≤", "max|Δ| decl."
    );
    for (tau, &(qa, qb)) in taus.iter().zip(&quantile) {
        for (name, (a, b)) in [("quantile fit", (qa, qb)), ("least squares", ls)] {
            let pred = predict(&income, a, b);
            let per = loss::pinball(&pred, &food, *tau, &Options::with_reduction(Reduction::None))
                .expect("pinball")
                .per_element;
            let nll: Vec<f64> = pred
                .iter()
                .zip(&food)
                .map(|(&m, &y)| -AsymmetricLaplace::new(m, 1.0, *tau).expect("ald").log_prob(y))
                .collect();
            let below = food.iter().zip(&pred).filter(|(y, m)| y <= m).count() as f64 / n as f64;
            let decl = loss::pinball::likelihood(*tau).expect("tau in (0, 1)");
            println!(
                "   {:<5} {:<16} {:>13.4} {:>14.4} {:>16.4} {:>9.3} {:>13.2e}",
                tau,
                name,
                avg(&per),
                avg(&nll),
                avg(&nll) + (tau * (1.0 - tau)).ln(),
                below,
                declared_dev(&decl, &pred, &food, &per)
            );
        }
    }
    println!(
        "\nmax|Δ|: the largest |loss_i − (scale·NLL_i + shift)| over the {n} households: rounding only."
    );
    println!("(MLE): the map at the fitted scale; decl.: the map each loss declares (loss::*::likelihood).");
}

fn predict(x: &[f64], a: f64, b: f64) -> Vec<f64> {
    x.iter().map(|&v| a + b * v).collect()
}

fn avg(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Ordinary least squares for y = a + b·x in closed form (centred sums).
fn least_squares(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (mx, my) = (avg(x), avg(y));
    let sxy: f64 = x.iter().zip(y).map(|(&u, &v)| (u - mx) * (v - my)).sum();
    let sxx: f64 = x.iter().map(|&u| (u - mx) * (u - mx)).sum();
    let b = sxy / sxx;
    (my - b * mx, b)
}

/// Minimises `objective(predictions)` over all lines through two data points with distinct x. For
/// the L1 and pinball objectives (linear programs in (a, b)) an optimum is attained at such a line,
/// so this search is exact.
fn best_line_through_pairs(
    x: &[f64],
    y: &[f64],
    objective: impl Fn(&[f64]) -> surprisal::Result<f64>,
) -> (f64, f64) {
    let mut best = (f64::INFINITY, (0.0, 0.0));
    let mut pred = vec![0.0; x.len()];
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            if x[i] == x[j] {
                continue;
            }
            let b = (y[j] - y[i]) / (x[j] - x[i]);
            let a = y[i] - b * x[i];
            for (p, &v) in pred.iter_mut().zip(x) {
                *p = a + b * v;
            }
            let f = objective(&pred).expect("objective");
            if f < best.0 {
                best = (f, (a, b));
            }
        }
    }
    best.1
}

/// max_i |loss_i − (scale·NLL_i + shift_i)| with the map's NLL at the line's predictions.
fn max_dev(loss: &[f64], nll: &[f64], scale: f64, shift: f64) -> f64 {
    loss.iter().zip(nll).map(|(l, q)| (l - (scale * q + shift)).abs()).fold(0.0, f64::max)
}

/// The same for a loss's declared likelihood (its own fixed parameters and shift).
fn declared_dev(decl: &Likelihood, pred: &[f64], y: &[f64], loss: &[f64]) -> f64 {
    let Likelihood::Nll(map) = decl else { return f64::NAN };
    pred.iter()
        .zip(y)
        .zip(loss)
        .map(|((&m, &t), &l)| (l - map.predicted_loss(&[m], t)).abs())
        .fold(0.0, f64::max)
}
