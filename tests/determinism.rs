//! Offline renders are repeatable: same seed, same bytes; another seed, another file.

use isochord::{Automation, AutomationController, OfflineSession, Preset, SampleFormat, WavSink};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const AUTOMATION: &str =
    "time,tempo,brightness,density,key\n0,60,0.3,0.2,\n8s,90,0.9,1.0,\n12s,,,,A\n";

fn render_file(dir: &Path, name: &str, seed: u64) -> Vec<u8> {
    let preset = Preset::find("relax").unwrap();
    let automation = Automation::parse(AUTOMATION, Path::new("arc.csv")).unwrap();
    let session = OfflineSession {
        content: isochord::Content::none(),
        controller: Box::new(AutomationController::new(automation, &preset.sound)),
        config: preset.sound,
        sample_rate: 44_100,
        seed,
        duration: Duration::from_secs(20),
    };
    let path = dir.join(name);
    let mut sink = WavSink::create(&path, 44_100, SampleFormat::F32).unwrap();
    let outcome = session
        .render(|b| sink.write(b), &AtomicBool::new(false), |_, _| {})
        .unwrap();
    assert_eq!(outcome.frames, 20 * 44_100);
    assert!(outcome.commands > 0);
    sink.finish().unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let a = render_file(dir.path(), "a.wav", 42);
    let b = render_file(dir.path(), "b.wav", 42);
    let c = render_file(dir.path(), "c.wav", 43);
    assert_eq!(a.len(), b.len());
    assert!(a == b, "same seed must give the same file");
    assert_eq!(a.len(), c.len());
    let differing = a.iter().zip(&c).filter(|(x, y)| x != y).count();
    assert!(differing > a.len() / 4, "only {differing} bytes differ");
}

#[test]
fn a_stopped_render_fades_out_and_is_shorter() {
    let preset = Preset::find("focus").unwrap();
    let session = OfflineSession {
        content: isochord::Content::none(),
        config: preset.sound,
        sample_rate: 48_000,
        seed: 1,
        duration: Duration::from_secs(60),
        controller: Box::new(isochord::Static),
    };
    let stop = AtomicBool::new(false);
    let mut written = Vec::new();
    let outcome = session
        .render(
            |b| {
                written.extend_from_slice(b);
                Ok::<(), ()>(())
            },
            &stop,
            |done, _| {
                if done >= 10 * 48_000 {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
        )
        .unwrap();
    assert!(outcome.interrupted);
    let secs = outcome.frames as f64 / 48_000.0;
    assert!((11.9..12.3).contains(&secs), "{secs} s");
    let tail = &written[written.len() - 2 * 480..];
    assert!(tail.iter().all(|v| v.abs() < 1e-4), "ends in silence");
}

#[test]
fn recorded_content_renders_the_same_for_the_same_seed() {
    // the sampled piano, the loops (slices and texture) and a key that transposes them
    let mut sound = Preset::find("piano").unwrap().sound;
    sound.key = "C".parse().unwrap();
    let library = isochord::ContentLibrary::bundled();
    let render = |seed: u64| {
        let content = library.load_for(&sound, 48_000).content;
        let session = OfflineSession {
            content,
            config: sound.clone(),
            sample_rate: 48_000,
            seed,
            duration: Duration::from_secs(20),
            controller: Box::new(isochord::Static),
        };
        let mut out = Vec::new();
        session
            .render(
                |b| {
                    out.extend_from_slice(b);
                    Ok::<(), ()>(())
                },
                &AtomicBool::new(false),
                |_, _| {},
            )
            .unwrap();
        out
    };
    let (a, b, c) = (render(5), render(5), render(6));
    assert!(a == b, "same seed, same content: the same samples");
    assert!(a != c, "another seed plays other notes");
}
