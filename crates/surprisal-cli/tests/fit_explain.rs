//! End-to-end tests of `surprisal fit`, `predict` and `explain`.

mod common;

use common::{run, stderr_line, tmp_file};
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn longley() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/longley.csv").to_string()
}

/// Counts y at dose x, with an exposure column t.
const POISSON: &str = "x,t,y\n0,1,1\n1,2,2\n2,1,4\n3,3,7\n4,2,9\n5,1,14\n";

#[test]
fn fit_poisson_json_matches_the_library_and_reports_every_field() {
    let f = tmp_file("poisson.csv", POISSON.as_bytes());
    let v = json_of(&run(
        &["fit", &f, "--target", "y", "--features", "x", "--family", "poisson", "--json"],
        None,
    ));
    let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [1.0, 2.0, 4.0, 7.0, 9.0, 14.0];
    let design: Vec<f64> = x.iter().flat_map(|xi| [1.0, *xi]).collect();
    use surprisal::fit::glm::{Glm, GlmFamily};
    let want = Glm::new(GlmFamily::Poisson).intercept(0).fit(&design, 2, &y).unwrap();
    let got = [v["coefficients"]["Intercept"].as_f64().unwrap(), v["coefficients"]["x"].as_f64().unwrap()];
    for (g, w) in got.iter().zip(&want.coef) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
    assert!((v["deviance"].as_f64().unwrap() - want.deviance).abs() < 1e-10);
    for k in [
        "std_errors",
        "z",
        "p_values",
        "conf_int_lower",
        "conf_int_upper",
        "null_deviance",
        "log_likelihood",
        "aic",
        "bic",
        "pearson_chi2",
        "iterations",
    ] {
        assert!(!v[k].is_null(), "field {k} missing in {v}");
    }
    assert_eq!(v["converged"], true);
    assert_eq!(v["fitted_probabilities_0_or_1"], 0);
    // The text summary names the terms.
    let out = run(&["fit", &f, "--target", "y", "--features", "x", "--family", "poisson"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Intercept") && text.contains("Poisson"), "{text}");
    assert!(!text.contains("warning"), "{text}");
}

/// Family, link and loss names read as the library spells them whatever their case, hyphens or
/// surrounding spaces: `Negative-Binomial` fits what `negative_binomial` does.
#[test]
fn choice_names_ignore_case_and_hyphens() {
    let f = tmp_file("poisson_names.csv", POISSON.as_bytes());
    let fit = |family: &str, link: &str| {
        let args =
            ["fit", &f, "--target", "y", "--features", "x", "--family", family, "--link", link, "--json"];
        json_of(&run(&args, None))
    };
    assert_eq!(fit(" Negative-Binomial", "LOG"), fit("negative_binomial", "log"));
    let a = json_of(&run(&["explain", "Sigmoid-Binary-Cross-Entropy", "--json"], None));
    assert_eq!(a, json_of(&run(&["explain", "sigmoid_binary_cross_entropy", "--json"], None)));
    let out = run(&["explain", "no-such-loss"], None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr_line(&out).contains("unknown loss `no_such_loss`"), "{out:?}");
}

/// A feature named twice, or the target among the features, is a usage error naming it (they
/// reported collinear columns, or fitted y on itself with infinite z).
#[test]
fn features_that_repeat_or_are_the_target_are_usage_errors() {
    let f = tmp_file("features_usage.csv", POISSON.as_bytes());
    for (features, want) in [("x,x", "--features names `x` twice"), ("x,y", "`y` is the --target column")] {
        let out = run(&["fit", &f, "--target", "y", "--features", features, "--family", "poisson"], None);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(stderr_line(&out).contains(want), "{out:?}");
    }
}

/// Separated classes: finite deviance and Pearson χ², and a warning that the coefficients are not
/// meaningful, with the count of rows fitted at probability 0 or 1.
#[test]
fn fit_warns_of_separated_classes() {
    let f = tmp_file("separated.csv", b"x,y\n1,0\n2,0\n3,1\n4,1\n");
    let args = ["fit", f.as_str(), "--target", "y", "--features", "x", "--family", "bernoulli"];
    let v = json_of(&run(&[&args[..], &["--json"]].concat(), None));
    let at_bounds = v["fitted_probabilities_0_or_1"].as_u64().unwrap();
    assert!((1..=4).contains(&at_bounds), "{v}");
    assert!(v["deviance"].as_f64().unwrap() < 1e-6 && v["pearson_chi2"].as_f64().unwrap() < 1e-6, "{v}");
    let out = run(&args, None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = format!("warning: fitted probabilities numerically 0 or 1 in {at_bounds} of 4 rows");
    assert!(text.contains(&want), "{text}");
    assert!(!text.contains("NaN"), "{text}");
}

#[test]
fn fit_gaussian_on_longley_matches_the_library() {
    let v = json_of(&run(
        &["fit", &longley(), "--target", "TOTEMP", "--all", "--family", "gaussian", "--json"],
        None,
    ));
    let text = std::fs::read_to_string(longley()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for l in lines {
        let cells: Vec<f64> = l.split(',').map(|c| c.trim().parse().unwrap()).collect();
        x.push(1.0);
        x.extend_from_slice(&cells[1..]);
        y.push(cells[0]);
    }
    use surprisal::fit::glm::{Glm, GlmFamily};
    let want = Glm::new(GlmFamily::Gaussian).intercept(0).fit(&x, header.len(), &y).unwrap();
    let got = v["coefficients"]["Intercept"].as_f64().unwrap();
    assert!((got - want.coef[0]).abs() <= 1e-9 * want.coef[0].abs(), "{got} vs {}", want.coef[0]);
    for (j, name) in header[1..].iter().enumerate() {
        let g = v["coefficients"][name].as_f64().unwrap();
        assert!((g - want.coef[j + 1]).abs() <= 1e-9 * want.coef[j + 1].abs().max(1e-12), "{name}: {g}");
    }
}

#[test]
fn save_then_predict_round_trips_with_exposure() {
    let f = tmp_file("poisson_rt.csv", POISSON.as_bytes());
    let model = tmp_file("model_rt.json", b"");
    std::fs::remove_file(&model).unwrap();
    let v = json_of(&run(
        &[
            "fit",
            &f,
            "--target",
            "y",
            "--features",
            "x",
            "--family",
            "poisson",
            "--exposure",
            "t",
            "--json",
            "--save",
            &model,
        ],
        None,
    ));
    let (b0, b1) =
        (v["coefficients"]["Intercept"].as_f64().unwrap(), v["coefficients"]["x"].as_f64().unwrap());
    let out_csv = tmp_file("pred_rt.csv", b"");
    std::fs::remove_file(&out_csv).unwrap();
    let out = run(&["predict", &model, &f, "--out", &out_csv], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let preds: Vec<f64> =
        std::fs::read_to_string(&out_csv).unwrap().lines().skip(1).map(|l| l.parse().unwrap()).collect();
    let xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let ts = [1.0f64, 2.0, 1.0, 3.0, 2.0, 1.0];
    assert_eq!(preds.len(), 6);
    for ((p, x), t) in preds.iter().zip(xs).zip(ts) {
        let want = (b0 + b1 * x + t.ln()).exp();
        assert!((p - want).abs() <= 1e-12 * want, "{p} vs {want}");
    }
    // To stdout too.
    let out = run(&["predict", &model, &f], None);
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("prediction\n"));
    // A missing feature column, and a malformed model naming the field.
    let nox = tmp_file("nox.csv", b"t,y\n1,1\n");
    let line = stderr_line(&run(&["predict", &model, &nox], None));
    assert!(line.contains("no column `x`"), "{line}");
    let bad = tmp_file("bad_model.json", br#"{"format": "surprisal-model", "kind": "glm", "family": "poisson", "link": "log", "features": ["x"], "coefficients": ["a"], "intercept": true}"#);
    let out = run(&["predict", &bad, &f], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("`coefficients`"));
    let not_json = tmp_file("not_model.json", b"x,y\n");
    assert_eq!(run(&["predict", &not_json, &f], None).status.code(), Some(1));
}

#[test]
fn quantile_and_robust_families_fit() {
    let data = "x,y\n0,1\n1,3\n2,2\n3,6\n4,5\n5,9\n";
    let f = tmp_file("quant.csv", data.as_bytes());
    let v = json_of(&run(
        &[
            "fit",
            &f,
            "--target",
            "y",
            "--features",
            "x",
            "--family",
            "quantile",
            "--quantile",
            "0.25",
            "--json",
        ],
        None,
    ));
    // The τ = ¼ line through (0, 1) and (4, 5) (the library's documented example).
    assert!((v["coefficients"]["Intercept"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!((v["coefficients"]["x"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let noisy =
        "x,y\n0,0.1\n1,2.3\n2,3.8\n3,6.4\n4,7.9\n5,10.2\n6,11.7\n7,14.4\n8,15.8\n9,40\n10,20.1\n11,22.3\n";
    let f = tmp_file("robust.csv", noisy.as_bytes());
    let v =
        json_of(&run(&["fit", &f, "--target", "y", "--features", "x", "--family", "huber", "--json"], None));
    let slope = v["coefficients"]["x"].as_f64().unwrap();
    assert!((slope - 2.0).abs() < 0.2, "huber slope {slope}");
    let v = json_of(&run(
        &["fit", &f, "--target", "y", "--features", "x", "--family", "student_t", "--df", "3", "--json"],
        None,
    ));
    assert!((v["coefficients"]["x"].as_f64().unwrap() - 2.0).abs() < 0.2, "{v}");
    assert!(v["std_errors"]["x"].as_f64().unwrap() > 0.0);
    let out = run(&["fit", &f, "--target", "y", "--features", "x", "--family", "quantile"], None);
    assert_eq!(out.status.code(), Some(2));
    // ν learned from residuals with no heavy tail: ν runs off to ∞ (the normal), and the warning
    // says so; the slope is then the least-squares one.
    let f = tmp_file("light_tails.csv", b"x,y\n0,1\n1,2\n2,3.5\n3,4\n");
    let out = run(&["fit", &f, "--target", "y", "--features", "x", "--family", "student_t"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("warning: the fit did not converge: the likelihood keeps rising as ν → ∞"),
        "{text}"
    );
    let v = json_of(&run(
        &["fit", &f, "--target", "y", "--features", "x", "--family", "student_t", "--json"],
        None,
    ));
    assert_eq!(v["converged"], false);
    assert!(v["details"]["df"].as_f64().unwrap() > 1e4, "{v}");
    let ls = 1.05; // least squares through (0, 1), (1, 2), (2, 3.5), (3, 4): Sxy/Sxx = 5.25/5
    assert!((v["coefficients"]["x"].as_f64().unwrap() - ls).abs() < 1e-3, "{v}");
}

#[test]
fn robust_fits_print_their_details_as_text_and_name_a_likelihood_without_maximum() {
    // Seven of ten rows on the line y = x: with ν learned the Student-t likelihood rises without
    // bound as the fit passes through them (σ → 0, ν → 0); with ν = 3 it has a maximum.
    let f = tmp_file("on_a_line.csv", b"x,y\n1,1\n2,2\n3,3\n4,4\n5,5\n6,6\n7,7\n8,9.5\n9,7\n10,13\n");
    let args = ["fit", &f, "--target", "y", "--features", "x", "--family"];
    let out = run(&[&args[..], &["student_t"]].concat(), None);
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(
        line.contains("the likelihood has no maximum: it rises as the scale → 0 and ν → 0")
            && line.contains("through 7 of the 10 rows")
            && line.contains("hold ν fixed"),
        "{line}"
    );
    let out = run(&[&args[..], &["student_t", "--df", "3"]].concat(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ν 3 (fixed); NLL ") && !text.contains('{'), "{text}");
    let engel = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/engel.csv");
    let out =
        run(&["fit", engel, "--target", "foodexp", "--features", "income", "--family", "student_t"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" (estimated); NLL ") && !text.contains('{'), "{text}");
    let out = run(&[&args[..], &["huber"]].concat(), None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("rows outliers") && !text.contains('{'), "{text}");
}

#[test]
fn fit_errors_are_located_and_leave_no_file() {
    let model = tmp_file("never.json", b"");
    std::fs::remove_file(&model).unwrap();
    let f = tmp_file("neg.csv", b"x,y\n0,1\n1,-2\n2,4\n");
    let out =
        run(&["fit", &f, "--target", "y", "--features", "x", "--family", "poisson", "--save", &model], None);
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(line.contains("row 2") && line.contains("`y`") && line.contains("-2"), "{line}");
    assert!(!std::path::Path::new(&model).exists());
    let dir = std::path::Path::new(&model).parent().unwrap();
    assert!(
        std::fs::read_dir(dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp-")),
        "a temporary file was left behind"
    );

    let f = tmp_file("cells_fit.csv", b"x,y\n1,2\nabc,3\n");
    let line =
        stderr_line(&run(&["fit", &f, "--target", "y", "--features", "x", "--family", "gaussian"], None));
    assert!(line.contains("row 2") && line.contains("`x`") && line.contains("abc"), "{line}");
    let line =
        stderr_line(&run(&["fit", &f, "--target", "y", "--features", "z", "--family", "gaussian"], None));
    assert!(line.contains("no column `z`"), "{line}");

    let ok = tmp_file("ok_fit.csv", POISSON.as_bytes());
    for args in [
        vec!["--family", "nope"],
        vec!["--family", "poisson", "--link", "nope"],
        vec!["--family", "poisson", "--link", "logit"],
    ] {
        let mut all = vec!["fit", ok.as_str(), "--target", "y", "--features", "x"];
        all.extend(args.iter().copied());
        let out = run(&all, None);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        stderr_line(&out);
    }
    assert_eq!(run(&["fit", &ok, "--target", "y", "--family", "poisson"], None).status.code(), Some(2));
    // predict --out on error leaves nothing.
    let out_csv = tmp_file("never.csv", b"");
    std::fs::remove_file(&out_csv).unwrap();
    let out = run(&["predict", "/no/such/model.json", &ok, "--out", &out_csv], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(!std::path::Path::new(&out_csv).exists());
}

#[test]
fn explain_every_catalogue_loss() {
    for l in surprisal::loss::catalogue() {
        let out = run(&["explain", l.name], None);
        assert!(out.status.success(), "{}: {}", l.name, String::from_utf8_lossy(&out.stderr));
        let v = json_of(&run(&["explain", l.name, "--json"], None));
        assert_eq!(v["loss"], l.name);
        for p in v["points"].as_array().unwrap() {
            let (loss, map) = (p["loss"].as_f64().unwrap(), p["map"].as_f64().unwrap());
            assert!((loss - map).abs() <= 1e-9 * map.abs().max(1.0), "{}: {p}", l.name);
        }
    }
    let out = run(&["explain", "no_such_loss"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("mse"));
}

#[test]
fn explain_writes_the_map_with_the_mean_and_a_signed_shift() {
    let map = |name: &str| {
        json_of(&run(&["explain", name, "--json"], None))["model"]["map"].as_str().unwrap().to_string()
    };
    // The mean is the inverse link applied to the output: exp for the log link, softmax for the
    // multinomial logit (not "softmax⁻¹"), σ for the logit link.
    assert_eq!(map("poisson_nll"), "loss = 1·NLL_poisson(y | exp(x)) − log y!");
    assert_eq!(map("softmax_cross_entropy"), "loss = 1·NLL_categorical(y | softmax(x))");
    assert_eq!(map("sigmoid_binary_cross_entropy"), "loss = 1·NLL_logistic_bernoulli(y | σ(x))");
    assert_eq!(map("kl_div"), "loss = 1·E_{y∼q}[NLL_categorical(y | exp(x))] − H(q)");
    assert_eq!(map("l1"), format!("loss = 1·NLL_laplace(y | x, scale = 1) − {}", std::f64::consts::LN_2));
    assert!(map("tweedie_deviance").ends_with("((1−p)(2−p))   (p = 1.5)"), "{}", map("tweedie_deviance"));
    for l in surprisal::loss::catalogue() {
        if let Some(m) = json_of(&run(&["explain", l.name, "--json"], None))["model"]["map"].as_str() {
            assert!(!m.contains("+ −") && !m.contains("⁻¹") && !m.contains("none"), "{}: {m}", l.name);
        }
    }
}

#[test]
fn explain_demonstrations() {
    let v = json_of(&run(&["explain", "mse", "--json"], None));
    let d = &v["mse_vs_gaussian_nll"];
    let mse = d["mse"].as_f64().unwrap();
    let want = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * mse).ln();
    assert!((d["mean_gaussian_nll"].as_f64().unwrap() - want).abs() < 1e-12);

    for name in ["kl_div", "softmax_cross_entropy_probs"] {
        let v = json_of(&run(&["explain", name, "--json"], None));
        let d = &v["cross_entropy_entropy_kl"];
        let (h, kl, ce) = (
            d["entropy_q"].as_f64().unwrap(),
            d["kl_q_p"].as_f64().unwrap(),
            d["cross_entropy"].as_f64().unwrap(),
        );
        assert!((h + kl - ce).abs() < 1e-12 && kl > 0.0);
        assert!((d["kl_div_loss"].as_f64().unwrap() - kl).abs() < 1e-12);
        assert!((d["softmax_cross_entropy_probs_loss"].as_f64().unwrap() - ce).abs() < 1e-12);
    }

    let v = json_of(&run(&["explain", "sigmoid_binary_cross_entropy", "--json"], None));
    let rows = v["sigmoid_gradients"]["rows"].as_array().unwrap();
    let at10 = rows.iter().find(|r| r["logit"].as_f64() == Some(10.0)).unwrap();
    assert!(at10["mse_grad"].as_f64().unwrap() < 1e-4);
    assert!(at10["bce_grad"].as_f64().unwrap() > 0.99);
    assert_eq!(rows.len(), 11);
}
