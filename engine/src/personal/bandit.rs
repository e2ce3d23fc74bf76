//! Thompson sampling over a preset's timbre palettes.
//!
//! Each palette is an arm. Its reward is how far arousal moved toward the goal in a
//! session played with it
//! ([`SessionOutcome::reward`](crate::session::SessionOutcome::reward)): a real number in
//! -1..1, and noisy. Rewards of one palette are modelled as Gaussian with unknown mean μ and unknown
//! variance σ², under the conjugate Normal-Inverse-Gamma prior
//!
//! ```text
//! σ² ~ Inverse-Gamma(α₀, β₀)        μ | σ² ~ Normal(μ₀, σ² / κ₀)
//! μ₀ = 0      κ₀ = 1      α₀ = 1      β₀ = 0.02
//! ```
//!
//! - μ₀ = 0: before any session a palette is expected to neither calm nor arouse.
//! - κ₀ = 1: that expectation weighs as much as one session, so a single lucky session
//!   moves the estimated mean only halfway towards its reward.
//! - α₀ = 1, β₀ = 0.02: about two pseudo-sessions' worth of belief about the noise, centred
//!   on a session-to-session spread of roughly 0.1 (the prior mode of σ² is
//!   β₀ / (α₀ + 1) = 0.01) with a heavy upper tail; the data take over after a few sessions.
//!
//! The prior marginal of μ is a Student t with 2α₀ = 2 degrees of freedom and scale
//! √(β₀ / (α₀κ₀)) ≈ 0.14: weak for rewards on a -1..1 scale.
//!
//! After n sessions with mean x̄ and sum of squared deviations M₂ (kept by Welford's method
//! in [`ArmStats`]) the posterior is Normal-Inverse-Gamma with
//!
//! ```text
//! κₙ = κ₀ + n      μₙ = (κ₀μ₀ + n x̄) / κₙ      αₙ = α₀ + n / 2
//! βₙ = β₀ + M₂ / 2 + κ₀ n (x̄ − μ₀)² / (2κₙ)
//! ```
//!
//! [`choose`] first plays every palette that has no session yet, in the preset's order.
//! Once all have one, it draws σ² and then μ from each palette's posterior and plays the
//! palette with the largest drawn μ: proper Thompson sampling, so each palette is played
//! with the posterior probability that it is the best one.
//!
//! Randomness comes from a SplitMix64 generator seeded by the caller, turned into
//! normal (Box-Muller) and gamma (Marsaglia-Tsang) draws here, so a seed and a history
//! always give the same choice. The bit stream is identical on every platform; the
//! transforms use the platform's `ln`, `cos` and `sqrt`, which can differ in the last bit
//! between C libraries, so two platforms could only disagree when two palettes' draws
//! lie within about 1e-15 of each other.
//!
//! # Measured behaviour
//!
//! A simulated listener (the unit tests of this module): four palettes with true mean
//! rewards 0.05, 0.25, 0.0 and 0.1, session noise of standard deviation 0.15, 2000 seeds.
//! Sessions 1–4 play each palette once. The best palette is then played to 44 % of the
//! listeners in session 5, 63 % in session 10, 74 % in session 15 and 79 % in session
//! 20; 74 % of sessions 11–20 and 90 % of sessions 31–40 play it. It settles from session
//! 21: from there on every session plays it to at least 80 % of the listeners.
//!
//! That is close to what Thompson sampling can do on this listener at all: told the true
//! noise, it plays the best palette in 78 % of sessions 11–20. The gap between the best
//! palette and the next (0.15, one noise standard deviation) takes about ten sessions of
//! each to resolve, and Thompson sampling keeps playing the runner-up as long as it might
//! be better.
//!
//! Runs on the control thread, between sessions; nothing here is fit for the audio thread.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Prior mean μ₀ of a palette's reward.
const PRIOR_MEAN: f64 = 0.0;
/// Prior strength κ₀, in sessions.
const PRIOR_KAPPA: f64 = 1.0;
/// Prior shape α₀ of the inverse-gamma on the reward variance.
const PRIOR_ALPHA: f64 = 1.0;
/// Prior scale β₀ of the inverse-gamma on the reward variance.
const PRIOR_BETA: f64 = 0.02;

/// Running reward statistics of one palette: count, mean and Welford's sum of squared
/// deviations.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct ArmStats {
    /// Sessions whose reward was counted.
    pub sessions: u32,
    /// Mean reward over those sessions (0 when there are none).
    #[serde(deserialize_with = "super::f64_or_null")]
    pub mean_reward: f64,
    /// Sum of squared deviations from the mean (Welford's M₂).
    #[serde(deserialize_with = "super::f64_or_null")]
    pub m2: f64,
    /// Fields written by a newer release of the same profile version, kept so that they
    /// survive a rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl ArmStats {
    /// Counts one session's reward (Welford's update). Rewards that are not finite, or
    /// that would make the statistics overflow, are ignored.
    pub fn update(&mut self, reward: f64) {
        if !reward.is_finite() || self.sessions == u32::MAX {
            return;
        }
        let n = f64::from(self.sessions) + 1.0;
        let delta = reward - self.mean_reward;
        let mean = self.mean_reward + delta / n;
        let m2 = self.m2 + delta * (reward - mean);
        if !mean.is_finite() || !m2.is_finite() {
            return;
        }
        self.sessions += 1;
        self.mean_reward = mean;
        self.m2 = m2;
    }

    /// Sample standard deviation of the rewards; `None` below two sessions.
    pub fn sd(&self) -> Option<f64> {
        (self.sessions >= 2).then(|| (self.m2.max(0.0) / f64::from(self.sessions - 1)).sqrt())
    }

    /// Count, mean and M₂ as the posterior uses them: a mean that is not finite (a
    /// hand-edited file) counts as 0 and a negative or non-finite M₂ as 0.
    fn sanitised(&self) -> (f64, f64, f64) {
        let n = f64::from(self.sessions);
        let mean = if self.mean_reward.is_finite() {
            self.mean_reward
        } else {
            0.0
        };
        let m2 = if self.m2.is_finite() {
            self.m2.max(0.0)
        } else {
            0.0
        };
        (n, mean, m2)
    }

    /// Draws a mean reward from the Normal-Inverse-Gamma posterior.
    fn sample_mean(&self, rng: &mut SplitMix64) -> f64 {
        let (n, mean, m2) = self.sanitised();
        let kappa = PRIOR_KAPPA + n;
        let mu = (PRIOR_KAPPA * PRIOR_MEAN + n * mean) / kappa;
        let alpha = PRIOR_ALPHA + n / 2.0;
        let beta = PRIOR_BETA
            + m2 / 2.0
            + PRIOR_KAPPA * n * (mean - PRIOR_MEAN) * (mean - PRIOR_MEAN) / (2.0 * kappa);
        // σ² ~ InvGamma(α, β) is β / Gamma(α, 1).
        let variance = beta / rng.gamma(alpha).max(f64::MIN_POSITIVE);
        mu + (variance / kappa).sqrt() * rng.normal()
    }
}

/// The palette to play next and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// Index of the palette in the list given to [`choose`].
    pub index: usize,
    /// Its name.
    pub name: String,
    /// The mean reward drawn for each palette, in the order given to [`choose`]; empty when
    /// a palette without sessions was chosen (no draw is made then).
    pub sampled: Vec<f64>,
    /// One sentence for the listener or a log, e.g. "palette 'warm' chosen by Thompson
    /// sampling: mean reward 0.21 over 4 sessions (sampled 0.25; 'glass' 0.02 over 3)".
    pub reason: String,
}

/// Chooses the palette for the next session of one preset.
///
/// `arms` are the preset's palette names in the preset's order; they should be distinct
/// (duplicates share their statistics). `stats` holds the statistics per palette name;
/// entries for names not in `arms` (palettes the preset no longer has) are ignored.
///
/// The first palette without sessions is tried first; once every palette has at least one
/// session, the choice is made by Thompson sampling (see the module documentation). The
/// same `arms`, `stats` and `seed` always give the same choice, so pass a fresh seed for
/// each session (its start time, say). Returns `None` when `arms` is empty.
pub fn choose(arms: &[String], stats: &BTreeMap<String, ArmStats>, seed: u64) -> Option<Choice> {
    if arms.is_empty() {
        return None;
    }
    let empty = ArmStats::default();
    let arm_stats: Vec<&ArmStats> = arms
        .iter()
        .map(|a| stats.get(a).unwrap_or(&empty))
        .collect();

    if let Some(index) = arm_stats.iter().position(|s| s.sessions == 0) {
        let name = arms[index].clone();
        let reason = format!("palette '{name}' tried: no sessions yet");
        return Some(Choice {
            index,
            name,
            sampled: Vec::new(),
            reason,
        });
    }

    let mut rng = SplitMix64::new(seed);
    let sampled: Vec<f64> = arm_stats.iter().map(|s| s.sample_mean(&mut rng)).collect();
    // The first of equal draws wins; a NaN draw (impossible with sanitised statistics)
    // never does.
    let mut index = 0;
    for (i, &draw) in sampled.iter().enumerate() {
        if draw > sampled[index] || sampled[index].is_nan() {
            index = i;
        }
    }

    let name = arms[index].clone();
    let chosen = arm_stats[index];
    let mut reason = format!(
        "palette '{name}' chosen by Thompson sampling: mean reward {:.2} over {} (sampled {:.2}",
        chosen.sanitised().1,
        sessions_text(chosen.sessions),
        sampled[index],
    );
    let mut first_other = true;
    for (i, (arm, s)) in arms.iter().zip(&arm_stats).enumerate() {
        if i == index {
            continue;
        }
        let separator = if first_other { "; " } else { ", " };
        first_other = false;
        let _ = write!(
            reason,
            "{separator}'{arm}' {:.2} over {}",
            s.sanitised().1,
            s.sessions
        );
    }
    reason.push(')');
    Some(Choice {
        index,
        name,
        sampled,
        reason,
    })
}

/// "1 session", "4 sessions".
fn sessions_text(n: u32) -> String {
    if n == 1 {
        "1 session".to_owned()
    } else {
        format!("{n} sessions")
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast generator whose output depends
/// only on the seed, with normal and gamma draws built on it.
#[derive(Clone, Debug)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1], in steps of 2⁻⁵³ (never 0, so its logarithm is finite).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box-Muller (the cosine branch).
    fn normal(&mut self) -> f64 {
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        radius * angle.cos()
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes below 1 are boosted by
    /// Gamma(a) = Gamma(a + 1) · U^(1/a).
    fn gamma(&mut self, shape: f64) -> f64 {
        if !shape.is_finite() || shape <= 0.0 {
            return f64::NAN;
        }
        if shape < 1.0 {
            let boost = self.uniform().powf(1.0 / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u < 1.0 - 0.0331 * x * x * x * x {
                return d * v;
            }
            if u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn stats_from(rewards: &[(&str, &[f64])]) -> BTreeMap<String, ArmStats> {
        rewards
            .iter()
            .map(|(name, rs)| {
                let mut s = ArmStats::default();
                rs.iter().for_each(|&r| s.update(r));
                ((*name).to_owned(), s)
            })
            .collect()
    }

    #[test]
    fn welford_matches_two_pass_statistics() {
        let rewards = [0.3, -0.1, 0.25, 0.0, 0.42, -0.35, 0.1];
        let mut s = ArmStats::default();
        for &r in &rewards {
            s.update(r);
        }
        let n = rewards.len() as f64;
        let mean = rewards.iter().sum::<f64>() / n;
        let var = rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert_eq!(s.sessions, 7);
        assert!((s.mean_reward - mean).abs() < 1e-12);
        assert!((s.sd().unwrap() - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn sd_needs_two_sessions() {
        let mut s = ArmStats::default();
        assert_eq!(s.sd(), None);
        s.update(0.2);
        assert_eq!(s.sd(), None);
        s.update(0.4);
        assert!((s.sd().unwrap() - 0.02f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn non_finite_and_overflowing_rewards_are_ignored() {
        let mut s = ArmStats::default();
        s.update(0.1);
        let before = s.clone();
        s.update(f64::NAN);
        s.update(f64::INFINITY);
        s.update(f64::NEG_INFINITY);
        assert_eq!(s, before);
        s.update(1e308);
        s.update(-1e308);
        assert!(s.mean_reward.is_finite() && s.m2.is_finite());
    }

    #[test]
    fn empty_arms_give_no_choice() {
        assert_eq!(choose(&[], &BTreeMap::new(), 1), None);
    }

    #[test]
    fn untried_palettes_come_first_in_order() {
        let arms = names(&["warm", "glass", "dusk"]);
        let mut stats = stats_from(&[("glass", &[0.9])]);
        stats.insert("dusk".into(), ArmStats::default());
        let c = choose(&arms, &stats, 7).unwrap();
        assert_eq!((c.index, c.name.as_str()), (0, "warm"));
        assert!(c.sampled.is_empty());
        assert_eq!(c.reason, "palette 'warm' tried: no sessions yet");

        stats.insert(
            "warm".into(),
            stats_from(&[("warm", &[-0.5])])["warm"].clone(),
        );
        let c = choose(&arms, &stats, 7).unwrap();
        assert_eq!((c.index, c.name.as_str()), (2, "dusk"));
    }

    #[test]
    fn choice_is_deterministic_for_a_seed_and_varies_across_seeds() {
        let arms = names(&["warm", "glass", "dusk"]);
        let stats = stats_from(&[
            ("warm", &[0.2, 0.1]),
            ("glass", &[0.15, 0.05]),
            ("dusk", &[0.1, 0.2]),
        ]);
        for seed in 0..50 {
            assert_eq!(choose(&arms, &stats, seed), choose(&arms, &stats, seed));
        }
        let picked: std::collections::BTreeSet<usize> = (0..200)
            .map(|seed| choose(&arms, &stats, seed).unwrap().index)
            .collect();
        assert_eq!(
            picked.len(),
            3,
            "close palettes should all get played: {picked:?}"
        );
    }

    #[test]
    fn random_stream_is_pinned() {
        // Reference values of SplitMix64 for seed 1234567 (from the published algorithm).
        let mut rng = SplitMix64::new(1234567);
        let expected: [u64; 3] = [
            6457827717110365317,
            3203168211198807973,
            9817491932198370423,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn normal_and_gamma_draws_have_the_right_moments() {
        let mut rng = SplitMix64::new(42);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        for shape in [0.5, 1.0, 1.5, 4.0, 30.0] {
            let gs: Vec<f64> = (0..n).map(|_| rng.gamma(shape)).collect();
            let mean = gs.iter().sum::<f64>() / n as f64;
            let var = gs.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n as f64;
            // Gamma(k, 1): mean k, variance k.
            assert!(
                (mean - shape).abs() < 0.03 * shape.max(1.0),
                "shape {shape}: mean {mean}"
            );
            assert!(
                (var - shape).abs() < 0.06 * shape.max(1.0),
                "shape {shape}: var {var}"
            );
        }
    }

    #[test]
    fn reason_names_the_choice_and_the_others() {
        let arms = names(&["warm", "glass"]);
        let stats = stats_from(&[
            ("warm", &[0.6, 0.7, 0.65, 0.7]),
            ("glass", &[-0.3, -0.2, -0.25]),
        ]);
        let c = choose(&arms, &stats, 3).unwrap();
        assert_eq!(c.name, "warm");
        assert_eq!(c.sampled.len(), 2);
        let expected = format!(
            "palette 'warm' chosen by Thompson sampling: mean reward 0.66 over 4 sessions \
             (sampled {:.2}; 'glass' -0.25 over 3)",
            c.sampled[0]
        );
        assert_eq!(c.reason, expected);
    }

    #[test]
    fn stale_and_corrupt_statistics_do_not_panic() {
        let arms = names(&["a", "b"]);
        let mut stats = stats_from(&[("a", &[0.1]), ("b", &[0.2, 0.3]), ("gone", &[0.9])]);
        stats.get_mut("a").unwrap().mean_reward = f64::NAN;
        stats.get_mut("b").unwrap().m2 = -4.0;
        for seed in 0..100 {
            let c = choose(&arms, &stats, seed).unwrap();
            assert!(c.index < 2);
            assert!(c.sampled.iter().all(|x| x.is_finite()));
        }
    }

    /// The listener of the simulation: four palettes with these true mean rewards (the
    /// second is best, 0.15 ahead of the next) and Gaussian session noise of this sd.
    const TRUE_MEANS: [f64; 4] = [0.05, 0.25, 0.0, 0.1];
    const BEST: usize = 1;
    const NOISE_SD: f64 = 0.15;
    const SEEDS: u64 = 2000;

    /// One simulated listener over `sessions` sessions, palettes picked by `pick(stats,
    /// seed)`; rewards are drawn from N(true mean, NOISE_SD²). Returns the palette index
    /// played in each session.
    fn simulate(
        sessions: usize,
        seed: u64,
        pick: impl Fn(&[String], &BTreeMap<String, ArmStats>, u64) -> usize,
    ) -> Vec<usize> {
        let arms: Vec<String> = (0..TRUE_MEANS.len()).map(|i| format!("p{i}")).collect();
        let mut stats = BTreeMap::new();
        // The listener's noise has its own stream, independent of the choice seeds.
        let mut world = SplitMix64::new(seed ^ 0xA5A5_5A5A_DEAD_BEEF);
        let mut played = Vec::with_capacity(sessions);
        for session in 0..sessions {
            let choice_seed = seed.wrapping_mul(1000).wrapping_add(session as u64);
            let index = pick(&arms, &stats, choice_seed);
            let reward = TRUE_MEANS[index] + NOISE_SD * world.normal();
            stats
                .entry(arms[index].clone())
                .or_insert_with(ArmStats::default)
                .update(reward);
            played.push(index);
        }
        played
    }

    fn thompson(arms: &[String], stats: &BTreeMap<String, ArmStats>, seed: u64) -> usize {
        choose(arms, stats, seed).unwrap().index
    }

    /// Thompson sampling that is told the noise sd (prior N(0, σ²/κ₀), κ₀ = 1): the best
    /// Thompson sampling can do here, a reference for the unknown-variance model.
    fn thompson_known_noise(
        arms: &[String],
        stats: &BTreeMap<String, ArmStats>,
        seed: u64,
    ) -> usize {
        let empty = ArmStats::default();
        let arm_stats: Vec<&ArmStats> = arms
            .iter()
            .map(|a| stats.get(a).unwrap_or(&empty))
            .collect();
        if let Some(untried) = arm_stats.iter().position(|s| s.sessions == 0) {
            return untried;
        }
        let mut rng = SplitMix64::new(seed);
        let draws: Vec<f64> = arm_stats
            .iter()
            .map(|s| {
                let kappa = PRIOR_KAPPA + f64::from(s.sessions);
                let mu = f64::from(s.sessions) * s.mean_reward / kappa;
                mu + NOISE_SD / kappa.sqrt() * rng.normal()
            })
            .collect();
        (0..draws.len()).fold(0, |best, i| if draws[i] > draws[best] { i } else { best })
    }

    fn random_play(arms: &[String], _: &BTreeMap<String, ArmStats>, seed: u64) -> usize {
        (SplitMix64::new(seed).next_u64() % arms.len() as u64) as usize
    }

    /// Per session, the share of simulated listeners played the best palette.
    struct Measured {
        rate: Vec<f64>,
    }

    impl Measured {
        fn run(
            sessions: usize,
            pick: impl Fn(&[String], &BTreeMap<String, ArmStats>, u64) -> usize + Copy,
        ) -> Self {
            let runs: Vec<Vec<usize>> = (0..SEEDS)
                .map(|seed| simulate(sessions, seed, pick))
                .collect();
            let rate = (0..sessions)
                .map(|s| runs.iter().filter(|r| r[s] == BEST).count() as f64 / SEEDS as f64)
                .collect();
            Self { rate }
        }

        /// Share of sessions `first..=last` (1-based) that played the best palette.
        fn share(&self, first: usize, last: usize) -> f64 {
            self.rate[first - 1..last].iter().sum::<f64>() / (last + 1 - first) as f64
        }

        /// The first session (1-based) from which the best palette is played to at least
        /// 80 % of the listeners in every later session measured.
        fn settled(&self) -> Option<usize> {
            (0..self.rate.len())
                .find(|&s| self.rate[s..].iter().all(|&r| r >= 0.8))
                .map(|s| s + 1)
        }

        fn table(&self) -> String {
            let cells: Vec<String> = self
                .rate
                .iter()
                .enumerate()
                .map(|(s, r)| format!("{}:{:.0}%", s + 1, 100.0 * r))
                .collect();
            cells.join(" ")
        }
    }

    #[test]
    fn simulated_listener_settles_on_the_best_palette() {
        let m = Measured::run(40, thompson);
        println!("best palette played, per session: {}", m.table());
        println!(
            "sessions 11-20: {:.1}%, 31-40: {:.1}%; at least 80 % from session {:?} on",
            100.0 * m.share(11, 20),
            100.0 * m.share(31, 40),
            m.settled()
        );
        // Sessions 1-4 try each palette once, in order.
        assert_eq!(&m.rate[..4], &[0.0, 1.0, 0.0, 0.0]);
        assert!(
            m.share(11, 20) >= 0.70,
            "sessions 11-20: {:.3}",
            m.share(11, 20)
        );
        assert!(
            m.share(31, 40) >= 0.85,
            "sessions 31-40: {:.3}",
            m.share(31, 40)
        );
        assert!(
            m.settled().is_some_and(|s| s <= 24),
            "settled: {:?}",
            m.settled()
        );
    }

    #[test]
    fn not_knowing_the_noise_costs_little() {
        // Told the true noise sd, Thompson sampling plays the best palette in about
        // 77 % of sessions 11-20 on this listener; the unknown-variance model must stay
        // within 5 points of that.
        let ours = Measured::run(20, thompson).share(11, 20);
        let known = Measured::run(20, thompson_known_noise).share(11, 20);
        println!(
            "sessions 11-20: {:.1}% unknown noise, {:.1}% known noise",
            100.0 * ours,
            100.0 * known
        );
        assert!(ours >= known - 0.05, "{ours:.3} vs {known:.3}");
    }

    #[test]
    fn the_measurement_rejects_a_policy_that_does_not_learn() {
        // The same measurement applied to uniform random play must fail the bars above,
        // or the test above would prove nothing.
        let m = Measured::run(40, random_play);
        assert!(m.share(11, 20) < 0.35, "{}", m.share(11, 20));
        assert!(m.share(31, 40) < 0.35, "{}", m.share(31, 40));
        assert_eq!(m.settled(), None);
    }

    #[test]
    fn a_clearly_better_palette_wins_almost_always() {
        let arms = names(&["a", "b", "c"]);
        let stats = stats_from(&[
            ("a", &[0.0, 0.05, -0.05, 0.02, 0.01]),
            ("b", &[0.4, 0.5, 0.45, 0.35, 0.5]),
            ("c", &[0.1, 0.0, 0.05, 0.1, 0.05]),
        ]);
        let wins = (0..1000)
            .filter(|&seed| choose(&arms, &stats, seed).unwrap().index == 1)
            .count();
        assert!(wins >= 990, "{wins}");
    }
}
