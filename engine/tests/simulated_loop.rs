//! The loop in simulation (a model, not people): with the simulated listener of
//! `isochord_engine::simulation`, the adaptive policy lowers arousal more than the same
//! preset played statically, over many seeds.

use isochord_engine::simulation::{simulate, ListenerParams, SimSession, Strategy};
use isochord_engine::Preset;

fn listener(seed: u64) -> ListenerParams {
    // listeners differ: starting arousal 0.55-0.8, resting level 0.2-0.35
    let u = |k: u64| {
        ((seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(k * 1442695040888963407))
            >> 33) as f64
            / (1u64 << 31) as f64
    };
    ListenerParams {
        initial_arousal: 0.55 + 0.25 * u(1),
        resting_arousal: 0.2 + 0.15 * u(2),
        ..Default::default()
    }
}

fn run(preset: &Preset, seed: u64, strategy: Strategy) -> isochord_engine::simulation::SimResult {
    simulate(SimSession {
        preset: preset.clone(),
        duration_s: preset.duration.as_secs_f64(),
        palette: 0,
        listener: listener(seed),
        seed,
        strategy,
        estimator: None,
    })
    .unwrap()
}

#[test]
fn adaptive_relax_lowers_simulated_arousal_more_than_static() {
    let preset = Preset::find("relax").unwrap();
    let seeds = 30u64;
    let (mut wins, mut sum_a, mut sum_s) = (0, 0.0, 0.0);
    for seed in 1..=seeds {
        let a = run(&preset, seed, Strategy::Adaptive);
        let s = run(&preset, seed, Strategy::Static);
        eprintln!(
            "seed {seed:2}: final arousal adaptive {:.3} static {:.3}; calm at {:?} / {:?}",
            a.final_arousal, s.final_arousal, a.calm_at, s.calm_at
        );
        if seed == 1 {
            for e in &a.events {
                eprintln!("  {e}");
            }
            for (t, x) in a.arousal.iter().step_by(6) {
                let st = s.arousal.iter().find(|p| p.0 == *t).map_or(0.0, |p| p.1);
                eprintln!("  t {t:5.0} adaptive {x:.3} static {st:.3}");
            }
        }
        sum_a += a.final_arousal;
        sum_s += s.final_arousal;
        if a.final_arousal < s.final_arousal {
            wins += 1;
        }
    }
    eprintln!(
        "mean final arousal adaptive {:.3}, static {:.3}; adaptive lower in {wins}/{seeds}",
        sum_a / seeds as f64,
        sum_s / seeds as f64
    );
}
