//! The loop in simulation — a model, not people. With the simulated listener of
//! `isochord_engine::simulation` (documented assumptions: music pulls arousal toward the
//! arousal it expresses, less so the farther it is; breathing follows a guide within
//! reach; slower breathing lowers arousal), the adaptive policy is compared with the same
//! preset played statically, and the palette bandit with a listener who prefers one
//! palette. Numbers are printed; the bounds below are what the model must keep showing.

use isochord_engine::personal::{choose, ArmStats};
use isochord_engine::simulation::{simulate, ListenerParams, SimResult, SimSession, Strategy};
use isochord_engine::Preset;
use std::collections::BTreeMap;

fn uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(k.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Listeners differ: starting arousal 0.55-0.8, resting level 0.2-0.35.
fn listener(seed: u64) -> ListenerParams {
    ListenerParams {
        initial_arousal: 0.55 + 0.25 * uniform(seed, 1),
        resting_arousal: 0.2 + 0.15 * uniform(seed, 2),
        ..Default::default()
    }
}

fn run(
    preset: &Preset,
    l: ListenerParams,
    seed: u64,
    strategy: Strategy,
    palette: usize,
) -> SimResult {
    simulate(SimSession {
        preset: preset.clone(),
        duration_s: preset.duration.as_secs_f64(),
        palette,
        listener: l,
        seed,
        strategy,
        estimator: None,
    })
    .unwrap()
}

#[test]
fn adaptive_relax_lowers_simulated_arousal_more_and_sooner_than_static() {
    let preset = Preset::find("relax").unwrap();
    let seeds = 40u64;
    let (mut wins, mut sooner) = (0, 0);
    let (mut end_a, mut end_s) = (Vec::new(), Vec::new());
    let (mut calm_a, mut calm_s) = (Vec::new(), Vec::new());
    for seed in 1..=seeds {
        let a = run(&preset, listener(seed), seed, Strategy::Adaptive, 0);
        let s = run(&preset, listener(seed), seed, Strategy::Static, 0);
        if a.final_arousal < s.final_arousal {
            wins += 1;
        }
        let never = preset.duration.as_secs_f64();
        let (ca, cs) = (a.calm_at.unwrap_or(never), s.calm_at.unwrap_or(never));
        if ca <= cs {
            sooner += 1;
        }
        end_a.push(a.final_arousal);
        end_s.push(s.final_arousal);
        calm_a.push(ca);
        calm_s.push(cs);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "SIMULATION, {seeds} listeners, relax 15 min: arousal before the close adaptive {:.3} vs static {:.3} (mean); adaptive lower for {wins}/{seeds}; calm (< 0.4 for 1 min) at median {:.0} s vs {:.0} s, adaptive as soon or sooner for {sooner}/{seeds}",
        mean(&end_a),
        mean(&end_s),
        median(&calm_a),
        median(&calm_s)
    );
    assert!(mean(&end_a) + 0.1 < mean(&end_s));
    assert!(wins >= seeds * 9 / 10, "{wins}/{seeds}");
    assert!(median(&calm_a) < median(&calm_s));
}

#[test]
fn the_bandit_finds_a_simulated_listeners_preferred_palette() {
    let preset = Preset::find("relax").unwrap();
    let names: Vec<String> = preset
        .protocol
        .as_ref()
        .unwrap()
        .palettes
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let listeners = 12u64;
    let sessions = 16usize;
    let mut on_preferred = vec![0usize; sessions];
    for l in 0..listeners {
        let preferred = (l % names.len() as u64) as usize;
        let mut stats: BTreeMap<String, ArmStats> = BTreeMap::new();
        for (s, count) in on_preferred.iter_mut().enumerate() {
            let seed = 1000 * (l + 1) + s as u64;
            let c = choose(&names, &stats, seed).unwrap();
            let params = ListenerParams {
                preferred_palette: preferred,
                ..listener(seed)
            };
            let r = run(&preset, params, seed, Strategy::Adaptive, c.index);
            let reward = r.outcome.reward(preset.goal, 0.2).unwrap();
            stats.entry(c.name.clone()).or_default().update(reward);
            if c.index == preferred {
                *count += 1;
            }
        }
    }
    let late: usize = on_preferred[sessions / 2..].iter().sum();
    let share = late as f64 / ((sessions / 2) as u64 * listeners) as f64;
    println!(
        "SIMULATION, {listeners} listeners × {sessions} sessions, {} palettes (chance {:.0} %): preferred palette chosen per session {:?}; in sessions {}-{}: {:.0} %",
        names.len(),
        100.0 / names.len() as f64,
        on_preferred,
        sessions / 2 + 1,
        sessions,
        100.0 * share,
    );
    assert!(share >= 0.6, "{share}");
}
