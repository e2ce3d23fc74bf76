//! A simulated listener: heart beats (HR and RR with respiratory sinus arrhythmia and
//! heart-rate variability), skin conductance (tonic level and responses), respiration and
//! skin temperature, driven by an *arousal* level between 0 (deep calm) and 1 (acute
//! stress).
//!
//! **Everything this source produces is simulated**: [`SourceInfo::simulated`] is always
//! true and its name says so. Use it for demos, tests and tuning, never as a measurement.
//!
//! # Model
//!
//! Arousal comes from a script ([`ArousalScript`], piecewise linear in session time) or,
//! while the simulation runs, from outside through a [`SimulatorHandle`] (a listener model
//! reacting to the music sets it). The body follows arousal with lags:
//!
//! * a fast autonomic state *s* follows arousal with time constant `autonomic_tau_s` (5 s);
//! * **breathing** rate = `resp_rate_rest` + `resp_rate_gain`·*s* breaths/min (12 → 20),
//!   unless a breathing pace is set on the handle, which the rate then approaches with time
//!   constant `pace_tau_s` (a listener following a breathing guide). The respiration
//!   waveform is the sine of the breathing phase plus noise, at 25 Hz;
//! * **heart**: each RR interval is 60000 / (`hr_rest` + `hr_gain`·*s*) ms, shortened during
//!   inspiration by the respiratory sinus arrhythmia (amplitude `rsa_rest_ms` at rest down
//!   to `rsa_stress_ms` under stress: vagal withdrawal), plus a 0.1 Hz Mayer-wave term of
//!   `lf_ms` and a per-beat Gaussian jitter of `jitter_ms`; clamped to 300–2000 ms. An
//!   [`Value::Rr`] reading is emitted at each beat and the mean heart rate of the last beats
//!   once a second;
//! * **EDA**: the tonic level approaches `scl_rest_us`·(1 + `scl_gain`·*s*) with time
//!   constant `scl_tau_s` (45 s); skin conductance responses arrive as a Poisson process of
//!   rate `scr_rest_per_min` + `scr_gain_per_min`·*s* per minute, each with an exponentially
//!   distributed amplitude of mean `scr_amp_us`·(1 + 2*s*) and a bi-exponential shape (rise
//!   0.75 s, decay 3 s); sampled at 4 Hz with small measurement noise;
//! * **skin temperature** approaches 33.5 − 1.5·*s* °C (peripheral vasoconstriction) with
//!   time constant 120 s, once a second;
//! * the current breathing rate is emitted as [`Value::RespRate`] every 5 s.
//!
//! Stress therefore raises HR, lowers HRV and RSA, quickens breathing and raises EDA; calm
//! does the reverse. The numbers are textbook-plausible defaults (resting HR 60–70 bpm,
//! RSA tens of ms, tonic EDA a few µS, 1–3 SCRs per minute at rest), not fitted to a data
//! set; all are in [`SimParams`].
//!
//! The simulation is deterministic: the same seed, script and outside inputs (applied at
//! the same simulated times) give the same output, bit for bit. It runs in simulated time
//! as fast as it is pulled; wrap it in a [`super::Replay`] with a wall clock to play it at
//! real pace. Pulled on the input thread (live) or the control thread (offline); the
//! handle may be used from any thread.

use std::collections::VecDeque;
use std::f64::consts::TAU;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::replay::ready_at;
use super::source::{Pull, Source, SourceInfo};
use crate::signal::{Reading, SensorData, Value, WaveKind, Waveform};

/// Arousal over session time: keyframes `(time s, arousal 0..1)`, linear between them,
/// held before the first and after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct ArousalScript {
    keys: Vec<(f64, f64)>,
}

/// Why [`ArousalScript::keyframes`] refused its keyframes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyframeError {
    /// There were none.
    Empty,
    /// A time did not follow the one before it.
    NotIncreasing(f64, f64),
    /// A time or an arousal was not a finite number.
    NotFinite,
}

impl std::fmt::Display for KeyframeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyframeError::Empty => write!(f, "an arousal script needs at least one keyframe"),
            KeyframeError::NotIncreasing(a, b) => {
                write!(f, "keyframe times must increase ({a} then {b})")
            }
            KeyframeError::NotFinite => write!(f, "keyframes must be finite numbers"),
        }
    }
}

impl std::error::Error for KeyframeError {}

impl ArousalScript {
    /// A constant arousal.
    pub fn constant(arousal: f64) -> Self {
        Self {
            keys: vec![(0.0, arousal.clamp(0.0, 1.0))],
        }
    }

    /// Keyframes; times must increase. Arousal is clamped to 0..1.
    pub fn keyframes(keys: impl IntoIterator<Item = (f64, f64)>) -> Result<Self, KeyframeError> {
        let keys: Vec<(f64, f64)> = keys
            .into_iter()
            .map(|(t, a)| (t, a.clamp(0.0, 1.0)))
            .collect();
        if keys.is_empty() {
            return Err(KeyframeError::Empty);
        }
        for w in keys.windows(2) {
            if w[1].0.partial_cmp(&w[0].0) != Some(std::cmp::Ordering::Greater) {
                return Err(KeyframeError::NotIncreasing(w[0].0, w[1].0));
            }
        }
        if keys.iter().any(|(t, a)| !t.is_finite() || !a.is_finite()) {
            return Err(KeyframeError::NotFinite);
        }
        Ok(Self { keys })
    }

    /// The demonstration arc: calm baseline (0.2) for 2 min, stress builds to 0.85 by 3 min
    /// and holds to 6 min, then recovery to deep calm (0.1) by 10 min.
    pub fn stress_then_calm() -> Self {
        Self {
            keys: vec![
                (0.0, 0.2),
                (120.0, 0.2),
                (180.0, 0.85),
                (360.0, 0.85),
                (600.0, 0.1),
            ],
        }
    }

    /// The arousal at session time `t`.
    pub fn at(&self, t: f64) -> f64 {
        let k = &self.keys;
        if t <= k[0].0 {
            return k[0].1;
        }
        for w in k.windows(2) {
            if t <= w[1].0 {
                let f = (t - w[0].0) / (w[1].0 - w[0].0);
                return w[0].1 + f * (w[1].1 - w[0].1);
            }
        }
        k[k.len() - 1].1
    }
}

/// The model's parameters; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub struct SimParams {
    /// Resting heart rate, bpm.
    pub hr_rest: f64,
    /// Heart-rate rise at arousal 1, bpm.
    pub hr_gain: f64,
    /// RSA amplitude at rest, ms.
    pub rsa_rest_ms: f64,
    /// RSA amplitude at arousal 1, ms.
    pub rsa_stress_ms: f64,
    /// Mayer-wave (0.1 Hz) amplitude, ms.
    pub lf_ms: f64,
    /// Per-beat jitter (standard deviation), ms.
    pub jitter_ms: f64,
    /// Breathing rate at rest, breaths/min.
    pub resp_rate_rest: f64,
    /// Breathing-rate rise at arousal 1, breaths/min.
    pub resp_rate_gain: f64,
    /// Time constant with which breathing approaches a set pace, s.
    pub pace_tau_s: f64,
    /// Time constant of the autonomic response to arousal, s.
    pub autonomic_tau_s: f64,
    /// Tonic skin conductance at rest, µS.
    pub scl_rest_us: f64,
    /// Relative tonic rise at arousal 1.
    pub scl_gain: f64,
    /// Time constant of the tonic level, s.
    pub scl_tau_s: f64,
    /// SCRs per minute at rest.
    pub scr_rest_per_min: f64,
    /// Extra SCRs per minute at arousal 1.
    pub scr_gain_per_min: f64,
    /// Mean SCR amplitude at rest, µS.
    pub scr_amp_us: f64,
}

impl Default for SimParams {
    fn default() -> Self {
        Self {
            hr_rest: 64.0,
            hr_gain: 36.0,
            rsa_rest_ms: 45.0,
            rsa_stress_ms: 10.0,
            lf_ms: 15.0,
            jitter_ms: 8.0,
            resp_rate_rest: 12.0,
            resp_rate_gain: 8.0,
            pace_tau_s: 15.0,
            autonomic_tau_s: 5.0,
            scl_rest_us: 2.0,
            scl_gain: 1.5,
            scl_tau_s: 45.0,
            scr_rest_per_min: 1.5,
            scr_gain_per_min: 6.0,
            scr_amp_us: 0.15,
        }
    }
}

/// How to run the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    /// Random seed.
    pub seed: u64,
    /// Simulated length, seconds; `None` runs until stopped.
    pub duration: Option<f64>,
    /// The arousal script (used whenever no outside arousal is set).
    pub script: ArousalScript,
    /// Model parameters.
    pub params: SimParams,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            duration: None,
            script: ArousalScript::stress_then_calm(),
            params: SimParams::default(),
        }
    }
}

const NONE: u64 = u64::MAX;

#[derive(Debug)]
struct Controls {
    arousal: AtomicU64,
    pace: AtomicU64,
    current: AtomicU64,
}

/// Steers a running [`Simulator`] from outside (any thread): sets its arousal or a
/// breathing pace, and reads its current state. Clones steer the same simulator.
#[derive(Clone, Debug)]
pub struct SimulatorHandle(Arc<Controls>);

impl SimulatorHandle {
    /// Overrides the script: arousal `a` (clamped to 0..1) from the next step on.
    pub fn set_arousal(&self, a: f64) {
        let a = if a.is_finite() {
            a.clamp(0.0, 1.0)
        } else {
            0.5
        };
        self.0.arousal.store(a.to_bits(), Ordering::Release);
    }

    /// Hands arousal back to the script.
    pub fn clear_arousal(&self) {
        self.0.arousal.store(NONE, Ordering::Release);
    }

    /// Sets a breathing pace (breaths/min, clamped to 2..40) that the simulated listener
    /// follows, or `None` to breathe freely.
    pub fn set_breath_pace(&self, per_min: Option<f64>) {
        let v = match per_min {
            Some(p) if p.is_finite() => p.clamp(2.0, 40.0).to_bits(),
            _ => NONE,
        };
        self.0.pace.store(v, Ordering::Release);
    }

    /// The arousal the simulator used at its latest step.
    pub fn current_arousal(&self) -> f64 {
        f64::from_bits(self.0.current.load(Ordering::Acquire))
    }

    fn get(v: &AtomicU64) -> Option<f64> {
        match v.load(Ordering::Acquire) {
            NONE => None,
            b => Some(f64::from_bits(b)),
        }
    }
}

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
}

const STEP: f64 = 1.0 / 25.0;
const RESP_RATE_HZ: f64 = 25.0;
const SCR_RISE_S: f64 = 0.75;
const SCR_DECAY_S: f64 = 3.0;

struct Scr {
    onset: f64,
    amp: f64,
}

fn scr_shape(t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    // Bi-exponential (Bateman) normalised to a peak of 1.
    let tp =
        (SCR_DECAY_S * SCR_RISE_S / (SCR_DECAY_S - SCR_RISE_S)) * (SCR_DECAY_S / SCR_RISE_S).ln();
    let peak = (-tp / SCR_DECAY_S).exp() - (-tp / SCR_RISE_S).exp();
    ((-t / SCR_DECAY_S).exp() - (-t / SCR_RISE_S).exp()) / peak
}

/// The simulated listener; see the [module documentation](self).
pub struct Simulator {
    opts: SimOptions,
    rng: Rng,
    controls: Arc<Controls>,
    step: u64,
    t: f64,
    state: f64,
    resp_rate: f64,
    resp_phase: f64,
    lf_phase: f64,
    scl: f64,
    temp: f64,
    scrs: Vec<Scr>,
    next_beat: f64,
    recent_rr: VecDeque<f64>,
    resp_chunk: Vec<f32>,
    resp_chunk_start: f64,
    eda_n: u64,
    sec_n: u64,
    rate_n: u64,
    queue: VecDeque<Pull>,
    ended: bool,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("seed", &self.opts.seed)
            .field("t", &self.t)
            .finish()
    }
}

impl Simulator {
    /// A simulator starting at session time 0 in the resting state of the script's first
    /// arousal.
    pub fn new(opts: SimOptions) -> Self {
        let mut rng = Rng(opts.seed ^ 0x5EED_1500_C0DE_0001);
        let a0 = opts.script.at(0.0);
        let p = &opts.params;
        let scl = p.scl_rest_us * (1.0 + p.scl_gain * a0);
        let resp_rate = p.resp_rate_rest + p.resp_rate_gain * a0;
        let lf_phase = rng.uniform() * TAU;
        let first_beat = rng.uniform() * 0.8;
        let controls = Arc::new(Controls {
            arousal: AtomicU64::new(NONE),
            pace: AtomicU64::new(NONE),
            current: AtomicU64::new(a0.to_bits()),
        });
        Self {
            rng,
            controls,
            step: 0,
            t: 0.0,
            state: a0,
            resp_rate,
            resp_phase: 0.0,
            lf_phase,
            scl,
            temp: 33.5 - 1.5 * a0,
            scrs: Vec::new(),
            next_beat: first_beat,
            recent_rr: VecDeque::new(),
            resp_chunk: Vec::with_capacity(25),
            resp_chunk_start: 0.0,
            eda_n: 0,
            sec_n: 1,
            rate_n: 1,
            queue: VecDeque::new(),
            ended: false,
            opts,
        }
    }

    /// A handle to steer this simulator while it runs.
    pub fn handle(&self) -> SimulatorHandle {
        SimulatorHandle(self.controls.clone())
    }

    /// Simulated time reached, seconds.
    pub fn time(&self) -> f64 {
        self.t
    }

    fn reading(out: &mut Vec<SensorData>, time: f64, value: Value) {
        out.push(SensorData::Reading(Reading { time, value }));
    }

    /// Advances one step of 40 ms, queueing what it produced in time order.
    fn advance(&mut self) {
        let p = self.opts.params.clone();
        let t0 = self.t;
        let t1 = (self.step + 1) as f64 * STEP;
        let arousal =
            SimulatorHandle::get(&self.controls.arousal).unwrap_or_else(|| self.opts.script.at(t0));
        self.controls
            .current
            .store(arousal.to_bits(), Ordering::Release);
        let k = 1.0 - (-STEP / p.autonomic_tau_s).exp();
        self.state += (arousal - self.state) * k;
        let s = self.state;

        // Breathing.
        let free_rate = p.resp_rate_rest + p.resp_rate_gain * s;
        let target = SimulatorHandle::get(&self.controls.pace).unwrap_or(free_rate);
        let tau = if target == free_rate {
            p.autonomic_tau_s
        } else {
            p.pace_tau_s
        };
        self.resp_rate += (target - self.resp_rate) * (1.0 - (-STEP / tau).exp());
        self.resp_phase = (self.resp_phase + TAU * self.resp_rate / 60.0 * STEP) % TAU;
        self.lf_phase = (self.lf_phase + TAU * 0.1 * STEP) % TAU;

        let mut out = Vec::new();

        // Heart beats in [t0, t1).
        while self.next_beat < t1 {
            let beat = self.next_beat;
            let hr = p.hr_rest + p.hr_gain * s;
            let rsa = p.rsa_rest_ms + (p.rsa_stress_ms - p.rsa_rest_ms) * s;
            let rr = (60_000.0 / hr - rsa * self.resp_phase.sin()
                + p.lf_ms * self.lf_phase.sin()
                + p.jitter_ms * self.rng.normal())
            .clamp(300.0, 2000.0);
            // The interval that ends at this beat was drawn at the previous one.
            if let Some(&last) = self.recent_rr.back() {
                Self::reading(&mut out, beat, Value::Rr(last as f32));
            }
            self.recent_rr.push_back(rr);
            if self.recent_rr.len() > 8 {
                self.recent_rr.pop_front();
            }
            self.next_beat = beat + rr / 1000.0;
        }

        // Skin conductance.
        let scl_target = p.scl_rest_us * (1.0 + p.scl_gain * s);
        self.scl += (scl_target - self.scl) * (1.0 - (-STEP / p.scl_tau_s).exp());
        let scr_rate = (p.scr_rest_per_min + p.scr_gain_per_min * s) / 60.0;
        if self.rng.uniform() < scr_rate * STEP {
            let mean = p.scr_amp_us * (1.0 + 2.0 * s);
            let amp = -mean * self.rng.uniform().ln();
            self.scrs.push(Scr { onset: t0, amp });
        }
        self.scrs.retain(|r| t0 - r.onset < 30.0);
        self.temp += (33.5 - 1.5 * s - self.temp) * (1.0 - (-STEP / 120.0).exp());

        // Respiration waveform at 25 Hz: one sample per step.
        let resp = self.resp_phase.sin() + 0.03 * self.rng.normal();
        if self.resp_chunk.is_empty() {
            self.resp_chunk_start = t0;
        }
        self.resp_chunk.push(resp as f32);
        if self.resp_chunk.len() as f64 >= RESP_RATE_HZ {
            out.push(SensorData::Waveform(Waveform {
                kind: WaveKind::Resp,
                start: self.resp_chunk_start,
                rate: RESP_RATE_HZ,
                samples: std::mem::take(&mut self.resp_chunk),
            }));
        }
        // EDA at 4 Hz, HR and temperature at 1 Hz, breathing rate every 5 s.
        while (self.eda_n as f64) * 0.25 < t1 {
            let te = self.eda_n as f64 * 0.25;
            let phasic: f64 = self
                .scrs
                .iter()
                .map(|r| r.amp * scr_shape(te - r.onset))
                .sum();
            let eda = (self.scl + phasic + 0.004 * self.rng.normal()).max(0.0);
            Self::reading(&mut out, te, Value::Eda(eda as f32));
            self.eda_n += 1;
        }
        while (self.sec_n as f64) < t1 {
            let ts = self.sec_n as f64;
            if !self.recent_rr.is_empty() {
                let mean = self.recent_rr.iter().sum::<f64>() / self.recent_rr.len() as f64;
                Self::reading(&mut out, ts, Value::HeartRate((60_000.0 / mean) as f32));
            }
            Self::reading(&mut out, ts, Value::Temp(self.temp as f32));
            self.sec_n += 1;
        }
        while (self.rate_n as f64) * 5.0 < t1 {
            let tr = self.rate_n as f64 * 5.0;
            Self::reading(&mut out, tr, Value::RespRate(self.resp_rate as f32));
            self.rate_n += 1;
        }

        out.sort_by(|a, b| ready_at(a).total_cmp(&ready_at(b)));
        self.queue.extend(out.into_iter().map(Pull::Data));
        self.step += 1;
        self.t = t1;
    }
}

impl Source for Simulator {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: format!("simulated listener (seed {})", self.opts.seed),
            format: "simulator",
            simulated: true,
            live: false,
        }
    }

    fn pull(&mut self, _wait: Duration) -> Pull {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return p;
            }
            if self.ended {
                return Pull::End;
            }
            if self.opts.duration.is_some_and(|d| self.t >= d) {
                self.ended = true;
                continue;
            }
            self.advance();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_interpolates_and_holds() {
        let s = ArousalScript::keyframes([(10.0, 0.0), (20.0, 1.0)]).unwrap();
        assert_eq!(s.at(0.0), 0.0);
        assert_eq!(s.at(15.0), 0.5);
        assert_eq!(s.at(99.0), 1.0);
        assert_eq!(
            ArousalScript::keyframes([(1.0, 0.0), (1.0, 1.0)])
                .unwrap_err()
                .to_string(),
            "keyframe times must increase (1 then 1)"
        );
        assert!(ArousalScript::keyframes([]).is_err());
    }

    #[test]
    fn scr_shape_peaks_at_one() {
        let peak = (0..2000)
            .map(|i| scr_shape(i as f64 * 0.005))
            .fold(0.0, f64::max);
        assert!((peak - 1.0).abs() < 1e-3, "{peak}");
        assert_eq!(scr_shape(-1.0), 0.0);
    }

    #[test]
    fn always_labelled_simulated() {
        let s = Simulator::new(SimOptions::default());
        assert!(s.info().simulated);
        assert!(s.info().name.contains("simulated"));
    }
}
