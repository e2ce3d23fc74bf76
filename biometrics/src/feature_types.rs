//! The feature vector and the window it comes in: the types the feature extractor
//! ([`super::features`]) produces and the baseline ([`super::baseline`]) and estimators
//! consume. A module of their own, so that the extractor and the baseline do not import
//! each other.

use std::fmt;

/// The features, in vector order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Feature {
    /// Mean heart rate, 60000 / MeanNN (bpm), or the mean of device HR readings.
    MeanHr,
    /// Mean of accepted RR intervals (ms).
    MeanNn,
    /// SD of accepted RR intervals, ddof = 1 (ms).
    Sdnn,
    /// RMS of successive differences (ms).
    Rmssd,
    /// pNN50 in the configured convention (%; Task Force by default).
    Pnn50,
    /// Low-frequency power 0.04–0.15 Hz (ms²).
    Lf,
    /// High-frequency power 0.15–0.4 Hz (ms²).
    Hf,
    /// LF / HF.
    LfHf,
    /// Mean tonic skin conductance, SCL (µS).
    EdaTonic,
    /// Skin-conductance responses per minute.
    ScrRate,
    /// Respiration rate (breaths/min).
    RespRate,
    /// Mean acceleration magnitude (g).
    AccMean,
    /// SD of the acceleration magnitude (g).
    AccSd,
    /// Mean of max(|a| - 1 g, 0) (g).
    AccEnmo,
    /// Mean skin temperature (°C).
    SkinTemp,
}

/// Number of features.
pub const FEATURE_COUNT: usize = 15;

/// Name, unit and meaning of a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureInfo {
    /// Stable snake_case name (what a model maps inputs by).
    pub name: &'static str,
    /// Unit (UCUM-like).
    pub unit: &'static str,
    /// One line of meaning.
    pub description: &'static str,
}

const INFO: [FeatureInfo; FEATURE_COUNT] = [
    FeatureInfo {
        name: "mean_hr",
        unit: "/min",
        description: "mean heart rate, 60000 / MeanNN",
    },
    FeatureInfo {
        name: "mean_nn",
        unit: "ms",
        description: "mean of accepted RR intervals",
    },
    FeatureInfo {
        name: "sdnn",
        unit: "ms",
        description: "SD of accepted RR intervals (ddof 1)",
    },
    FeatureInfo {
        name: "rmssd",
        unit: "ms",
        description: "RMS of successive RR differences",
    },
    FeatureInfo {
        name: "pnn50",
        unit: "%",
        description: "successive differences > 50 ms",
    },
    FeatureInfo {
        name: "lf",
        unit: "ms2",
        description: "RR power 0.04-0.15 Hz",
    },
    FeatureInfo {
        name: "hf",
        unit: "ms2",
        description: "RR power 0.15-0.4 Hz",
    },
    FeatureInfo {
        name: "lf_hf",
        unit: "1",
        description: "LF / HF",
    },
    FeatureInfo {
        name: "eda_tonic",
        unit: "uS",
        description: "mean tonic skin conductance (SCL)",
    },
    FeatureInfo {
        name: "scr_rate",
        unit: "/min",
        description: "skin-conductance responses per minute",
    },
    FeatureInfo {
        name: "resp_rate",
        unit: "/min",
        description: "respiration rate",
    },
    FeatureInfo {
        name: "acc_mean",
        unit: "g",
        description: "mean acceleration magnitude",
    },
    FeatureInfo {
        name: "acc_sd",
        unit: "g",
        description: "SD of acceleration magnitude",
    },
    FeatureInfo {
        name: "acc_enmo",
        unit: "g",
        description: "mean of max(|a| - 1 g, 0)",
    },
    FeatureInfo {
        name: "skin_temp",
        unit: "Cel",
        description: "mean skin temperature",
    },
];

impl Feature {
    /// All features in vector order.
    pub const ALL: [Feature; FEATURE_COUNT] = [
        Feature::MeanHr,
        Feature::MeanNn,
        Feature::Sdnn,
        Feature::Rmssd,
        Feature::Pnn50,
        Feature::Lf,
        Feature::Hf,
        Feature::LfHf,
        Feature::EdaTonic,
        Feature::ScrRate,
        Feature::RespRate,
        Feature::AccMean,
        Feature::AccSd,
        Feature::AccEnmo,
        Feature::SkinTemp,
    ];

    /// Name, unit and description.
    pub fn info(self) -> &'static FeatureInfo {
        &INFO[self as usize]
    }

    /// Stable name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Unit.
    pub fn unit(self) -> &'static str {
        self.info().unit
    }

    /// The feature with this name.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value per [`Feature`]; `None` when it could not be measured. Never NaN or
/// infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FeatureVector {
    values: [Option<f64>; FEATURE_COUNT],
}

impl FeatureVector {
    /// Value of a feature.
    pub fn get(&self, f: Feature) -> Option<f64> {
        self.values[f as usize]
    }

    /// Value by name (`None` also for unknown names).
    pub fn get_by_name(&self, name: &str) -> Option<f64> {
        Feature::from_name(name).and_then(|f| self.get(f))
    }

    /// Sets a value; non-finite values become `None`.
    pub fn set(&mut self, f: Feature, v: Option<f64>) {
        self.values[f as usize] = v.filter(|x| x.is_finite());
    }

    /// (feature, value) pairs in vector order.
    pub fn iter(&self) -> impl Iterator<Item = (Feature, Option<f64>)> + '_ {
        Feature::ALL.iter().map(move |f| (*f, self.get(*f)))
    }

    /// The values in vector order.
    pub fn values(&self) -> &[Option<f64>; FEATURE_COUNT] {
        &self.values
    }
}

/// Where the cardiac intervals of a window came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrSource {
    /// R-peaks detected in an ECG waveform.
    Ecg,
    /// Intervals reported by the device (Empatica IBI, Bluetooth RR).
    Device,
    /// Pulse peaks detected in a PPG waveform.
    Ppg,
    /// Device heart-rate readings only (no intervals).
    HeartRateReadings,
}

/// Where the respiration rate of a window came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespSource {
    /// A respiration waveform.
    Waveform,
    /// Respiration-rate readings from the device.
    Device,
    /// Respiratory sinus arrhythmia in the RR intervals.
    Rsa,
}

/// The features of one window, with their provenance and quality.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureWindow {
    /// Window start, session seconds.
    pub start: f64,
    /// Window end (exclusive), session seconds.
    pub end: f64,
    /// The features.
    pub features: FeatureVector,
    /// The features relative to the person's baseline, once it is known.
    pub relative: Option<FeatureVector>,
    /// Overall signal quality 0..1: the mean of the cardiac and EDA qualities that
    /// exist, times the share of the window after the first data.
    pub quality: f64,
    /// Share of the window covered by accepted RR intervals (0..1), or, with heart-rate
    /// readings but no beats, by the readings (each covering up to
    /// [`HR_READING_SPAN_S`](crate::features::HR_READING_SPAN_S)); `None`
    /// without cardiac data.
    pub cardiac_quality: Option<f64>,
    /// Share of expected EDA samples that were valid (0..1), if any EDA data.
    pub eda_quality: Option<f64>,
    /// Accepted RR intervals used.
    pub beats: usize,
    /// RR intervals rejected as artifacts in this window.
    pub rejected_beats: usize,
    /// Samples and readings rejected in this window (not finite, out of range, flat or
    /// saturated EDA, during contact loss, late or overlapping).
    pub rejected_samples: u64,
    /// Seconds of the window during which a sensor reported lost contact.
    pub contact_lost_s: f64,
    /// Source of the cardiac features.
    pub rr_source: Option<RrSource>,
    /// Source of the respiration rate.
    pub resp_source: Option<RespSource>,
}
