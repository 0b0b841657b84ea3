//! The case format of `tests/data/conformance/README.md`, and comparison of results against it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A row-major array; `shape == []` is a scalar.
#[derive(Clone, Debug)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    pub is_int: bool,
}

impl Array {
    /// The data as integers (class indices, labels).
    pub fn ints(&self) -> Vec<i64> {
        self.data.iter().map(|&v| v as i64).collect()
    }
    /// Number of columns of a 2-D array (the last dimension), 1 for lower ranks.
    pub fn cols(&self) -> usize {
        if self.shape.len() >= 2 { *self.shape.last().unwrap() } else { 1 }
    }
}

/// One case.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub op: String,
    pub params: serde_json::Map<String, Value>,
    pub inputs: BTreeMap<String, Array>,
    pub output: Expected,
    pub grads: BTreeMap<String, Array>,
    pub rtol: f64,
    pub atol: f64,
}

/// The expected output: one array or named arrays.
#[derive(Clone, Debug)]
pub enum Expected {
    One(Array),
    Named(BTreeMap<String, Array>),
}

/// What a handler computed.
#[derive(Clone, Debug, Default)]
pub struct Got {
    /// The output data (row-major), for a single-array output.
    pub output: Vec<f64>,
    /// Named outputs, for cases whose output is an object.
    pub named: BTreeMap<String, Vec<f64>>,
    /// Gradients by input name.
    pub grads: BTreeMap<String, Vec<f64>>,
}

impl Got {
    /// A single-array output without gradients.
    pub fn value(output: Vec<f64>) -> Self {
        Got { output, ..Default::default() }
    }
    /// Adds a gradient.
    pub fn grad(mut self, name: &str, g: Vec<f64>) -> Self {
        self.grads.insert(name.to_string(), g);
        self
    }
}

/// Why a handler produced no result.
#[derive(Debug)]
pub enum Fail {
    /// The library does not implement this (op variant, family, option); counted as unsupported.
    Unsupported(String),
    /// The library returned an error or the inputs were malformed; counted as a failure.
    Error(String),
}

impl From<String> for Fail {
    fn from(e: String) -> Self {
        Fail::Error(e)
    }
}

impl From<&str> for Fail {
    fn from(e: &str) -> Self {
        Fail::Error(e.to_string())
    }
}

impl From<surprisal::Error> for Fail {
    fn from(e: surprisal::Error) -> Self {
        Fail::Error(e.to_string())
    }
}

pub enum Outcome {
    Passed,
    Failed(String),
    Unsupported,
}

impl Case {
    /// A required input.
    pub fn input(&self, name: &str) -> Result<&Array, String> {
        self.inputs.get(name).ok_or_else(|| format!("case has no input `{name}`"))
    }
    /// An optional input.
    pub fn opt_input(&self, name: &str) -> Option<&Array> {
        self.inputs.get(name)
    }
    /// A string parameter.
    pub fn str_param(&self, name: &str) -> Result<&str, String> {
        self.params
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("case has no string param `{name}`"))
    }
    /// A numeric parameter.
    pub fn f64_param(&self, name: &str) -> Result<f64, String> {
        self.params
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("case has no numeric param `{name}`"))
    }
    /// A boolean parameter (absent = `default`).
    pub fn bool_param(&self, name: &str, default: bool) -> bool {
        self.params.get(name).and_then(Value::as_bool).unwrap_or(default)
    }
    /// The reduction parameter (absent = mean).
    pub fn reduction(&self) -> Result<surprisal::loss::Reduction, String> {
        let r = self.params.get("reduction").and_then(Value::as_str).unwrap_or("mean");
        surprisal::loss::Reduction::parse(r).map_err(|e| e.to_string())
    }
    /// Whether the case lists a gradient for `name`.
    pub fn wants_grad(&self, name: &str) -> bool {
        self.grads.contains_key(name)
    }
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("bad number {n}")),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            other => Err(format!("bad number string {other:?}")),
        },
        other => Err(format!("bad number {other}")),
    }
}

fn array(v: &Value) -> Result<Array, String> {
    let shape = v["shape"]
        .as_array()
        .ok_or("array without shape")?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad dimension"))
        .collect::<Result<Vec<_>, _>>()?;
    let data = v["data"]
        .as_array()
        .ok_or("array without data")?
        .iter()
        .map(number)
        .collect::<Result<Vec<_>, _>>()?;
    let n: usize = shape.iter().product();
    if n != data.len() {
        return Err(format!("shape {shape:?} holds {n} values but data has {}", data.len()));
    }
    Ok(Array { shape, data, is_int: v.get("dtype").and_then(Value::as_str) == Some("int") })
}

fn arrays(v: Option<&Value>) -> Result<BTreeMap<String, Array>, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, a) in m {
            out.insert(k.clone(), array(a).map_err(|e| format!("{k}: {e}"))?);
        }
    }
    Ok(out)
}

/// Reads every case of one file.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let root: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    let cases = root["cases"].as_array().ok_or("no `cases` array")?;
    cases
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap_or("?").to_string();
            let wrap = |e: String| format!("case {id}: {e}");
            let output = match &c["output"] {
                v if v.get("shape").is_some() => Expected::One(array(v).map_err(wrap)?),
                v => Expected::Named(arrays(Some(v)).map_err(wrap)?),
            };
            Ok(Case {
                op: c["op"].as_str().ok_or_else(|| wrap("no op".into()))?.to_string(),
                params: c.get("params").and_then(Value::as_object).cloned().unwrap_or_default(),
                inputs: arrays(c.get("inputs")).map_err(wrap)?,
                output,
                grads: arrays(c.get("grads")).map_err(wrap)?,
                rtol: c["rtol"].as_f64().unwrap_or(1e-9),
                atol: c["atol"].as_f64().unwrap_or(1e-12),
                id,
            })
        })
        .collect()
}

fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

fn compare_array(what: &str, got: &[f64], want: &Array, rtol: f64, atol: f64) -> Result<(), String> {
    if got.len() != want.data.len() {
        return Err(format!(
            "{what}: got {} values, want {} (shape {:?})",
            got.len(),
            want.data.len(),
            want.shape
        ));
    }
    for (i, (&g, &w)) in got.iter().zip(&want.data).enumerate() {
        if !close(g, w, rtol, atol) {
            return Err(format!("{what}[{i}]: got {g:e}, want {w:e} (rtol {rtol:e}, atol {atol:e})"));
        }
    }
    Ok(())
}

/// Compares a handler's result with the case: every output and every listed gradient.
pub fn compare(c: &Case, got: &Got) -> Outcome {
    let result = (|| {
        match &c.output {
            Expected::One(want) => compare_array("output", &got.output, want, c.rtol, c.atol)?,
            Expected::Named(wants) => {
                for (name, want) in wants {
                    let g = got.named.get(name).ok_or_else(|| format!("output `{name}` not computed"))?;
                    compare_array(name, g, want, c.rtol, c.atol)?;
                }
            }
        }
        for (name, want) in &c.grads {
            let g = got.grads.get(name).ok_or_else(|| format!("gradient for `{name}` not computed"))?;
            compare_array(&format!("grad {name}"), g, want, c.rtol, c.atol)?;
        }
        Ok::<(), String>(())
    })();
    match result {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(e),
    }
}
