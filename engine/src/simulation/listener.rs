//! A simulated listener who responds to the sound: **a model, not a measurement.** It
//! turns the sound a session plays into the arousal that drives the biometric
//! [`Simulator`](crate::biometrics::sources::Simulator), closing the loop for demos and
//! for comparing policies.
//!
//! Its assumptions follow docs/domain.md and are stated so they can be argued with:
//!
//! * **Recovery**: without music, arousal relaxes toward the listener's resting level
//!   with time constant `recovery_tau_s` (slow: tens of minutes).
//! * **Music pulls arousal toward the arousal the sound expresses** (tempo, density and
//!   brightness are arousal knobs; Bernardi et al. 2006), at rate `music_gain` per second.
//!   The pull weakens with the gap between sound and listener, as exp(-(gap / reach)²):
//!   music far from the listener's state is not taken up (the iso principle, Altshuler
//!   1948, read as an assumption). The pull is scaled by the listener's liking of the
//!   palette (`preferred_palette` gets 1, others `other_palette_factor`): preference for
//!   timbre varies widely (Scarratt et al. 2023). The same liking scales the calming
//!   effect of paced breathing (a listener engages less with a sound they dislike).
//! * **Breathing follows a guide within reach**: when the breath guide is within
//!   `follow_range` breaths/min of the listener's breathing, they follow it; otherwise
//!   they breathe freely at 12 + 8 × arousal per minute (the simulator's rate). Slower
//!   breathing than the free rate lowers arousal in proportion (`breath_gain`; Leslie et
//!   al. 2019 saw EDA and HR fall as breathing slowed).
//! * **Noise**: an Ornstein-Uhlenbeck wander of `noise_sd` with a 60 s time constant, and
//!   optional stressors (arousal kicks at given times).
//!
//! Heart rate is not entrained by tempo in this model (Mütze et al. 2018): tempo acts only
//! through arousal. Runs on the control thread, deterministic for a seed.

use crate::protocol::{Protocol, SoundPoint};

/// The listener's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerParams {
    /// Arousal at the start, 0..1.
    pub initial_arousal: f64,
    /// Resting arousal the listener recovers toward without help.
    pub resting_arousal: f64,
    /// Time constant of that recovery, s.
    pub recovery_tau_s: f64,
    /// Pull of the music toward its own arousal, per second at zero gap.
    pub music_gain: f64,
    /// Gap between sound and listener at which the pull falls to 1/e.
    pub reach: f64,
    /// Index of the palette the listener likes best.
    pub preferred_palette: usize,
    /// Pull factor for the other palettes.
    pub other_palette_factor: f64,
    /// Breaths/min within which the listener follows the guide.
    pub follow_range: f64,
    /// Arousal decrease per second for breathing at half the free rate.
    pub breath_gain: f64,
    /// SD of the arousal wander.
    pub noise_sd: f64,
    /// Arousal kicks: (time s, amount).
    pub stressors: Vec<(f64, f64)>,
}

impl Default for ListenerParams {
    fn default() -> Self {
        Self {
            initial_arousal: 0.75,
            resting_arousal: 0.45,
            recovery_tau_s: 1800.0,
            music_gain: 1.0 / 300.0,
            reach: 0.25,
            preferred_palette: 0,
            other_palette_factor: 0.2,
            follow_range: 3.0,
            breath_gain: 1.0 / 200.0,
            noise_sd: 0.04,
            stressors: Vec::new(),
        }
    }
}

/// The simulated listener's state.
#[derive(Clone, Debug)]
pub struct Listener {
    p: ListenerParams,
    arousal: f64,
    wander: f64,
    breathing: f64,
    following: bool,
    rng: u64,
    last: Option<f64>,
    next_stressor: usize,
}

impl Listener {
    /// A listener with these parameters and noise seed.
    pub fn new(p: ListenerParams, seed: u64) -> Self {
        let a = p.initial_arousal.clamp(0.0, 1.0);
        Self {
            arousal: a,
            wander: 0.0,
            breathing: 12.0 + 8.0 * a,
            following: false,
            rng: seed ^ 0x4C15_7E4E_0000_0001,
            last: None,
            next_stressor: 0,
            p,
        }
    }

    fn normal(&mut self) -> f64 {
        let mut u = || {
            self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (((z ^ (z >> 31)) >> 11) as f64 + 1.0) / (1u64 << 53) as f64
        };
        let (u1, u2) = (u(), u());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// The true (simulated) arousal, 0..1.
    pub fn arousal(&self) -> f64 {
        (self.arousal + self.wander).clamp(0.0, 1.0)
    }

    /// The breathing rate, breaths/min.
    pub fn breathing(&self) -> f64 {
        self.breathing
    }

    /// Whether the listener follows the breath guide; the pace to hand the biometric
    /// simulator (`None`: free breathing).
    pub fn breath_pace(&self) -> Option<f64> {
        self.following.then_some(self.breathing)
    }

    /// Hears `sound` (placed on `protocol`'s calm–aroused line by its tempo) with the
    /// breath guide at `guide` breaths/min, palette `palette`, at `time`; `audible` is
    /// false once the session has faded out.
    pub fn hear(
        &mut self,
        time: f64,
        protocol: &Protocol,
        sound: &SoundPoint,
        guide: f64,
        palette: usize,
        audible: bool,
    ) {
        let dt = self.last.map_or(0.0, |t| (time - t).max(0.0));
        self.last = Some(time);
        if dt == 0.0 {
            return;
        }
        let p = &self.p;
        let span = (protocol.aroused.tempo - protocol.calm.tempo) as f64;
        let expressed = if span.abs() > 1e-6 {
            ((sound.tempo - protocol.calm.tempo) as f64 / span).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let a = self.arousal;
        let mut da = (p.resting_arousal - a) / p.recovery_tau_s;
        let liking = if palette == p.preferred_palette {
            1.0
        } else {
            p.other_palette_factor
        };
        if audible {
            let gap = expressed - a;
            da += p.music_gain * liking * (-(gap / p.reach).powi(2)).exp() * gap;
        }
        let free = 12.0 + 8.0 * a;
        self.following = audible && (guide - self.breathing).abs() <= p.follow_range;
        let target = if self.following { guide } else { free };
        self.breathing += (target - self.breathing) * (1.0 - (-dt / 15.0).exp());
        if self.breathing < free {
            da -= p.breath_gain * liking * 2.0 * (free - self.breathing) / free;
        }
        while let Some(&(t, kick)) = p.stressors.get(self.next_stressor) {
            if t > time {
                break;
            }
            da += kick / dt;
            self.next_stressor += 1;
        }
        self.arousal = (a + da * dt).clamp(0.0, 1.0);
        let k = dt / 60.0;
        let n = self.normal();
        self.wander += -self.wander * k + self.p.noise_sd * (2.0 * k).sqrt() * n;
    }
}
