//! Calibration: does the predicted probability match the observed frequency?
//!
//! A classifier is calibrated when, among the rows where it predicts probability p, the event
//! happens with frequency p. Reliability curves bin the predictions and compare each bin's mean
//! confidence with its accuracy; the calibration errors summarise the gaps
//! (ECE: Σ_b (n_b/n)·|acc_b − conf_b|, MCE: max_b, RMSCE: √Σ_b (n_b/n)·(acc_b − conf_b)²).
//!
//! Recalibration maps are small maximum-likelihood fits on held-out data: temperature scaling
//! (one parameter of the Categorical likelihood), Platt scaling (a two-parameter Bernoulli GLM on
//! the logit), vector scaling, and isotonic regression (the monotone MLE of a Bernoulli mean).
//!
//! ## Streaming
//!
//! Binned statistics over fixed edges (the torchmetrics and uniform bins, reliability diagrams,
//! ECE, MCE, RMSCE) are streaming [`crate::score::Accumulator`]s: rows in batches, shards merged,
//! exact. Quantile (equal-mass) bins depend on every prediction: `QuantileCalibration` keeps the
//! rows (two floats each); the streaming alternative is two passes, edges from the first.
//!
//! The recalibration fits are fitted on a held-out calibration set held in memory (temperature and
//! vector scaling: the N × C logits; Platt: N scores; isotonic: N (score, label, weight) rows). Shards
//! of a calibration set are combined by concatenating their rows, not by merging fitted maps: the
//! isotonic fit of a union is not a function of the shards' fits (their blocks interleave in x),
//! and the likelihood fits need every row's contribution at each iterate. Applying a fitted map to
//! new predictions is row by row and streams.
//!
//! Binning follows two reference conventions exactly ([`binning`]): torchmetrics' left-closed
//! float32 edges (with a bin of its own for a confidence of exactly 1) for the calibration errors,
//! and scikit-learn's right-closed uniform or quantile edges for [`calibration_curve`].

pub mod binning;
pub mod calibration_error;
pub mod curve;
pub mod isotonic;
pub mod platt;
pub mod reliability;
pub mod temperature;
pub mod vector;

pub use binning::{BinEdges, Closed, quantile_ranks};
pub use calibration_error::{
    adaptive_calibration_error, adaptive_multiclass_calibration_error, binary_calibration_error,
    classwise_calibration_error, multiclass_calibration_error,
};
pub use curve::{CalibrationCurve, Strategy, calibration_curve};
pub use isotonic::IsotonicRegression;
pub use platt::{PlattOptions, PlattScaling, platt_objective};
pub use reliability::{BinnedCalibration, Norm, QuantileCalibration, ReliabilityDiagram, top_label};
pub use temperature::{
    ECE_BINS, RecalibrationReport, TemperatureOptions, TemperatureScaling, temperature_objective,
};
pub use vector::{VectorOptions, VectorScaling, vector_objective};
