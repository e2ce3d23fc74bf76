//! Windowed features from a stream of [`SensorData`]: the vector the control thread
//! and arousal models consume.
//!
//! A [`FeatureExtractor`] takes readings and waveform chunks in any order within
//! `reorder_tolerance_s`, runs beat detection on ECG/PPG waveforms, and every `hop_s`
//! (default 5 s) yields a [`FeatureWindow`] over the last `window_s` (default 60 s):
//! cardiac features from the best RR source present (ECG beats > device RR intervals >
//! PPG pulses; mean HR from device heart-rate readings otherwise), EDA tonic level and
//! SCR rate, respiration rate (respiration waveform > device respiration rate > RSA in
//! the RR intervals), movement, skin temperature, a quality score in 0..1 and the count
//! of rejected beats and samples, plus the same features relative to the person's
//! baseline ([`super::baseline`]).
//!
//! Window rule (as the NeuroKit2 reference windows): a window is `[end - window_s,
//! end)`; an RR interval belongs to it when both of its beats do; EDA, respiration,
//! movement and temperature samples when their time does. LF/HF need a longer span: they
//! come from the last `spectral_window_s` (default 120 s, the minimum for LF; the window
//! itself when that is longer) and only when accepted intervals cover 80 % of it.
//!
//! A window is yielded once every active stream has been processed past its end (ECG
//! detection finalises about 10 s behind the newest sample), or at the latest when data
//! `max_wait_s` past its end has arrived. [`FeatureExtractor::finish`] flushes the rest.
//!
//! Runs on the control thread (or a dedicated input thread), never on the audio thread:
//! it allocates and filters.

use super::baseline::{Baseline, BaselineConfig};
use super::beat_detector::{detector_for, BeatDetector};
use super::ecg_peaks::EcgDetectorConfig;
use super::eda::{decompose, invalid_samples, scr_peaks, EdaLimits, ScrThreshold};
pub use super::feature_types::{
    Feature, FeatureInfo, FeatureVector, FeatureWindow, RespSource, RrSource, FEATURE_COUNT,
};
use super::filters::median;
use super::hrv::{frequency_domain, time_domain, Pnn50Convention, SpectralConfig};
use super::movement::{magnitude, movement};
use super::ppg_peaks::PpgDetectorConfig;
use super::respiration::{rate_from_rr, rate_from_waveform};
use super::rr_artifacts::{accepted, classify, ArtifactConfig, Rr, RrStatus};
use super::signal::{SensorData, Value, WaveKind, Waveform};
use std::fmt;

/// Settings of a [`FeatureExtractor`].
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureConfig {
    /// Window length, seconds.
    pub window_s: f64,
    /// Time between windows, seconds.
    pub hop_s: f64,
    /// Span for LF/HF, seconds (the window itself when that is longer).
    pub spectral_window_s: f64,
    /// Session time of the first window's start grid: window ends fall at
    /// `origin_s + k * hop_s`.
    pub origin_s: f64,
    /// Readings may arrive up to this late, seconds.
    pub reorder_tolerance_s: f64,
    /// A window is yielded at the latest once data this far past its end arrived.
    pub max_wait_s: f64,
    /// A stream silent for this long no longer holds windows back, seconds.
    pub stale_s: f64,
    /// RR artifact rules.
    pub artifacts: ArtifactConfig,
    /// RR intervals before the window also used to judge artifacts, seconds.
    pub artifact_context_s: f64,
    /// pNN50 convention of [`Feature::Pnn50`].
    pub pnn50: Pnn50Convention,
    /// Spectral HRV settings.
    pub spectral: SpectralConfig,
    /// SCR acceptance rule.
    pub scr_threshold: ScrThreshold,
    /// EDA validity limits.
    pub eda_limits: EdaLimits,
    /// EDA before the window used to settle the 0.05 Hz filters, seconds.
    pub eda_context_s: f64,
    /// EDA after the window end used by the zero-phase filters, seconds (windows wait
    /// for it).
    pub eda_lookahead_s: f64,
    /// Each contact-lost report invalidates this long from its time, seconds.
    pub contact_hold_s: f64,
    /// ECG detector settings.
    pub ecg: EcgDetectorConfig,
    /// PPG detector settings.
    pub ppg: PpgDetectorConfig,
    /// Baseline settings.
    pub baseline: BaselineConfig,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            window_s: 60.0,
            hop_s: 5.0,
            spectral_window_s: 120.0,
            origin_s: 0.0,
            reorder_tolerance_s: 2.0,
            max_wait_s: 20.0,
            stale_s: 10.0,
            artifacts: ArtifactConfig::default(),
            artifact_context_s: 30.0,
            pnn50: Pnn50Convention::TaskForce,
            spectral: SpectralConfig::default(),
            scr_threshold: ScrThreshold::default(),
            eda_limits: EdaLimits::default(),
            eda_context_s: 60.0,
            eda_lookahead_s: 10.0,
            contact_hold_s: 1.0,
            ecg: EcgDetectorConfig::default(),
            ppg: PpgDetectorConfig::default(),
            baseline: BaselineConfig::default(),
        }
    }
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureConfigError(pub String);

impl fmt::Display for FeatureConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature configuration: {}", self.0)
    }
}

impl std::error::Error for FeatureConfigError {}

#[derive(Debug)]
struct Segment {
    det: Box<dyn BeatDetector>,
    start: f64,
    rate: f64,
    /// samples received
    n: u64,
    last_beat: Option<u64>,
    rejected_seen: u64,
}

impl Segment {
    fn next_time(&self) -> f64 {
        self.start + self.n as f64 / self.rate
    }
    fn final_time(&self) -> f64 {
        let f = self.det.final_until();
        self.start + f as f64 / self.rate
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Ecg,
    Ppg,
    Resp,
    Rr,
    Hr,
    Eda,
    RespRate,
    Temp,
    Acc,
}

const STREAMS: usize = 9;

/// Turns a stream of [`SensorData`] into [`FeatureWindow`]s; see the module docs.
#[derive(Debug)]
pub struct FeatureExtractor {
    cfg: FeatureConfig,
    next_end: f64,
    first_time: Option<f64>,
    latest: f64,
    stream_latest: [Option<f64>; STREAMS],
    ecg: Option<Segment>,
    ppg: Option<Segment>,
    ecg_rr: Vec<Rr>,
    ppg_rr: Vec<Rr>,
    dev_rr: Vec<Rr>,
    hr: Vec<(f64, f64)>,
    eda: Vec<(f64, f64)>,
    resp_rate: Vec<(f64, f64)>,
    temp: Vec<(f64, f64)>,
    acc: Vec<(f64, [f32; 3])>,
    resp: Vec<(f64, f64)>,
    resp_rate_hz: f64,
    contact_lost: Vec<f64>,
    rejected: Vec<(f64, u64)>,
    rejected_total: u64,
    baseline: Baseline,
}

fn insert_sorted<T>(v: &mut Vec<(f64, T)>, t: f64, x: T) {
    let pos = if v.last().is_none_or(|l| l.0 <= t) {
        v.len()
    } else {
        v.partition_point(|e| e.0 <= t)
    };
    v.insert(pos, (t, x));
}

fn insert_rr(v: &mut Vec<Rr>, r: Rr) {
    let pos = if v.last().is_none_or(|l| l.time <= r.time) {
        v.len()
    } else {
        v.partition_point(|e| e.time <= r.time)
    };
    v.insert(pos, r);
}

impl FeatureExtractor {
    /// An extractor with the given settings.
    pub fn new(cfg: FeatureConfig) -> Result<Self, FeatureConfigError> {
        let pos = |v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(FeatureConfigError(format!(
                    "{what} must be a positive number of seconds, not {v}"
                )))
            }
        };
        pos(cfg.window_s, "window_s")?;
        pos(cfg.hop_s, "hop_s")?;
        pos(cfg.spectral_window_s, "spectral_window_s")?;
        if !cfg.origin_s.is_finite() {
            return Err(FeatureConfigError("origin_s must be finite".into()));
        }
        for (v, what) in [
            (cfg.reorder_tolerance_s, "reorder_tolerance_s"),
            (cfg.max_wait_s, "max_wait_s"),
            (cfg.artifact_context_s, "artifact_context_s"),
            (cfg.eda_context_s, "eda_context_s"),
            (cfg.eda_lookahead_s, "eda_lookahead_s"),
            (cfg.contact_hold_s, "contact_hold_s"),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(FeatureConfigError(format!(
                    "{what} must be >= 0 seconds, not {v}"
                )));
            }
        }
        Ok(Self {
            next_end: cfg.origin_s + cfg.hop_s,
            baseline: Baseline::new(cfg.baseline, cfg.origin_s),
            first_time: None,
            latest: f64::NEG_INFINITY,
            stream_latest: [None; STREAMS],
            ecg: None,
            ppg: None,
            ecg_rr: Vec::new(),
            ppg_rr: Vec::new(),
            dev_rr: Vec::new(),
            hr: Vec::new(),
            eda: Vec::new(),
            resp_rate: Vec::new(),
            temp: Vec::new(),
            acc: Vec::new(),
            resp: Vec::new(),
            resp_rate_hz: 0.0,
            contact_lost: Vec::new(),
            rejected: Vec::new(),
            rejected_total: 0,
            cfg,
        })
    }

    /// The settings.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// The baseline collector (its statistics once the baseline period is over).
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Replaces the baseline (e.g. with one from an earlier session).
    pub fn set_baseline(&mut self, b: Baseline) {
        self.baseline = b;
    }

    /// Earliest time any future window still needs.
    fn keep_from(&self) -> f64 {
        let span = self.cfg.window_s.max(self.cfg.spectral_window_s);
        self.next_end - span - self.cfg.artifact_context_s.max(self.cfg.eda_context_s)
    }

    /// Readings and samples rejected since the start (not finite, out of range, too
    /// late or out of order beyond what windows still need). Control thread.
    pub fn rejected_total(&self) -> u64 {
        self.rejected_total
    }

    fn reject(&mut self, t: f64, n: u64) {
        self.rejected_total += n;
        if n > 0 {
            let t = if t.is_finite() { t } else { self.latest };
            self.rejected.push((t, n));
        }
    }

    fn seen(&mut self, s: Stream, t: f64) {
        let slot = &mut self.stream_latest[s as usize];
        *slot = Some(slot.map_or(t, |v| v.max(t)));
        self.latest = self.latest.max(t);
        if self.first_time.is_none_or(|f| t < f) {
            self.first_time = Some(t);
        }
    }

    /// Takes one item; returns the windows that became complete (usually none or one).
    pub fn push(&mut self, data: &SensorData) -> Vec<FeatureWindow> {
        match data {
            SensorData::Reading(r) => self.push_reading(r.time, r.value),
            SensorData::Waveform(w) => self.push_waveform(w),
        }
        self.emit(false)
    }

    /// Takes one RR interval at full precision (`ms` ending at session time `t`), as a
    /// [`Value::Rr`] reading would be taken; returns the windows that became complete.
    pub fn push_rr(&mut self, t: f64, ms: f64) -> Vec<FeatureWindow> {
        if !t.is_finite() || t < self.cfg.origin_s || t < self.keep_from() {
            self.reject(t, 1);
        } else if ms.is_finite() && (1.0..=10_000.0).contains(&ms) {
            insert_rr(&mut self.dev_rr, Rr { time: t, ms });
            self.seen(Stream::Rr, t);
        } else {
            self.reject(t, 1);
        }
        self.emit(false)
    }

    fn push_reading(&mut self, t: f64, v: Value) {
        if !t.is_finite() || t < self.cfg.origin_s || t < self.keep_from() {
            self.reject(t, 1);
            return;
        }
        let ok = |x: f32, lo: f32, hi: f32| x.is_finite() && x >= lo && x <= hi;
        match v {
            Value::HeartRate(h) if ok(h, 20.0, 250.0) => {
                insert_sorted(&mut self.hr, t, h as f64);
                self.seen(Stream::Hr, t);
            }
            Value::Rr(ms) if ok(ms, 1.0, 10_000.0) => {
                insert_rr(
                    &mut self.dev_rr,
                    Rr {
                        time: t,
                        ms: ms as f64,
                    },
                );
                self.seen(Stream::Rr, t);
            }
            Value::Eda(e) if ok(e, 0.0, 200.0) => {
                insert_sorted(&mut self.eda, t, e as f64);
                self.seen(Stream::Eda, t);
            }
            Value::RespRate(r) if ok(r, 1.0, 80.0) => {
                insert_sorted(&mut self.resp_rate, t, r as f64);
                self.seen(Stream::RespRate, t);
            }
            Value::Resp(x) if x.is_finite() => {
                insert_sorted(&mut self.resp, t, x as f64);
                self.seen(Stream::Resp, t);
            }
            Value::Temp(c) if ok(c, 15.0, 45.0) => {
                insert_sorted(&mut self.temp, t, c as f64);
                self.seen(Stream::Temp, t);
            }
            Value::Acc(a) if magnitude(a).is_some() => {
                insert_sorted(&mut self.acc, t, a);
                self.seen(Stream::Acc, t);
            }
            Value::ContactLost => {
                let pos = self.contact_lost.partition_point(|x| *x <= t);
                self.contact_lost.insert(pos, t);
                self.latest = self.latest.max(t);
            }
            _ => self.reject(t, 1),
        }
    }

    fn push_waveform(&mut self, w: &Waveform) {
        let n = w.samples.len() as u64;
        if !(w.rate.is_finite() && w.rate > 0.0 && w.start.is_finite()) {
            self.reject(w.start, n);
            return;
        }
        match w.kind {
            WaveKind::Resp => {
                let mut k = 0u64;
                for (i, x) in w.samples.iter().enumerate() {
                    let t = w.start + i as f64 / w.rate;
                    if x.is_finite() && t >= self.keep_from() && t >= self.cfg.origin_s {
                        self.resp.push((t, *x as f64));
                    } else {
                        k += 1;
                    }
                }
                self.resp_rate_hz = w.rate;
                self.reject(w.start, k);
                if n > k {
                    self.seen(Stream::Resp, w.start + (n - 1) as f64 / w.rate);
                }
            }
            WaveKind::Ecg | WaveKind::Ppg => self.push_beat_wave(w),
        }
    }

    /// The open segment of ECG or PPG.
    fn segment(&mut self, kind: WaveKind) -> &mut Option<Segment> {
        if kind == WaveKind::Ecg {
            &mut self.ecg
        } else {
            &mut self.ppg
        }
    }

    fn push_beat_wave(&mut self, w: &Waveform) {
        let kind = w.kind;
        let tol = 1.5 / w.rate;
        let mut samples: &[f32] = &w.samples;
        let mut start = w.start;
        let mut dropped = 0u64;
        let mut restart = true;
        if let Some(s) = self.segment(kind).as_ref() {
            let next = s.next_time();
            if (s.rate - w.rate).abs() < 1e-9 && w.start < next + tol {
                // contiguous, or overlapping: drop what was already received
                let skip =
                    (((next - w.start) * w.rate).round().max(0.0) as usize).min(samples.len());
                dropped = skip as u64;
                samples = &samples[skip..];
                start = next;
                restart = false;
            }
        }
        if restart {
            self.end_segment(kind);
            match detector_for(kind, w.rate, &self.cfg.ecg, &self.cfg.ppg) {
                Some(Ok(det)) => {
                    *self.segment(kind) = Some(Segment {
                        det,
                        start: w.start,
                        rate: w.rate,
                        n: 0,
                        last_beat: None,
                        rejected_seen: 0,
                    });
                }
                _ => {
                    self.reject(w.start, samples.len() as u64);
                    return;
                }
            }
        }
        self.reject(w.start, dropped);
        if samples.is_empty() {
            return;
        }
        let Some(seg) = self.segment(kind).as_mut() else {
            return;
        };
        let beats = seg.det.push(samples);
        seg.n += samples.len() as u64;
        let end_t = seg.next_time() - 1.0 / seg.rate;
        self.take_beats(kind, beats);
        self.count_wave_rejects(kind, start);
        self.seen(
            if kind == WaveKind::Ecg {
                Stream::Ecg
            } else {
                Stream::Ppg
            },
            end_t,
        );
    }

    fn count_wave_rejects(&mut self, kind: WaveKind, t: f64) {
        if let Some(s) = self.segment(kind).as_mut() {
            let r = s.det.rejected_samples();
            let new = r - s.rejected_seen;
            s.rejected_seen = r;
            self.reject(t, new);
        }
    }

    fn take_beats(&mut self, kind: WaveKind, beats: Vec<u64>) {
        let Some(s) = self.segment(kind).as_mut() else {
            return;
        };
        let mut out = Vec::new();
        for b in beats {
            if let Some(p) = s.last_beat {
                out.push(Rr {
                    time: s.start + b as f64 / s.rate,
                    ms: (b - p) as f64 / s.rate * 1000.0,
                });
            }
            s.last_beat = Some(b);
        }
        let list = if kind == WaveKind::Ecg {
            &mut self.ecg_rr
        } else {
            &mut self.ppg_rr
        };
        for r in out {
            insert_rr(list, r);
        }
    }

    fn end_segment(&mut self, kind: WaveKind) {
        let Some(s) = self.segment(kind).as_mut() else {
            return;
        };
        let t = s.start;
        let beats = s.det.finish();
        self.take_beats(kind, beats);
        self.count_wave_rejects(kind, t);
        *self.segment(kind) = None;
    }

    /// Ends all streams and returns the remaining windows up to the newest data.
    pub fn finish(&mut self) -> Vec<FeatureWindow> {
        self.finish_at(f64::NEG_INFINITY)
    }

    /// Like [`finish`](Self::finish) for a recording known to last until `end` (session
    /// seconds): windows ending up to `end` are yielded even if the last sample or beat
    /// came a little earlier.
    pub fn finish_at(&mut self, end: f64) -> Vec<FeatureWindow> {
        self.end_segment(WaveKind::Ecg);
        self.end_segment(WaveKind::Ppg);
        if end.is_finite() {
            self.latest = self.latest.max(end);
        }
        self.emit(true)
    }

    /// Time up to which every active stream is final.
    fn ready_until(&self) -> f64 {
        let mut ready = f64::INFINITY;
        let mut any = false;
        for (i, l) in self.stream_latest.iter().enumerate() {
            let Some(l) = *l else { continue };
            if l < self.latest - self.cfg.stale_s {
                continue;
            }
            any = true;
            let r = if i == Stream::Ecg as usize {
                self.ecg.as_ref().map_or(l, |s| s.final_time())
            } else if i == Stream::Ppg as usize {
                self.ppg.as_ref().map_or(l, |s| s.final_time())
            } else if i == Stream::Eda as usize {
                l - self.cfg.reorder_tolerance_s - self.cfg.eda_lookahead_s
            } else {
                l - self.cfg.reorder_tolerance_s
            };
            ready = ready.min(r);
        }
        if !any {
            ready = self.latest - self.cfg.reorder_tolerance_s;
        }
        ready.max(self.latest - self.cfg.max_wait_s)
    }

    fn emit(&mut self, all: bool) -> Vec<FeatureWindow> {
        let mut out = Vec::new();
        if self.first_time.is_none() {
            return out;
        }
        let limit = if all { self.latest } else { self.ready_until() };
        while self.next_end <= limit + 1e-9 {
            let w = self.window(self.next_end);
            out.push(w);
            self.next_end += self.cfg.hop_s;
        }
        if !out.is_empty() {
            self.trim();
        }
        out
    }

    fn trim(&mut self) {
        let from = self.keep_from() - self.cfg.reorder_tolerance_s;
        fn cut<T>(v: &mut Vec<(f64, T)>, from: f64) {
            let k = v.partition_point(|e| e.0 < from);
            v.drain(..k);
        }
        cut(&mut self.hr, from);
        cut(&mut self.eda, from);
        cut(&mut self.resp_rate, from);
        cut(&mut self.temp, from);
        cut(&mut self.acc, from);
        cut(&mut self.resp, from);
        cut(&mut self.rejected, from);
        for v in [&mut self.ecg_rr, &mut self.ppg_rr, &mut self.dev_rr] {
            let k = v.partition_point(|r| r.time < from);
            v.drain(..k);
        }
        let hold = self.cfg.contact_hold_s;
        let k = self.contact_lost.partition_point(|t| *t + hold < from);
        self.contact_lost.drain(..k);
    }

    /// Seconds of `[a, b)` covered by contact-lost reports.
    fn lost_within(&self, a: f64, b: f64) -> f64 {
        let hold = self.cfg.contact_hold_s;
        let mut total = 0.0;
        let mut cur_end = f64::NEG_INFINITY;
        for &t in &self.contact_lost {
            let (s, e) = (t.max(a).max(cur_end), (t + hold).min(b));
            if e > s {
                total += e - s;
            }
            cur_end = cur_end.max(t + hold);
        }
        total
    }

    fn is_lost(&self, t: f64) -> bool {
        let hold = self.cfg.contact_hold_s;
        let k = self.contact_lost.partition_point(|x| *x <= t);
        k > 0 && t < self.contact_lost[k - 1] + hold
    }

    /// Computes the window ending at `end`.
    fn window(&mut self, end: f64) -> FeatureWindow {
        let cfg = &self.cfg;
        let start = end - cfg.window_s;
        let mut fv = FeatureVector::default();
        let mut rejected: u64 = self
            .rejected
            .iter()
            .filter(|(t, _)| *t >= start && *t < end)
            .map(|(_, n)| n)
            .sum();
        let contact_lost_s = self.lost_within(start, end);

        // ---- cardiac
        let mut rr_source = None;
        let (mut beats, mut rejected_beats, mut cardiac_quality) = (0, 0, None);
        let mut rsa_series: Option<(Vec<f64>, Vec<f64>)> = None;
        let spec_span = cfg.spectral_window_s.max(cfg.window_s);
        for (src, list) in [
            (RrSource::Ecg, &self.ecg_rr),
            (RrSource::Device, &self.dev_rr),
            (RrSource::Ppg, &self.ppg_rr),
        ] {
            let ctx_from = end - spec_span.max(cfg.window_s + cfg.artifact_context_s);
            let a = list.partition_point(|r| r.time < ctx_from);
            let b = list.partition_point(|r| r.time < end);
            let span = &list[a..b];
            let inside = |r: &Rr, from: f64| r.time - r.ms / 1000.0 >= from - 1e-9;
            if span.iter().filter(|r| inside(r, start)).count() < 2 {
                continue;
            }
            let mut status = classify(span, &cfg.artifacts);
            for (r, s) in span.iter().zip(status.iter_mut()) {
                if *s == RrStatus::Accepted && self.is_lost(r.time) {
                    *s = RrStatus::Implausible;
                }
            }
            let sel: Vec<usize> = (0..span.len())
                .filter(|&i| inside(&span[i], start))
                .collect();
            let win: Vec<Rr> = sel.iter().map(|&i| span[i]).collect();
            let wst: Vec<RrStatus> = sel.iter().map(|&i| status[i]).collect();
            let (vals, succ) = accepted(&win, &wst, cfg.artifacts.successive_tolerance_ms);
            rejected_beats = wst.iter().filter(|s| **s != RrStatus::Accepted).count();
            beats = vals.len();
            let td = time_domain(&vals, Some(&succ));
            fv.set(Feature::MeanHr, td.mean_hr);
            fv.set(Feature::MeanNn, td.mean_nn);
            fv.set(Feature::Sdnn, td.sdnn);
            fv.set(Feature::Rmssd, td.rmssd);
            fv.set(Feature::Pnn50, td.pnn50(cfg.pnn50));
            cardiac_quality = Some((vals.iter().sum::<f64>() / 1000.0 / cfg.window_s).min(1.0));
            // spectral span
            let spec_from = end - spec_span;
            let ssel: Vec<usize> = (0..span.len())
                .filter(|&i| inside(&span[i], spec_from) && status[i] == RrStatus::Accepted)
                .collect();
            let sv: Vec<f64> = ssel.iter().map(|&i| span[i].ms).collect();
            let stimes: Vec<f64> = ssel.iter().map(|&i| span[i].time).collect();
            // the span rule (>= 120 s) applies to the window, not to the beats inside it
            let spectral = SpectralConfig {
                min_duration_s: 0.0,
                ..cfg.spectral
            };
            if spec_span >= cfg.spectral.min_duration_s
                && sv.iter().sum::<f64>() / 1000.0 >= 0.8 * spec_span
            {
                if let Some(f) = frequency_domain(&sv, &stimes, &spectral) {
                    fv.set(Feature::Lf, f.lf);
                    fv.set(Feature::Hf, f.hf);
                    fv.set(Feature::LfHf, f.lf_hf);
                }
            }
            // window-only accepted series for RSA
            let wsel: Vec<usize> = sel
                .iter()
                .copied()
                .filter(|&i| status[i] == RrStatus::Accepted)
                .collect();
            rsa_series = Some((
                wsel.iter().map(|&i| span[i].ms).collect(),
                wsel.iter().map(|&i| span[i].time).collect(),
            ));
            rr_source = Some(src);
            break;
        }
        if rr_source.is_none() {
            let hr: Vec<f64> = in_window(&self.hr, start, end)
                .filter(|(t, _)| !self.is_lost(*t))
                .map(|(_, v)| *v)
                .collect();
            if !hr.is_empty() {
                fv.set(
                    Feature::MeanHr,
                    Some(hr.iter().sum::<f64>() / hr.len() as f64),
                );
                rr_source = Some(RrSource::HeartRateReadings);
                // heart-rate readings alone: their quality is how much of the window
                // they cover, each reading standing for up to HR_READING_SPAN_S after
                // it (devices send one every 1-5 s)
                let times: Vec<f64> = in_window(&self.hr, start, end)
                    .filter(|(t, _)| !self.is_lost(*t))
                    .map(|(t, _)| *t)
                    .collect();
                let covered: f64 = times
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let next = times.get(i + 1).copied().unwrap_or(end);
                        (next - t).clamp(0.0, HR_READING_SPAN_S)
                    })
                    .sum();
                cardiac_quality = Some((covered / cfg.window_s).min(1.0));
            }
        }

        // ---- EDA
        let (eda_quality, eda_rejected) = self.eda_features(start, end, &mut fv);
        rejected += eda_rejected;

        // ---- respiration
        let mut resp_source = None;
        let resp: Vec<f64> = in_window(&self.resp, start, end).map(|(_, v)| *v).collect();
        if self.resp_rate_hz > 0.0 && !resp.is_empty() {
            if let Ok(Some(r)) = rate_from_waveform(&resp, self.resp_rate_hz) {
                fv.set(Feature::RespRate, Some(r));
                resp_source = Some(RespSource::Waveform);
            }
        }
        if resp_source.is_none() {
            let rr: Vec<f64> = in_window(&self.resp_rate, start, end)
                .map(|(_, v)| *v)
                .collect();
            if !rr.is_empty() {
                fv.set(Feature::RespRate, median(&rr));
                resp_source = Some(RespSource::Device);
            }
        }
        if resp_source.is_none() {
            if let Some((v, t)) = &rsa_series {
                if let Some(r) = rate_from_rr(v, t) {
                    fv.set(Feature::RespRate, Some(r));
                    resp_source = Some(RespSource::Rsa);
                }
            }
        }

        // ---- movement, temperature
        let m = movement(in_window(&self.acc, start, end).map(|(_, a)| a));
        fv.set(Feature::AccMean, m.mean_g);
        fv.set(Feature::AccSd, m.sd_g);
        fv.set(Feature::AccEnmo, m.enmo_g);
        let temps: Vec<f64> = in_window(&self.temp, start, end)
            .filter(|(t, _)| !self.is_lost(*t))
            .map(|(_, v)| *v)
            .collect();
        if !temps.is_empty() {
            fv.set(
                Feature::SkinTemp,
                Some(temps.iter().sum::<f64>() / temps.len() as f64),
            );
        }

        // ---- quality
        let parts: Vec<f64> = [cardiac_quality, eda_quality]
            .into_iter()
            .flatten()
            .collect();
        let first = self.first_time.unwrap_or(start);
        let coverage = ((end - first.max(start)) / cfg.window_s).clamp(0.0, 1.0);
        let quality = if parts.is_empty() {
            0.0
        } else {
            coverage * parts.iter().sum::<f64>() / parts.len() as f64
        };
        let mut w = FeatureWindow {
            start,
            end,
            features: fv,
            relative: None,
            quality,
            cardiac_quality,
            eda_quality,
            beats,
            rejected_beats,
            rejected_samples: rejected,
            contact_lost_s,
            rr_source,
            resp_source,
        };
        w.relative = self.baseline.observe(&w);
        w
    }

    /// EDA tonic level and SCR rate; returns (quality, rejected samples in the window).
    fn eda_features(&self, start: f64, end: f64, fv: &mut FeatureVector) -> (Option<f64>, u64) {
        let from = start - self.cfg.eda_context_s;
        let a = self.eda.partition_point(|e| e.0 < from);
        let b = self
            .eda
            .partition_point(|e| e.0 < end + self.cfg.eda_lookahead_s);
        let data = &self.eda[a..b];
        let inwin = data.iter().filter(|e| e.0 >= start && e.0 < end).count();
        if data.len() < 8 || inwin == 0 {
            return (None, 0);
        }
        let times: Vec<f64> = data.iter().map(|e| e.0).collect();
        let vals: Vec<f64> = data.iter().map(|e| e.1).collect();
        let mut bad = invalid_samples(&vals, &times, &self.cfg.eda_limits);
        for (b, t) in bad.iter_mut().zip(&times) {
            if self.is_lost(*t) {
                *b = true;
            }
        }
        let dts: Vec<f64> = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .collect();
        let Some(dt) = median(&dts) else {
            return (None, 0);
        };
        let fs = 1.0 / dt;
        let rejected = times
            .iter()
            .zip(&bad)
            .filter(|(t, b)| **b && **t >= start && **t < end)
            .count() as u64;
        let valid_in = times
            .iter()
            .zip(&bad)
            .filter(|(t, b)| !**b && **t >= start && **t < end)
            .count();
        let expected = ((end - start.max(times[0])) * fs).max(1.0);
        let quality = (valid_in as f64 / expected).min(1.0);
        if (valid_in as f64) < 0.5 * expected || valid_in < 4 {
            return (Some(quality), rejected);
        }
        // evenly resample the valid samples (linear; invalid stretches are bridged)
        let good: Vec<(f64, f64)> = times
            .iter()
            .zip(&vals)
            .zip(&bad)
            .filter(|(_, b)| !**b)
            .map(|((t, v), _)| (*t, *v))
            .collect();
        let t0 = good[0].0;
        let n = ((good[good.len() - 1].0 - t0) * fs).round() as usize + 1;
        let mut grid = Vec::with_capacity(n);
        let mut k = 0;
        for i in 0..n {
            let t = t0 + i as f64 / fs;
            while k + 1 < good.len() && good[k + 1].0 <= t {
                k += 1;
            }
            let v = if k + 1 < good.len() {
                let (ta, va) = good[k];
                let (tb, vb) = good[k + 1];
                va + (vb - va) * ((t - ta) / (tb - ta)).clamp(0.0, 1.0)
            } else {
                good[k].1
            };
            grid.push(v);
        }
        let Ok(d) = decompose(&grid, fs) else {
            return (Some(quality), rejected);
        };
        // tonic mean over the valid samples inside the window
        let (mut sum, mut cnt) = (0.0, 0usize);
        for (t, _) in good.iter().filter(|(t, _)| *t >= start && *t < end) {
            let i = (((t - t0) * fs).round() as usize).min(n - 1);
            sum += d.tonic[i];
            cnt += 1;
        }
        if cnt > 0 {
            fv.set(Feature::EdaTonic, Some(sum / cnt as f64));
        }
        if let Ok(scr) = scr_peaks(&d.phasic, fs, self.cfg.scr_threshold) {
            let count = scr
                .iter()
                .filter(|s| {
                    let t = t0 + s.peak as f64 / fs;
                    t >= start && t < end
                })
                .count();
            let minutes = valid_in as f64 / fs / 60.0;
            if minutes > 0.0 {
                fv.set(Feature::ScrRate, Some(count as f64 / minutes));
            }
        }
        (Some(quality), rejected)
    }
}

/// How long one heart-rate reading counts as covering the signal, seconds (for the
/// quality of windows with heart-rate readings but no beats).
pub const HR_READING_SPAN_S: f64 = 5.0;

fn in_window<T>(v: &[(f64, T)], start: f64, end: f64) -> impl Iterator<Item = &(f64, T)> {
    let a = v.partition_point(|e| e.0 < start);
    let b = v.partition_point(|e| e.0 < end);
    v[a..b].iter()
}

/// Features of a whole recording's RR intervals in one go, with artifact handling
/// (the whole-record counterpart of a window). Returns the time-domain values of the
/// accepted intervals and the statuses.
pub fn whole_record_hrv(
    rr: &[Rr],
    artifacts: &ArtifactConfig,
) -> (super::hrv::TimeDomain, Vec<RrStatus>) {
    let status = classify(rr, artifacts);
    let (vals, succ) = accepted(rr, &status, artifacts.successive_tolerance_ms);
    (time_domain(&vals, Some(&succ)), status)
}

/// RR intervals between consecutive detected beats (sample indices at `fs` Hz), each
/// stamped with the time of its ending beat.
pub fn rr_from_beats(beats: &[u64], fs: f64) -> Vec<Rr> {
    beats
        .windows(2)
        .map(|w| Rr {
            time: w[1] as f64 / fs,
            ms: (w[1] - w[0]) as f64 / fs * 1000.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::Reading;

    fn reading(time: f64, value: Value) -> SensorData {
        SensorData::Reading(Reading { time, value })
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for f in Feature::ALL {
            assert_eq!(Feature::from_name(f.name()), Some(f));
            assert_eq!(Feature::ALL[f as usize], f);
        }
        let mut v = FeatureVector::default();
        v.set(Feature::Rmssd, Some(f64::NAN));
        assert_eq!(v.get(Feature::Rmssd), None);
        v.set(Feature::Rmssd, Some(30.0));
        assert_eq!(v.get_by_name("rmssd"), Some(30.0));
        assert_eq!(v.iter().count(), FEATURE_COUNT);
        assert!(FeatureExtractor::new(FeatureConfig {
            hop_s: 0.0,
            ..FeatureConfig::default()
        })
        .is_err());
    }

    #[test]
    fn out_of_order_rr_readings_give_the_same_windows() {
        let mut items = Vec::new();
        let mut t = 0.0;
        let mut i = 0;
        while t < 200.0 {
            let ms = 800.0 + 40.0 * ((i as f64) * 0.5).sin();
            t += ms / 1000.0;
            items.push(reading(t, Value::Rr(ms as f32)));
            items.push(reading(t, Value::Eda(2.0 + 0.001 * i as f32)));
            i += 1;
        }
        let run = |items: &[SensorData]| {
            let mut fx = FeatureExtractor::new(FeatureConfig::default()).unwrap();
            let mut w = Vec::new();
            for it in items {
                w.extend(fx.push(it));
            }
            w.extend(fx.finish());
            w
        };
        let a = run(&items);
        // swap neighbours: out of order by under a second
        let mut shuffled = items.clone();
        for k in (0..shuffled.len() - 3).step_by(3) {
            shuffled.swap(k, k + 2);
        }
        let b = run(&shuffled);
        assert_eq!(a.len(), b.len());
        assert_eq!(a.len(), (t / 5.0).floor() as usize);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.features, y.features);
        }
        let last = a.last().unwrap();
        assert!(last.quality > 0.9, "{last:?}");
        assert_eq!(last.rr_source, Some(RrSource::Device));
        assert!(last.features.get(Feature::Lf).is_some());
        assert!(last.relative.is_none()); // baseline needs 300 s
    }

    #[test]
    fn bad_readings_are_counted_and_contact_loss_lowers_quality() {
        let mut fx = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        let mut out = Vec::new();
        let mut t = 0.0;
        while t < 130.0 {
            t += 0.8;
            out.extend(fx.push(&reading(t, Value::Rr(800.0))));
            if t > 70.0 && t < 100.0 {
                out.extend(fx.push(&reading(t, Value::ContactLost)));
            }
            if (120.0..120.8).contains(&t) {
                out.extend(fx.push(&reading(t, Value::Rr(f32::NAN))));
                out.extend(fx.push(&reading(f64::NAN, Value::Eda(1.0))));
                out.extend(fx.push(&reading(t, Value::Eda(-3.0))));
                out.extend(fx.push(&reading(t, Value::HeartRate(900.0))));
            }
        }
        out.extend(fx.finish());
        let w60 = out.iter().find(|w| (w.end - 60.0).abs() < 1e-9).unwrap();
        let w100 = out.iter().find(|w| (w.end - 100.0).abs() < 1e-9).unwrap();
        assert!(w60.quality > 0.95, "{w60:?}");
        assert!(w100.quality < 0.6, "{w100:?}");
        assert!(w100.contact_lost_s > 25.0);
        assert!(w100.rejected_beats > 30);
        let w125 = out.iter().find(|w| (w.end - 125.0).abs() < 1e-9).unwrap();
        assert!(w125.rejected_samples >= 3, "{w125:?}");
    }
}
