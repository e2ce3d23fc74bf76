//! Protocols: how an adaptive session leads the listener, as preset data.
//!
//! A protocol names the sound that matches a calm listener and the sound that matches an
//! aroused one ([`Protocol::calm`], [`Protocol::aroused`]); the policy places the sound
//! between them at a *sound arousal* level. Phases say what the policy does with that
//! level over the session: **match** the measured state, **lead** toward
//! [`Protocol::goal_arousal`] at a bounded rate, **sustain** what was reached, and
//! **fade** to the end. Rates, ranges and thresholds are rules of thumb, so every one of
//! them is here, in the preset, never in code (docs/domain.md: "no published step sizes
//! exist: ramp rates are preset parameters").

use crate::duration::as_text;
use isochord_dsp::{Param, SoundscapeConfig};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the policy does during a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// Follow the measured arousal (iso principle: meet the listener where they are).
    Match,
    /// Move the sound toward the goal at the lead rate, staying within reach.
    Lead,
    /// Keep leading gently toward the goal and hold what was reached.
    Sustain,
    /// Fade the session out. Always the last phase; starts at the timer (the session's end
    /// minus its duration) or earlier when the listener has stayed calm.
    Fade,
}

/// The condition that starts a fade phase early.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyFade {
    /// Arousal below which the listener counts as calm.
    pub below: f64,
    /// How long the listener must stay calm.
    #[serde(rename = "for", with = "as_text")]
    pub sustained: Duration,
    /// No early fade before this much of the session has passed.
    #[serde(default, with = "as_text")]
    pub not_before: Duration,
}

/// One phase of a protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Name shown to the listener and in the log.
    pub name: String,
    /// What the policy does.
    pub kind: PhaseKind,
    /// Length. The last phase before a fade runs until the fade starts.
    #[serde(with = "as_text")]
    pub duration: Duration,
    /// For a fade: start early when the listener has stayed calm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_when_calm: Option<EarlyFade>,
}

/// A point in the sound space the policy steers: the arousal knobs of the soundscape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoundPoint {
    /// Tempo, BPM.
    pub tempo: f32,
    /// Brightness 0..1 (filter cutoffs).
    pub brightness: f32,
    /// Density 0..1 (voices, notes per beat).
    pub density: f32,
    /// Energy 0..1 (attack, drive).
    pub energy: f32,
    /// Reverb mix 0..1.
    pub reverb: f32,
}

impl SoundPoint {
    /// The parameters a sound point sets, in order.
    pub const PARAMS: [Param; 5] = [
        Param::Tempo,
        Param::Brightness,
        Param::Density,
        Param::Energy,
        Param::Reverb,
    ];

    /// The values in [`SoundPoint::PARAMS`] order.
    pub fn values(&self) -> [f32; 5] {
        [
            self.tempo,
            self.brightness,
            self.density,
            self.energy,
            self.reverb,
        ]
    }

    /// The point `t` of the way from `self` to `other` (t in 0..1).
    pub fn lerp(&self, other: &SoundPoint, t: f64) -> SoundPoint {
        let t = t.clamp(0.0, 1.0) as f32;
        let l = |a: f32, b: f32| a + (b - a) * t;
        SoundPoint {
            tempo: l(self.tempo, other.tempo),
            brightness: l(self.brightness, other.brightness),
            density: l(self.density, other.density),
            energy: l(self.energy, other.energy),
            reverb: l(self.reverb, other.reverb),
        }
    }
}

/// Feedback rules: when the listener's response slows or pauses the lead.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Feedback {
    /// Time constant of the arousal smoothing the policy acts on.
    #[serde(with = "as_text")]
    pub smoothing: Duration,
    /// Span over which the arousal trend is measured.
    #[serde(with = "as_text")]
    pub trend_span: Duration,
    /// An arousal change against the goal faster than this (per minute) pauses the lead.
    pub against_per_min: f64,
    /// Arousal at or above which the listener counts as highly aroused.
    pub high: f64,
    /// Staying highly aroused this long slows the lead.
    #[serde(with = "as_text")]
    pub high_for: Duration,
    /// Factor on the lead rate while the listener stays highly aroused (0..1: never faster).
    pub slow_factor: f64,
}

impl Default for Feedback {
    fn default() -> Self {
        Self {
            smoothing: Duration::from_secs(20),
            trend_span: Duration::from_secs(60),
            against_per_min: 0.08,
            high: 0.7,
            high_for: Duration::from_secs(60),
            slow_factor: 0.5,
        }
    }
}

/// Breath pacing: where the breath-guide swell starts and where it leads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreathPacing {
    /// Whether the guide follows the listener's breathing at all (otherwise it stays at
    /// the preset's breath rate).
    pub enabled: bool,
    /// Period over which the baseline breathing rate is measured, from the start.
    #[serde(with = "as_text")]
    pub baseline: Duration,
    /// Target as a fraction of the baseline rate (Leslie et al. 2019: 75 %).
    pub fraction_of_baseline: f64,
    /// The guide never leads below this rate (resonance breathing, about 6/min).
    pub floor_per_min: f64,
    /// Speed of the guide toward the baseline while matching, breaths/min per minute.
    pub match_per_min: f64,
    /// Speed of the guide toward the target while leading, breaths/min per minute.
    pub lead_per_min: f64,
    /// Breathing more than this above the guide counts as not following (breaths/min).
    pub tolerance_per_min: f64,
}

impl Default for BreathPacing {
    fn default() -> Self {
        Self {
            enabled: true,
            baseline: Duration::from_secs(120),
            fraction_of_baseline: 0.75,
            floor_per_min: 6.0,
            match_per_min: 6.0,
            lead_per_min: 0.5,
            tolerance_per_min: 1.5,
        }
    }
}

/// What happens when the sensor goes quiet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorLoss {
    /// No data for this long counts as a lost sensor.
    #[serde(with = "as_text")]
    pub after: Duration,
    /// The sound holds this long after the loss, then drifts to the preset's own sound.
    #[serde(with = "as_text")]
    pub hold: Duration,
    /// Speed of that drift, sound-arousal units per minute.
    pub drift_per_min: f64,
}

impl Default for SensorLoss {
    fn default() -> Self {
        Self {
            after: Duration::from_secs(15),
            hold: Duration::from_secs(60),
            drift_per_min: 0.1,
        }
    }
}

/// When to raise an escalation for a human to review, and the sound to ground on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Escalation {
    /// Heart rate at or above which, sustained, an escalation is raised (bpm).
    pub heart_rate_bpm: f64,
    /// How long the heart rate must stay that high.
    #[serde(with = "as_text")]
    pub heart_rate_for: Duration,
    /// Arousal at or above which, sustained with confidence, an escalation is raised.
    pub arousal: f64,
    /// Confidence the arousal estimates need for that.
    pub confidence: f64,
    /// How long arousal must stay that high.
    #[serde(with = "as_text")]
    pub arousal_for: Duration,
    /// A sensor lost this long raises an escalation.
    #[serde(with = "as_text")]
    pub sensor_lost_for: Duration,
    /// Signal quality below which, sustained while data arrive, an escalation is raised.
    pub quality_below: f64,
    /// How long quality must stay that low.
    #[serde(with = "as_text")]
    pub quality_for: Duration,
    /// The condition must be clear this long before the policy resumes.
    #[serde(with = "as_text")]
    pub clear_for: Duration,
    /// The neutral grounding sound played during an escalation.
    pub grounding: SoundPoint,
    /// Breath-guide rate during grounding, breaths/min.
    pub grounding_breath_per_min: f64,
}

impl Default for Escalation {
    fn default() -> Self {
        Self {
            heart_rate_bpm: 130.0,
            heart_rate_for: Duration::from_secs(120),
            arousal: 0.85,
            confidence: 0.6,
            arousal_for: Duration::from_secs(180),
            sensor_lost_for: Duration::from_secs(120),
            quality_below: 0.3,
            quality_for: Duration::from_secs(120),
            clear_for: Duration::from_secs(120),
            grounding: SoundPoint {
                tempo: 60.0,
                brightness: 0.35,
                density: 0.3,
                energy: 0.3,
                reverb: 0.4,
            },
            grounding_breath_per_min: 6.0,
        }
    }
}

/// A timbre palette: overrides of the preset's sound, chosen per session by the
/// listener's profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Palette {
    /// Name (stable: the profile keys its statistics by it).
    pub name: String,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
    /// Values merged over the preset's `[sound]` table (same keys).
    #[serde(default)]
    pub sound: toml::Table,
}

/// The adaptive protocol of a preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// The phases, in order.
    pub phases: Vec<Phase>,
    /// The arousal (0 calm .. 1 stressed) the protocol leads toward.
    pub goal_arousal: f64,
    /// The sound matching arousal 0.
    pub calm: SoundPoint,
    /// The sound matching arousal 1.
    pub aroused: SoundPoint,
    /// Speed of the sound while matching, sound-arousal units per minute.
    #[serde(default = "default_match_rate")]
    pub match_per_min: f64,
    /// Speed of the sound while leading, sound-arousal units per minute.
    #[serde(default = "default_lead_rate")]
    pub lead_per_min: f64,
    /// How far the sound may lead ahead of the measured arousal (iso principle: stay
    /// within reach).
    #[serde(default = "default_max_lead")]
    pub max_lead: f64,
    /// When the listener's arousal moves this far from the sound, away from the goal,
    /// the sound goes back to meet them (at the matching rate) before leading again.
    #[serde(default = "default_rematch_gap")]
    pub rematch_gap: f64,
    /// Feedback rules.
    #[serde(default)]
    pub feedback: Feedback,
    /// Breath pacing.
    #[serde(default)]
    pub breath: BreathPacing,
    /// Sensor loss.
    #[serde(default)]
    pub sensor_loss: SensorLoss,
    /// Escalation.
    #[serde(default)]
    pub escalation: Escalation,
    /// Timbre palettes for personalisation (none: the preset's sound only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub palettes: Vec<Palette>,
}

fn default_match_rate() -> f64 {
    0.3
}
fn default_lead_rate() -> f64 {
    0.05
}
fn default_max_lead() -> f64 {
    0.15
}
fn default_rematch_gap() -> f64 {
    0.25
}

/// A protocol field that is out of range: `field` is its dotted path under `protocol`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolError {
    /// Dotted path of the field (`phases.2.duration`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Where a phase sits on the session's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSpan {
    /// Index into [`Protocol::phases`].
    pub index: usize,
    /// Start, session seconds.
    pub start: f64,
    /// End, session seconds (for a fade: the session's end).
    pub end: f64,
}

impl Protocol {
    /// Checks ranges and ordering; the error names the field.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        let err = |field: &str, message: String| {
            Err(ProtocolError {
                field: field.to_string(),
                message,
            })
        };
        if self.phases.is_empty() {
            return err("phases", "needs at least one phase".into());
        }
        for (i, p) in self.phases.iter().enumerate() {
            if p.kind == PhaseKind::Fade && i + 1 != self.phases.len() {
                return err(
                    &format!("phases.{i}.kind"),
                    "a fade must be the last phase".into(),
                );
            }
            if p.early_when_calm.is_some() && p.kind != PhaseKind::Fade {
                return err(
                    &format!("phases.{i}.early_when_calm"),
                    "only a fade can start early".into(),
                );
            }
            if let Some(e) = &p.early_when_calm {
                if !(0.0..=1.0).contains(&e.below) {
                    return err(
                        &format!("phases.{i}.early_when_calm.below"),
                        format!("{} is outside 0..=1", e.below),
                    );
                }
            }
        }
        let unit = [
            ("goal_arousal", self.goal_arousal),
            ("max_lead", self.max_lead),
            ("rematch_gap", self.rematch_gap),
            ("feedback.high", self.feedback.high),
            ("feedback.slow_factor", self.feedback.slow_factor),
            ("escalation.arousal", self.escalation.arousal),
            ("escalation.confidence", self.escalation.confidence),
            ("escalation.quality_below", self.escalation.quality_below),
        ];
        for (field, v) in unit {
            if !(0.0..=1.0).contains(&v) {
                return err(field, format!("{v} is outside 0..=1"));
            }
        }
        let positive = [
            ("match_per_min", self.match_per_min),
            ("lead_per_min", self.lead_per_min),
            ("feedback.against_per_min", self.feedback.against_per_min),
            ("breath.match_per_min", self.breath.match_per_min),
            ("breath.lead_per_min", self.breath.lead_per_min),
            ("breath.tolerance_per_min", self.breath.tolerance_per_min),
            ("sensor_loss.drift_per_min", self.sensor_loss.drift_per_min),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0 && v <= 10.0) {
                return err(field, format!("{v} must be above 0 and at most 10"));
            }
        }
        if !(0.3..=1.0).contains(&self.breath.fraction_of_baseline) {
            return err(
                "breath.fraction_of_baseline",
                format!("{} is outside 0.3..=1", self.breath.fraction_of_baseline),
            );
        }
        let (lo, hi) = Param::BreathRate.range();
        for (field, v) in [
            ("breath.floor_per_min", self.breath.floor_per_min),
            (
                "escalation.grounding_breath_per_min",
                self.escalation.grounding_breath_per_min,
            ),
        ] {
            if !(lo as f64..=hi as f64).contains(&v) {
                return err(field, format!("{v} is outside {lo}..={hi}"));
            }
        }
        if !(30.0..=250.0).contains(&self.escalation.heart_rate_bpm) {
            return err(
                "escalation.heart_rate_bpm",
                format!("{} is outside 30..=250", self.escalation.heart_rate_bpm),
            );
        }
        for (name, point) in [
            ("calm", &self.calm),
            ("aroused", &self.aroused),
            ("escalation.grounding", &self.escalation.grounding),
        ] {
            for (param, v) in SoundPoint::PARAMS.iter().zip(point.values()) {
                let (lo, hi) = param.range();
                if !(lo..=hi).contains(&v) {
                    return err(
                        &format!("{name}.{}", param.name()),
                        format!("{v} is outside {lo}..={hi}"),
                    );
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, p) in self.palettes.iter().enumerate() {
            if p.name.trim().is_empty() || !names.insert(p.name.as_str()) {
                return err(
                    &format!("palettes.{i}.name"),
                    format!(
                        "palette names must be distinct and not empty ({:?})",
                        p.name
                    ),
                );
            }
        }
        Ok(())
    }

    /// The phases laid out over a session of `duration` seconds, with a fade starting at
    /// the timer (a fade takes at most a third of a short session). Phases that would
    /// start after the session's end are left out; the last phase before the fade (or the
    /// session's end) is stretched to meet it.
    pub fn timeline(&self, duration: f64) -> Vec<PhaseSpan> {
        let fade = self
            .phases
            .last()
            .filter(|p| p.kind == PhaseKind::Fade)
            .map(|p| p.duration.as_secs_f64().min(duration / 3.0));
        let body_end = duration - fade.unwrap_or(0.0);
        let body = if fade.is_some() {
            &self.phases[..self.phases.len() - 1]
        } else {
            &self.phases[..]
        };
        let mut spans = Vec::new();
        let mut t = 0.0;
        for (i, p) in body.iter().enumerate() {
            if t >= body_end {
                break;
            }
            let end = (t + p.duration.as_secs_f64()).min(body_end);
            spans.push(PhaseSpan {
                index: i,
                start: t,
                end,
            });
            t = end;
        }
        if let Some(last) = spans.last_mut() {
            last.end = body_end;
        }
        if fade.is_some() {
            spans.push(PhaseSpan {
                index: self.phases.len() - 1,
                start: body_end,
                end: duration,
            });
        }
        spans
    }

    /// The sound arousal (0..1) whose sound is closest in tempo to `config`'s starting
    /// tempo: where the preset's own sound sits between calm and aroused.
    pub fn neutral_level(&self, config: &SoundscapeConfig) -> f64 {
        let span = (self.aroused.tempo - self.calm.tempo) as f64;
        if span.abs() < 1e-6 {
            return 0.5;
        }
        ((config.start.tempo - self.calm.tempo) as f64 / span).clamp(0.0, 1.0)
    }

    /// The sound at sound-arousal `level`.
    pub fn sound_at(&self, level: f64) -> SoundPoint {
        self.calm.lerp(&self.aroused, level)
    }

    /// `sound` with palette `index`'s overrides merged in, or the reason it does not fit.
    /// Runs on the control thread.
    pub fn apply_palette(
        &self,
        sound: &SoundscapeConfig,
        index: usize,
    ) -> Result<SoundscapeConfig, PaletteError> {
        let Some(palette) = self.palettes.get(index) else {
            return Ok(sound.clone());
        };
        let error = |field: Option<String>, message: String| PaletteError {
            palette: palette.name.clone(),
            field,
            message,
        };
        let mut table = toml::Table::try_from(sound).map_err(|e| error(None, e.to_string()))?;
        merge(&mut table, &palette.sound);
        let merged: SoundscapeConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| error(None, e.message().to_string()))?;
        merged
            .validate()
            .map_err(|e| error(Some(e.field), e.message))?;
        Ok(merged)
    }
}

/// Why a palette's sound does not fit the preset's: the merged sound does not parse or
/// is out of range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("palette {palette:?}: {}{message}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct PaletteError {
    /// The palette's name.
    pub palette: String,
    /// The sound field that is wrong, when known (dotted path).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol() -> Protocol {
        toml::from_str(
            r#"
            goal_arousal = 0.2
            calm = { tempo = 54, brightness = 0.25, density = 0.3, energy = 0.2, reverb = 0.55 }
            aroused = { tempo = 84, brightness = 0.7, density = 0.75, energy = 0.7, reverb = 0.3 }
            [[phases]]
            name = "match"
            kind = "match"
            duration = "2m"
            [[phases]]
            name = "lead"
            kind = "lead"
            duration = "10m"
            [[phases]]
            name = "sustain"
            kind = "sustain"
            duration = "3m"
            [[phases]]
            name = "close"
            kind = "fade"
            duration = "30s"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn timeline_stretches_the_body_to_the_fade() {
        let p = protocol();
        p.validate().unwrap();
        let t = p.timeline(900.0);
        let spans: Vec<(usize, f64, f64)> = t.iter().map(|s| (s.index, s.start, s.end)).collect();
        assert_eq!(
            spans,
            vec![
                (0, 0.0, 120.0),
                (1, 120.0, 720.0),
                (2, 720.0, 870.0),
                (3, 870.0, 900.0)
            ]
        );
        // a shorter session cuts the later phases
        let t = p.timeline(300.0);
        assert_eq!(t.len(), 3);
        assert_eq!((t[1].start, t[1].end), (120.0, 270.0));
        assert_eq!((t[2].start, t[2].end), (270.0, 300.0));
    }

    #[test]
    fn validation_names_the_field() {
        let mut p = protocol();
        p.calm.tempo = 400.0;
        assert_eq!(p.validate().unwrap_err().field, "calm.tempo");
        let mut p = protocol();
        p.phases.swap(2, 3);
        assert_eq!(p.validate().unwrap_err().field, "phases.2.kind");
        let mut p = protocol();
        p.breath.fraction_of_baseline = 0.1;
        assert_eq!(
            p.validate().unwrap_err().field,
            "breath.fraction_of_baseline"
        );
    }

    #[test]
    fn palettes_merge_over_the_sound() {
        let mut p = protocol();
        p.palettes.push(Palette {
            name: "dark".into(),
            description: String::new(),
            sound: toml::from_str("key = \"A\"\n[pad]\nsaw_max = 0.2\n").unwrap(),
        });
        let base = SoundscapeConfig::default();
        let m = p.apply_palette(&base, 0).unwrap();
        assert_eq!(m.pad.saw_max, 0.2);
        assert_ne!(m.key, base.key);
        assert_eq!(m.pad.gain, base.pad.gain);
        p.palettes[0].sound = toml::from_str("[pad]\nsaw_max = 7.0\n").unwrap();
        let e = p.apply_palette(&base, 0).unwrap_err();
        assert!(e.to_string().contains("saw_max"), "{e}");
    }
}
