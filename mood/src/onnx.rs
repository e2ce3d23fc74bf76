//! Arousal models in ONNX, run with tract.
//!
//! A model file carries its own contract in the ONNX metadata (`metadata_props`), and the
//! engine reads it rather than assuming anything:
//!
//! | key | meaning | example |
//! |---|---|---|
//! | `isochord.name`, `isochord.version` | model name and version (required) | `stress-lr`, `1.0.0` |
//! | `isochord.features` | the inputs, in order, by [`Feature`] name (required) | `mean_hr,eda_tonic,…` |
//! | `isochord.units` | the unit of each feature, checked against the engine's (required) | `/min,uS,…` |
//! | `isochord.normalisation` | `baseline_zscore` (inputs are [`FeatureWindow::relative`]) or `none` ([`FeatureWindow::features`]) (required) | `baseline_zscore` |
//! | `isochord.classes` | output class names, in output order (required) | `calm,aroused` |
//! | `isochord.class_arousal` | arousal 0..1 of each class (default: evenly spaced 0..1) | `0,1` |
//! | `isochord.min_quality`, `isochord.min_confidence` | abstain below these (defaults 0.4 and 0.2) | `0.4` |
//! | `isochord.window_s`, `isochord.hop_s`, `isochord.baseline`, `isochord.training`, `isochord.metrics_loso`, `isochord.intended_use`, `isochord.card` | what the model was trained on, how it scored, what it is for | |
//!
//! The graph has one float input of shape `[1, n]` (n = the number of features; it is pinned
//! to that shape at load) and its first output holds the class probabilities, `[1, k]`. The
//! model is optimised once at load and checked by one run on a zero vector: a file whose
//! bytes, metadata or shapes do not fit is refused with a [`ModelError`] that names the file
//! and what was expected.
//!
//! Estimates: arousal is the expected class arousal Σ pₖ·aₖ; confidence is how far the
//! largest probability stands above indifference, (max p - 1/k) / (1 - 1/k) (|2p - 1| for
//! two classes). A window missing any input feature (e.g. before the baseline is known)
//! gives an abstaining estimate naming the missing features; so do windows below the
//! quality floor and estimates below the confidence floor.
//!
//! [`load_estimator`] is what a session calls: the bundled model when no path is given,
//! and the rule-based estimator with a warning when a given model cannot be used.
//!
//! Everything here runs on the control thread (at the feature hop, every 5 s by default),
//! never on the audio thread: inference allocates.

use super::estimate::{Abstain, ArousalEstimate, ArousalEstimator};
use super::rules::RuleEstimator;
use isochord_biometrics::features::{Feature, FeatureWindow};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// The bundled model (`assets/models/stress-lr.onnx`), compiled into the binary.
pub const BUNDLED_MODEL: &[u8] = include_bytes!("../../assets/models/stress-lr.onnx");

/// How the bundled model is named in messages.
pub const BUNDLED_MODEL_ORIGIN: &str = "the bundled model stress-lr.onnx";

/// Metadata keys a model must carry.
pub const REQUIRED_KEYS: [&str; 6] = [
    "isochord.name",
    "isochord.version",
    "isochord.features",
    "isochord.units",
    "isochord.normalisation",
    "isochord.classes",
];

/// Which values of a window a model takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalisation {
    /// z-scores against the person's baseline ([`FeatureWindow::relative`]).
    BaselineZScore,
    /// The features as measured ([`FeatureWindow::features`]).
    None,
}

impl Normalisation {
    /// The metadata spelling.
    pub fn name(self) -> &'static str {
        match self {
            Normalisation::BaselineZScore => "baseline_zscore",
            Normalisation::None => "none",
        }
    }
}

/// What a model expects and produces, read from its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelContract {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// The inputs, in order.
    pub features: Vec<Feature>,
    /// Unit of each input feature, as the model states it.
    pub units: Vec<String>,
    /// Which values of the window the inputs are.
    pub normalisation: Normalisation,
    /// Output class names, in output order.
    pub classes: Vec<String>,
    /// Arousal 0..1 of each class.
    pub class_arousal: Vec<f64>,
    /// Window quality below which the estimate abstains.
    pub min_quality: f64,
    /// Confidence below which the estimate abstains.
    pub min_confidence: f64,
    /// Every `isochord.*` metadata entry, sorted by key (for `model info`).
    pub metadata: Vec<(String, String)>,
    /// The model's ONNX doc string.
    pub doc: String,
}

impl ModelContract {
    /// A metadata value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Index of the class with the highest arousal (the "aroused" class of a binary
    /// model).
    pub fn aroused_class(&self) -> usize {
        let mut best = 0;
        for (i, a) in self.class_arousal.iter().enumerate() {
            if *a > self.class_arousal[best] {
                best = i;
            }
        }
        best
    }
}

/// Why a model file was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelError {
    /// The file could not be read.
    Read {
        /// The file.
        origin: String,
        /// What went wrong.
        detail: String,
    },
    /// The bytes are not a usable ONNX model (garbage, truncated, unsupported operators).
    Format {
        /// The file.
        origin: String,
        /// What went wrong.
        detail: String,
    },
    /// The metadata is missing or does not fit the engine.
    Metadata {
        /// The file.
        origin: String,
        /// What was wrong and what was expected.
        detail: String,
    },
    /// The graph's inputs or outputs do not fit the metadata.
    Shape {
        /// The file.
        origin: String,
        /// What was wrong and what was expected.
        detail: String,
    },
    /// Inference failed.
    Inference(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Read { origin, detail } => write!(f, "{origin}: cannot read: {detail}"),
            ModelError::Format { origin, detail } => write!(
                f,
                "{origin}: not a usable ONNX model ({detail}); expected an ONNX file such as \
                 assets/models/train/train.py writes"
            ),
            ModelError::Metadata { origin, detail } => {
                write!(f, "{origin}: model metadata does not fit: {detail}")
            }
            ModelError::Shape { origin, detail } => {
                write!(f, "{origin}: model shape does not fit: {detail}")
            }
            ModelError::Inference(detail) => write!(f, "model inference failed: {detail}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// An [`ArousalEstimator`] running an ONNX model with tract (see the
/// [module documentation](self)).
#[derive(Clone)]
pub struct OnnxEstimator {
    contract: ModelContract,
    plan: Arc<TypedSimplePlan>,
    origin: String,
}

impl fmt::Debug for OnnxEstimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnnxEstimator")
            .field("origin", &self.origin)
            .field("contract", &self.contract)
            .finish()
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).collect()
}

fn number(
    meta: &[(String, String)],
    key: &str,
    default: f64,
    origin: &str,
) -> Result<f64, ModelError> {
    match meta.iter().find(|(k, _)| k == key) {
        None => Ok(default),
        Some((_, v)) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| (0.0..=1.0).contains(x))
            .ok_or_else(|| ModelError::Metadata {
                origin: origin.into(),
                detail: format!("{key} = `{v}` (expected a number in 0..1)"),
            }),
    }
}

/// Reads the contract from `isochord.*` metadata entries.
pub fn parse_contract(
    mut metadata: Vec<(String, String)>,
    doc: String,
    origin: &str,
) -> Result<ModelContract, ModelError> {
    metadata.retain(|(k, _)| k.starts_with("isochord."));
    metadata.sort();
    let err = |detail: String| ModelError::Metadata {
        origin: origin.into(),
        detail,
    };
    let missing: Vec<&str> = REQUIRED_KEYS
        .iter()
        .copied()
        .filter(|k| !metadata.iter().any(|(m, _)| m == k))
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "missing {} (expected the keys {} in the ONNX metadata_props)",
            missing.join(", "),
            REQUIRED_KEYS.join(", ")
        )));
    }
    let get = |k: &str| {
        metadata
            .iter()
            .find(|(m, _)| m == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let names = list(&get("isochord.features"));
    let mut features = Vec::with_capacity(names.len());
    for n in &names {
        let f = Feature::from_name(n).ok_or_else(|| {
            err(format!(
                "unknown feature `{n}` in isochord.features (expected names from: {})",
                Feature::ALL.map(|f| f.name()).join(", ")
            ))
        })?;
        features.push(f);
    }
    if features.is_empty() {
        return Err(err("isochord.features lists no feature".into()));
    }
    let units = list(&get("isochord.units"));
    if units.len() != features.len() {
        return Err(err(format!(
            "isochord.units has {} entries for {} features",
            units.len(),
            features.len()
        )));
    }
    for (f, u) in features.iter().zip(&units) {
        if u != f.unit() {
            return Err(err(format!(
                "feature {f} is in `{u}` in the model, but the engine computes it in `{}`",
                f.unit()
            )));
        }
    }
    let normalisation = match get("isochord.normalisation").trim() {
        "baseline_zscore" => Normalisation::BaselineZScore,
        "none" => Normalisation::None,
        other => {
            return Err(err(format!(
                "isochord.normalisation = `{other}` (expected `baseline_zscore` or `none`)"
            )))
        }
    };
    let classes = list(&get("isochord.classes"));
    if classes.len() < 2 || classes.iter().any(|c| c.is_empty()) {
        return Err(err(format!(
            "isochord.classes = `{}` (expected at least two class names)",
            get("isochord.classes")
        )));
    }
    let k = classes.len();
    let class_arousal = match metadata.iter().find(|(m, _)| m == "isochord.class_arousal") {
        None => (0..k).map(|i| i as f64 / (k - 1) as f64).collect(),
        Some((_, v)) => {
            let a: Vec<f64> = list(v)
                .iter()
                .filter_map(|s| s.parse().ok())
                .filter(|x: &f64| (0.0..=1.0).contains(x))
                .collect();
            if a.len() != k {
                return Err(err(format!(
                    "isochord.class_arousal = `{v}` (expected {k} numbers in 0..1, one per class)"
                )));
            }
            a
        }
    };
    let name = get("isochord.name");
    let version = get("isochord.version");
    let min_quality = number(&metadata, "isochord.min_quality", 0.4, origin)?;
    let min_confidence = number(&metadata, "isochord.min_confidence", 0.2, origin)?;
    Ok(ModelContract {
        name,
        version,
        features,
        units,
        normalisation,
        classes,
        class_arousal,
        min_quality,
        min_confidence,
        metadata,
        doc,
    })
}

fn concrete(fact: &TypedFact) -> Option<Vec<usize>> {
    fact.shape.as_concrete().map(|s| s.to_vec())
}

impl OnnxEstimator {
    /// Loads, checks and optimises the model in `path`. On the control thread, at start-up.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ModelError::Read {
            origin: origin.clone(),
            detail: e.to_string(),
        })?;
        Self::from_bytes(&bytes, &origin)
    }

    /// The bundled model.
    pub fn bundled() -> Result<Self, ModelError> {
        Self::from_bytes(BUNDLED_MODEL, BUNDLED_MODEL_ORIGIN)
    }

    /// Loads a model from memory; `origin` names it in messages.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, ModelError> {
        let format = |detail: String| ModelError::Format {
            origin: origin.into(),
            detail,
        };
        let shape = |detail: String| ModelError::Shape {
            origin: origin.into(),
            detail,
        };
        if bytes.is_empty() {
            return Err(format("the file is empty".into()));
        }
        let onnx = tract_onnx::onnx();
        let mut reader = bytes;
        let proto = onnx
            .proto_model_for_read(&mut reader)
            .map_err(|e| format(format!("{e:#}")))?;
        if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
            return Err(format("it holds no graph".into()));
        }
        let metadata = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let contract = parse_contract(metadata, proto.doc_string.clone(), origin)?;
        let n = contract.features.len();
        let model = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| format(format!("{e:#}")))?;
        if model.inputs.len() != 1 || model.outputs.is_empty() {
            return Err(shape(format!(
                "{} inputs and {} outputs (expected one input of shape [1, {n}] and the class \
                 probabilities as the first output)",
                model.inputs.len(),
                model.outputs.len()
            )));
        }
        // a declared fixed width must agree with the feature list
        let declared = model.input_fact(0).map_err(|e| format(format!("{e:#}")))?;
        if !declared.shape.is_open() {
            let dims: Vec<Option<TDim>> = declared.shape.dims().map(|d| d.concretize()).collect();
            let width = dims
                .last()
                .cloned()
                .flatten()
                .and_then(|d| d.as_i64())
                .map(|d| d as usize);
            if dims.len() != 2 || width.is_some_and(|w| w != n) {
                let shown: Vec<String> = dims
                    .iter()
                    .map(|d| d.as_ref().map_or("?".into(), |d| d.to_string()))
                    .collect();
                return Err(shape(format!(
                    "the input has shape [{}], but the metadata lists {n} features (expected [1, {n}])",
                    shown.join(", ")
                )));
            }
        }
        let model = model
            .with_input_fact(0, f32::fact([1, n]).into())
            .and_then(|m| m.into_optimized())
            .map_err(|e| {
                shape(format!(
                    "cannot run with input [1, {n}] ({} features): {e:#}",
                    n
                ))
            })?;
        let out = model.output_fact(0).map_err(|e| format(format!("{e:#}")))?;
        let k = contract.classes.len();
        match concrete(out) {
            Some(d) if d.iter().product::<usize>() == k && d.last() == Some(&k) => {}
            other => {
                return Err(shape(format!(
                    "the first output has shape {other:?}, but the metadata lists {k} classes \
                     (expected [1, {k}])"
                )))
            }
        }
        let plan = model
            .into_runnable()
            .map_err(|e| format(format!("{e:#}")))?;
        let est = Self {
            contract,
            plan,
            origin: origin.into(),
        };
        let p = est
            .predict(&vec![0.0; n])
            .map_err(|e| format(format!("a test run failed: {e}")))?;
        let sum: f32 = p.iter().sum();
        if p.iter().any(|x| !x.is_finite() || *x < -1e-6) || (sum - 1.0).abs() > 1e-3 {
            return Err(shape(format!(
                "the first output is not class probabilities (got {p:?} for a zero input; \
                 expected {k} values ≥ 0 summing to 1)"
            )));
        }
        Ok(est)
    }

    /// The model's contract.
    pub fn contract(&self) -> &ModelContract {
        &self.contract
    }

    /// Where the model came from (a path, or the bundled model).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Class probabilities for one input vector in the contract's feature order.
    pub fn predict(&self, inputs: &[f32]) -> Result<Vec<f32>, ModelError> {
        let n = self.contract.features.len();
        if inputs.len() != n {
            return Err(ModelError::Inference(format!(
                "{} inputs given, the model takes {n}",
                inputs.len()
            )));
        }
        let input = Tensor::from_shape(&[1, n], inputs)
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        let out = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        let view = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| ModelError::Inference(format!("{e:#}")))?;
        Ok(view.iter().copied().collect())
    }

    /// The model's inputs for a window, or the names of the features it lacks.
    pub fn inputs(&self, w: &FeatureWindow) -> Result<Vec<f32>, Vec<String>> {
        let values = match self.contract.normalisation {
            Normalisation::BaselineZScore => w.relative.as_ref(),
            Normalisation::None => Some(&w.features),
        };
        let mut x = Vec::with_capacity(self.contract.features.len());
        let mut missing = Vec::new();
        for f in &self.contract.features {
            match values.and_then(|v| v.get(*f)) {
                Some(v) => x.push(v as f32),
                None => missing.push(match (self.contract.normalisation, values) {
                    (Normalisation::BaselineZScore, None) => format!("{f} (no baseline yet)"),
                    (Normalisation::BaselineZScore, Some(_)) => format!("{f} (baseline z-score)"),
                    (Normalisation::None, _) => f.name().to_string(),
                }),
            }
        }
        if missing.is_empty() {
            Ok(x)
        } else {
            Err(missing)
        }
    }

    fn estimate_from(&self, w: &FeatureWindow, probs: &[f32]) -> ArousalEstimate {
        let c = &self.contract;
        let k = c.classes.len();
        let arousal = probs
            .iter()
            .zip(&c.class_arousal)
            .map(|(p, a)| *p as f64 * a)
            .sum::<f64>()
            .clamp(0.0, 1.0);
        let max = probs.iter().fold(0f32, |m, p| m.max(*p)) as f64;
        let chance = 1.0 / k as f64;
        let confidence = ((max - chance) / (1.0 - chance)).clamp(0.0, 1.0);
        let abstain = Abstain::below_floors(w.quality, c.min_quality, confidence, c.min_confidence);
        ArousalEstimate {
            time: w.end,
            arousal,
            confidence,
            probabilities: c
                .classes
                .iter()
                .cloned()
                .zip(probs.iter().map(|p| *p as f64))
                .collect(),
            abstain,
            estimator: self.name(),
        }
    }

    fn abstaining(&self, w: &FeatureWindow, why: Abstain) -> ArousalEstimate {
        let k = self.contract.classes.len();
        ArousalEstimate {
            time: w.end,
            arousal: 0.5,
            confidence: 0.0,
            probabilities: self
                .contract
                .classes
                .iter()
                .map(|c| (c.clone(), 1.0 / k as f64))
                .collect(),
            abstain: Some(why),
            estimator: self.name(),
        }
    }
}

impl ArousalEstimator for OnnxEstimator {
    fn estimate(&mut self, w: &FeatureWindow) -> ArousalEstimate {
        let x = match self.inputs(w) {
            Ok(x) => x,
            Err(missing) => return self.abstaining(w, Abstain::MissingFeatures(missing)),
        };
        match self.predict(&x) {
            Ok(p) => self.estimate_from(w, &p),
            Err(e) => self.abstaining(w, Abstain::Failed(e.to_string())),
        }
    }

    fn name(&self) -> String {
        format!("{} {}", self.contract.name, self.contract.version)
    }
}

/// The estimator a session uses: the model in `path`, or the bundled model when `path` is
/// `None`; when that model cannot be used, the [`RuleEstimator`] with a warning that names
/// the file and what was expected. Never fails. On the control thread, at start-up.
pub fn load_estimator(path: Option<&Path>) -> (Box<dyn ArousalEstimator>, Vec<String>) {
    let loaded = match path {
        Some(p) => OnnxEstimator::load(p),
        None => OnnxEstimator::bundled(),
    };
    match loaded {
        Ok(m) => (Box::new(m), Vec::new()),
        Err(e) => (
            Box::new(RuleEstimator::default()),
            vec![format!(
                "{e}; the transparent rule-based estimator stands in for the model"
            )],
        ),
    }
}
