//! The session log: JSON Lines, one record per second of session time, plus a header
//! and a summary. Each record holds the raw signal summary of that second, the newest
//! feature window (when one completed), the model output, the policy's phase, action and
//! reason, the decisions taken, the sound asked for, the output level and the allowance
//! used. Written on the control thread; never on the audio thread.
//!
//! The header carries `started_at` (wall-clock UTC when the log was opened) and each
//! second's `raw` record the RR intervals received in it (`rr_ms`), so a report can
//! recompute heart-rate variability from the beats themselves.

use super::outcome::SessionOutcome;
use crate::allowance::SoundAllowance;
use crate::biometrics::features::FeatureWindow;
use crate::biometrics::signal::{SensorData, Value, WaveKind};
use crate::mood::ArousalEstimate;
use crate::policy::{PolicyStatus, SessionEvent};
use serde_json::{json, Map, Value as Json};
use std::io::{BufWriter, Write};

pub use isochord_report::log_schema::LOG_FORMAT_VERSION;
pub use isochord_report::utc::{format_utc, utc_now};

/// What arrived from the sensors during one second.
#[derive(Clone, Debug, Default)]
pub struct RawSummary {
    /// Readings and waveform chunks received.
    pub items: u64,
    /// Rejected or ignored items (issues).
    pub issues: u64,
    hr: (f64, u32),
    rr: (f64, u32),
    rr_ms: Vec<f64>,
    eda: (f64, u32),
    resp_rate: Option<f64>,
    temp: Option<f64>,
    acc: u32,
    contact_lost: u32,
    wave: [u32; 3],
}

impl RawSummary {
    /// Counts `data`.
    pub fn add(&mut self, data: &SensorData) {
        self.items += 1;
        match data {
            SensorData::Reading(r) => match r.value {
                Value::HeartRate(v) => {
                    self.hr.0 += v as f64;
                    self.hr.1 += 1;
                }
                Value::Rr(v) => {
                    self.rr.0 += v as f64;
                    self.rr.1 += 1;
                    self.rr_ms.push(v as f64);
                }
                Value::Eda(v) => {
                    self.eda.0 += v as f64;
                    self.eda.1 += 1;
                }
                Value::RespRate(v) => self.resp_rate = Some(v as f64),
                Value::Temp(v) => self.temp = Some(v as f64),
                Value::Acc(_) => self.acc += 1,
                Value::Resp(_) => self.wave[2] += 1,
                Value::ContactLost => self.contact_lost += 1,
            },
            SensorData::Waveform(w) => {
                let i = match w.kind {
                    WaveKind::Ecg => 0,
                    WaveKind::Ppg => 1,
                    WaveKind::Resp => 2,
                };
                self.wave[i] += w.samples.len() as u32;
            }
        }
    }

    fn to_json(&self) -> Json {
        let mean = |(s, n): (f64, u32)| (n > 0).then(|| round(s / n as f64, 3));
        let mut m = Map::new();
        m.insert("items".into(), json!(self.items));
        m.insert("issues".into(), json!(self.issues));
        let mut put = |k: &str, v: Option<f64>| {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        };
        put("hr_bpm", mean(self.hr));
        put("rr_ms_mean", mean(self.rr));
        put("rr_count", (self.rr.1 > 0).then_some(self.rr.1 as f64));
        put("eda_us", mean(self.eda));
        put("resp_rate", self.resp_rate.map(|v| round(v, 2)));
        put("temp_c", self.temp.map(|v| round(v, 2)));
        put("acc_samples", (self.acc > 0).then_some(self.acc as f64));
        put(
            "contact_lost",
            (self.contact_lost > 0).then_some(self.contact_lost as f64),
        );
        put(
            "ecg_samples",
            (self.wave[0] > 0).then_some(self.wave[0] as f64),
        );
        put(
            "ppg_samples",
            (self.wave[1] > 0).then_some(self.wave[1] as f64),
        );
        put(
            "resp_samples",
            (self.wave[2] > 0).then_some(self.wave[2] as f64),
        );
        if !self.rr_ms.is_empty() {
            let rr: Vec<f64> = self.rr_ms.iter().map(|v| round(*v, 1)).collect();
            m.insert("rr_ms".into(), json!(rr));
        }
        Json::Object(m)
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

fn db(x: f64) -> Option<f64> {
    (x > 0.0).then(|| round(20.0 * x.log10(), 2))
}

/// One second's record (borrowed parts, serialised at once).
pub struct LogRecord<'a> {
    /// End of the second, session seconds.
    pub time: f64,
    /// What arrived.
    pub raw: &'a RawSummary,
    /// A feature window completed in this second.
    pub window: Option<&'a FeatureWindow>,
    /// The newest estimate.
    pub estimate: Option<&'a ArousalEstimate>,
    /// The policy.
    pub status: &'a PolicyStatus,
    /// Events of this second.
    pub events: &'a [SessionEvent],
    /// Output RMS over the second (linear), when audio was metered.
    pub output_rms: Option<f64>,
    /// Output peak over the second (linear).
    pub output_peak: Option<f64>,
    /// The allowance meter.
    pub allowance: &'a SoundAllowance,
}

/// Writes the log.
pub struct SessionLog {
    out: BufWriter<Box<dyn Write + Send>>,
    error: Option<String>,
}

impl SessionLog {
    /// A log writing to `out`; `header` is merged into the first line.
    pub fn new(out: Box<dyn Write + Send>, header: Map<String, Json>) -> Self {
        let mut log = Self {
            out: BufWriter::new(out),
            error: None,
        };
        let mut h = Map::new();
        h.insert("record".into(), json!("header"));
        h.insert("format_version".into(), json!(LOG_FORMAT_VERSION));
        h.insert("engine_version".into(), json!(env!("CARGO_PKG_VERSION")));
        h.insert("started_at".into(), json!(utc_now()));
        h.extend(header);
        log.line(&Json::Object(h));
        log
    }

    /// The first write error, if any (the session goes on without its log; the caller
    /// must fail the run). Control thread.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Writes one record and flushes it, so a killed process leaves every record it
    /// wrote whole (at most the last line torn).
    fn line(&mut self, v: &Json) {
        if self.error.is_some() {
            return;
        }
        let r = serde_json::to_writer(&mut self.out, v)
            .map_err(|e| e.to_string())
            .and_then(|()| self.out.write_all(b"\n").map_err(|e| e.to_string()))
            .and_then(|()| self.out.flush().map_err(|e| e.to_string()));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// Writes one second.
    pub fn write(&mut self, r: &LogRecord<'_>) {
        let s = r.status;
        let mut rec = Map::new();
        rec.insert("record".into(), json!("second"));
        rec.insert("t".into(), json!(round(r.time, 3)));
        rec.insert("raw".into(), r.raw.to_json());
        if let Some(w) = r.window {
            let mut f = Map::new();
            for (feat, v) in w.features.iter() {
                if let Some(v) = v {
                    f.insert(feat.name().into(), json!(round(v, 4)));
                }
            }
            let rel = w.relative.as_ref().map(|rv| {
                let mut m = Map::new();
                for (feat, v) in rv.iter() {
                    if let Some(v) = v {
                        m.insert(feat.name().into(), json!(round(v, 4)));
                    }
                }
                Json::Object(m)
            });
            rec.insert(
                "window".into(),
                json!({
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "features": f,
                    "relative": rel,
                    "quality": round(w.quality, 3),
                    "beats": w.beats,
                    "rejected_beats": w.rejected_beats,
                    "rejected_samples": w.rejected_samples,
                }),
            );
        }
        if let Some(e) = r.estimate {
            let probs: Map<String, Json> = e
                .probabilities
                .iter()
                .map(|(k, v)| (k.clone(), json!(round(*v, 4))))
                .collect();
            rec.insert(
                "model".into(),
                json!({
                    "estimator": e.estimator,
                    "window_end": round(e.time, 3),
                    "arousal": round(e.arousal, 4),
                    "confidence": round(e.confidence, 4),
                    "probabilities": probs,
                    "abstain": e.abstain.as_ref().map(|a| a.to_string()),
                }),
            );
        }
        rec.insert(
            "policy".into(),
            json!({
                "phase": s.phase,
                "action": s.action.name(),
                "reason": s.reason,
                "level": round(s.level, 4),
                "arousal": s.arousal.map(|a| round(a, 4)),
                "trend_per_min": s.trend_per_min.map(|a| round(a, 4)),
                "grounding": s.grounding,
                "sensor_lost_s": s.sensor_lost_s.map(|a| round(a, 1)),
                "breath_baseline": s.breath_baseline.map(|a| round(a, 2)),
                "breath_target": s.breath_target.map(|a| round(a, 2)),
            }),
        );
        if !r.events.is_empty() {
            rec.insert("decisions".into(), json!(r.events));
        }
        rec.insert(
            "params".into(),
            json!({
                "tempo": round(s.sound.tempo as f64, 3),
                "brightness": round(s.sound.brightness as f64, 4),
                "density": round(s.sound.density as f64, 4),
                "energy": round(s.sound.energy as f64, 4),
                "reverb": round(s.sound.reverb as f64, 4),
                "breath_rate": round(s.breath_guide, 3),
            }),
        );
        if let Some(rms) = r.output_rms {
            rec.insert(
                "output".into(),
                json!({
                    "rms_dbfs": db(rms),
                    "peak_dbfs": r.output_peak.and_then(db),
                    "spl_db": round(r.allowance.level_db(rms), 2),
                }),
            );
        }
        rec.insert("allowance".into(), allowance_json(r.allowance));
        self.line(&Json::Object(rec));
    }

    /// Writes the closing summary.
    pub fn summary(
        &mut self,
        time: f64,
        o: &SessionOutcome,
        allowance: &SoundAllowance,
        events: &[SessionEvent],
    ) {
        let v = json!({
            "record": "summary",
            "t": round(time, 3),
            "arousal_start": o.arousal_start.map(|a| round(a, 4)),
            "arousal_end": o.arousal_end.map(|a| round(a, 4)),
            "usable_estimates": o.usable_estimates.0,
            "estimates": o.usable_estimates.1,
            "escalations": o.escalations,
            "events": o.events,
            "breath_baseline": o.breath_baseline.map(|a| round(a, 2)),
            "allowance": allowance_json(allowance),
            "decisions": events,
        });
        self.line(&v);
    }

    /// Flushes buffered lines (each record is flushed as it is written; this also
    /// catches a failure the last flush reported late). Control thread.
    pub fn flush(&mut self) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.flush() {
            self.error = Some(e.to_string());
        }
    }
}

fn allowance_json(a: &SoundAllowance) -> Json {
    let c = a.config();
    json!({
        "used": round(a.used(), 6),
        "dose_pa2h": round(a.dose_pa2h(), 8),
        "leq_db": a.leq_db().map(|x| round(x, 2)),
        "calibration_db": c.calibration_db,
        "calibrated": c.calibrated,
        "listener": c.listener,
    })
}
