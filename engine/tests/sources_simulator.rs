//! The simulated listener: deterministic, labelled simulated, physiologically sensible
//! responses to stress, calm, outside arousal and breathing pace.

use isochord_engine::biometrics::sources::{
    ArousalScript, Counted, Replay, SimOptions, SimParams, Simulator, Source, VirtualClock,
};
use isochord_engine::biometrics::{SensorData, Value, WaveKind};

fn run(opts: SimOptions) -> Vec<SensorData> {
    Simulator::new(opts)
        .items()
        .map(|x| x.expect("the simulator reports no issues"))
        .collect()
}

fn opts(seed: u64, duration: f64, script: ArousalScript) -> SimOptions {
    SimOptions {
        seed,
        duration: Some(duration),
        script,
        params: SimParams::default(),
    }
}

/// Summary of a time window.
#[derive(Debug)]
struct Window {
    hr: f64,
    rmssd: f64,
    eda: f64,
    resp_rate: f64,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn window(items: &[SensorData], from: f64, to: f64) -> Window {
    let (mut hr, mut rr, mut eda, mut rate) = (vec![], vec![], vec![], vec![]);
    for d in items {
        if let SensorData::Reading(r) = d {
            if r.time < from || r.time >= to {
                continue;
            }
            match r.value {
                Value::HeartRate(v) => hr.push(f64::from(v)),
                Value::Rr(v) => rr.push(f64::from(v)),
                Value::Eda(v) => eda.push(f64::from(v)),
                Value::RespRate(v) => rate.push(f64::from(v)),
                _ => {}
            }
        }
    }
    let diffs: Vec<f64> = rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
    Window {
        hr: mean(&hr),
        rmssd: mean(&diffs).sqrt(),
        eda: mean(&eda),
        resp_rate: mean(&rate),
    }
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let a = run(opts(7, 120.0, ArousalScript::stress_then_calm()));
    let b = run(opts(7, 120.0, ArousalScript::stress_then_calm()));
    let c = run(opts(8, 120.0, ArousalScript::stress_then_calm()));
    assert!(a.len() > 1000);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn always_labelled_simulated_even_when_wrapped() {
    let sim = Simulator::new(SimOptions::default());
    assert!(sim.info().simulated);
    let wrapped = Counted::new(Replay::new(sim, VirtualClock::new()));
    let info = wrapped.info();
    assert!(info.simulated);
    assert_eq!(info.format, "simulator");
    assert!(info.name.starts_with("simulated"));
}

#[test]
fn stress_raises_hr_eda_and_breathing_and_lowers_hrv_then_calm_reverses_it() {
    let items = run(opts(3, 900.0, ArousalScript::stress_then_calm()));
    let base = window(&items, 60.0, 120.0);
    let stress = window(&items, 240.0, 360.0);
    let calm = window(&items, 780.0, 900.0);
    println!("baseline {base:?}\nstress   {stress:?}\ncalm     {calm:?}");
    assert!(stress.hr > base.hr + 15.0, "{base:?} {stress:?}");
    assert!(stress.rmssd < base.rmssd * 0.6, "{base:?} {stress:?}");
    assert!(stress.eda > base.eda * 1.5, "{base:?} {stress:?}");
    assert!(
        stress.resp_rate > base.resp_rate + 3.0,
        "{base:?} {stress:?}"
    );
    assert!(
        calm.hr < stress.hr - 20.0 && calm.hr < base.hr,
        "{stress:?} {calm:?}"
    );
    assert!(calm.rmssd > stress.rmssd * 1.5, "{stress:?} {calm:?}");
    assert!(calm.eda < stress.eda * 0.7, "{stress:?} {calm:?}");
    assert!(
        calm.resp_rate < stress.resp_rate - 3.0,
        "{stress:?} {calm:?}"
    );
    // Plausible absolute values.
    assert!((55.0..80.0).contains(&base.hr), "{base:?}");
    assert!((85.0..110.0).contains(&stress.hr), "{stress:?}");
}

/// Respiratory sinus arrhythmia: intervals drawn during inspiration are shorter.
#[test]
fn heart_intervals_follow_breathing_at_rest() {
    let items = run(opts(11, 300.0, ArousalScript::constant(0.1)));
    // Respiration samples by time.
    let mut resp: Vec<(f64, f32)> = Vec::new();
    for d in &items {
        if let SensorData::Waveform(w) = d {
            assert_eq!(w.kind, WaveKind::Resp);
            for (i, s) in w.samples.iter().enumerate() {
                resp.push((w.start + i as f64 / w.rate, *s));
            }
        }
    }
    let resp_at = |t: f64| -> f64 {
        let i = resp.partition_point(|(rt, _)| *rt < t).min(resp.len() - 1);
        f64::from(resp[i].1)
    };
    // Each RR reading ends at its beat; it was drawn at the beat before.
    let beats: Vec<(f64, f64)> = items
        .iter()
        .filter_map(|d| match d {
            SensorData::Reading(r) => match r.value {
                Value::Rr(v) => Some((r.time, f64::from(v))),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let pairs: Vec<(f64, f64)> = beats
        .iter()
        .skip(1)
        .map(|&(t, rr)| (resp_at(t - rr / 1000.0), rr))
        .collect();
    let (mx, my) = (
        mean(&pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
        mean(&pairs.iter().map(|p| p.1).collect::<Vec<_>>()),
    );
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    println!(
        "correlation of RR with respiration: {r:.2} over {} beats",
        pairs.len()
    );
    assert!(r < -0.6, "RSA too weak: r = {r}");
}

#[test]
fn arousal_set_from_outside_while_running_moves_the_body() {
    let mut sim = Simulator::new(opts(5, 1e9, ArousalScript::constant(0.1)));
    let handle = sim.handle();
    let mut items = Vec::new();
    while sim.time() < 120.0 {
        items.push(sim.next().unwrap().unwrap());
    }
    handle.set_arousal(0.9);
    while sim.time() < 240.0 {
        items.push(sim.next().unwrap().unwrap());
    }
    assert_eq!(handle.current_arousal(), 0.9);
    handle.clear_arousal();
    while sim.time() < 360.0 {
        items.push(sim.next().unwrap().unwrap());
    }
    assert!((handle.current_arousal() - 0.1).abs() < 1e-12);
    let before = window(&items, 60.0, 120.0);
    let during = window(&items, 180.0, 240.0);
    let after = window(&items, 300.0, 360.0);
    assert!(during.hr > before.hr + 20.0, "{before:?} {during:?}");
    assert!(after.hr < during.hr - 20.0, "{during:?} {after:?}");
}

#[test]
fn a_breathing_pace_is_followed() {
    let mut sim = Simulator::new(opts(9, 1e9, ArousalScript::constant(0.3)));
    let handle = sim.handle();
    let mut items = Vec::new();
    while sim.time() < 60.0 {
        items.push(sim.next().unwrap().unwrap());
    }
    handle.set_breath_pace(Some(6.0));
    while sim.time() < 240.0 {
        items.push(sim.next().unwrap().unwrap());
    }
    let free = window(&items, 30.0, 60.0).resp_rate;
    let paced = window(&items, 180.0, 240.0).resp_rate;
    assert!((free - 14.4).abs() < 1.0, "free breathing {free}");
    assert!((paced - 6.0).abs() < 0.5, "paced breathing {paced}");
}

#[test]
fn simulated_values_stay_within_the_parse_limits_even_at_extremes() {
    // Arousal 1 throughout and 0 throughout: nothing the sources would reject.
    for a in [0.0, 1.0] {
        let items = run(opts(2, 600.0, ArousalScript::constant(a)));
        for d in &items {
            if let SensorData::Reading(r) = d {
                isochord_engine::biometrics::sources::limits::check_value(&r.value)
                    .unwrap_or_else(|e| panic!("arousal {a}: {e}"));
            }
        }
    }
}
