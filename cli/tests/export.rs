//! `render` to FLAC and Ogg Opus as a listener uses it, and `render-batch` split into
//! shards and merged back.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Frames of an Ogg Opus file at 48 kHz: its last granule position less the pre-skip,
/// after decoding every packet.
fn opus_frames(path: &Path) -> (u64, Vec<f32>) {
    let mut r = ogg::PacketReader::new(std::fs::File::open(path).unwrap());
    let head = r.read_packet_expected().unwrap();
    assert_eq!(&head.data[..8], b"OpusHead");
    let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]) as u64;
    r.read_packet_expected().unwrap();
    let mut dec = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
    let mut buf = vec![0f32; 2 * 5760];
    let mut pcm = Vec::new();
    let mut granule = 0;
    while let Some(p) = r.read_packet().unwrap() {
        let n = dec.decode_float(&p.data, &mut buf, false).unwrap();
        pcm.extend_from_slice(&buf[..2 * n]);
        granule = p.absgp_page();
    }
    pcm.truncate(2 * granule as usize);
    pcm.drain(..2 * pre_skip as usize);
    (granule - pre_skip, pcm)
}

#[test]
fn the_extension_chooses_the_format_and_a_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let flac = dir.path().join("a.flac");
    let opus = dir.path().join("a.opus");
    for (out, extra) in [(&flac, vec![]), (&opus, vec!["--bitrate", "64"])] {
        let mut args = vec![
            "render",
            "--preset",
            "focus",
            "--duration",
            "4s",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = isochord(&args);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("rendered focus"), "{}", text(&o));
    }
    let mut r = claxon::FlacReader::open(&flac).unwrap();
    assert_eq!(r.streaminfo().bits_per_sample, 24);
    assert_eq!(r.streaminfo().samples, Some(4 * 48_000));
    assert!(r.samples().map(|s| s.unwrap().abs()).max().unwrap() > 1 << 16);
    let (frames, pcm) = opus_frames(&opus);
    assert_eq!(frames, 4 * 48_000);
    assert!(pcm.iter().any(|s| s.abs() > 0.01), "not silent");
    // at 64 kbit/s, 4 s are about 32 kB
    let size = std::fs::metadata(&opus).unwrap().len();
    assert!((16_000..48_000).contains(&size), "{size} bytes");

    let bad = dir.path().join("b.flac");
    for (format, expect) in [
        (
            "opus",
            "b.flac: the extension says flac but the format asked for is opus",
        ),
        (
            "s24",
            "b.flac: the extension says flac but the format asked for is wav",
        ),
    ] {
        let o = isochord(&[
            "render",
            "--preset",
            "focus",
            "--duration",
            "2s",
            "--format",
            format,
            "--out",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(expect), "{}", text(&o));
    }
    let o = isochord(&[
        "render",
        "--preset",
        "focus",
        "--duration",
        "2s",
        "--bitrate",
        "64",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Opus output only"), "{}", text(&o));
    assert_eq!(
        files_in(dir.path()),
        ["a.flac", "a.opus"],
        "nothing else written"
    );
}

#[test]
fn ctrl_c_leaves_playable_flac_and_opus() {
    for name in ["long.flac", "long.opus"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(name);
        let child = Command::new(env!("CARGO_BIN_EXE_isochord"))
            .args(["render", "--preset", "sleep", "--duration", "2h", "--out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            let busy = files_in(dir.path()).iter().any(|f| f.ends_with(".partial"));
            if busy && started.elapsed() > Duration::from_millis(800) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "never started");
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{}", text(&o));
        assert!(text(&o).contains("stopped early"), "{}", text(&o));
        let (frames, tail): (u64, Vec<f32>) = if name.ends_with(".flac") {
            let mut r = claxon::FlacReader::open(&out).expect("a valid FLAC");
            let n = r.streaminfo().samples.unwrap();
            let s: Vec<i32> = r.samples().map(|s| s.unwrap()).collect();
            assert_eq!(s.len() as u64, 2 * n);
            let tail = s[s.len() - 960..]
                .iter()
                .map(|&x| x as f32 / 8_388_608.0)
                .collect();
            (n, tail)
        } else {
            let (n, pcm) = opus_frames(&out);
            assert_eq!(pcm.len() as u64, 2 * n);
            (n, pcm[pcm.len() - 960..].to_vec())
        };
        let seconds = frames as f64 / 48_000.0;
        assert!(seconds > 2.0 && seconds < 3600.0, "{name}: {seconds} s");
        assert!(tail.iter().all(|s| s.abs() < 1e-3), "{name}: faded out");
        assert_eq!(files_in(dir.path()), [name], "no partial files left");
    }
}

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/demo/stress-predict-S02"
);

/// summaries.csv without its render_s column (wall-clock time, different on every run).
fn without_timing(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| {
            // an error may hold commas; the figures after render_s never do
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            // render_s is the 19th cell from the end (18 figures follow it)
            let at = cells.len() - 19;
            cells.remove(at);
            cells
        })
        .collect()
}

#[test]
fn two_shards_merged_equal_one_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("recordings");
    std::fs::create_dir(&input).unwrap();
    for n in ["A", "B", "C"] {
        std::os::unix::fs::symlink(DEMO, input.join(n)).unwrap();
    }
    std::fs::write(input.join("broken.csv"), "this is not,a recording\n1,2,3\n").unwrap();
    let batch = |out: &Path, extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_isochord"));
        cmd.args(["render-batch", input.to_str().unwrap(), "--preset", "relax"])
            .arg("--out")
            .arg(out)
            .args(["--duration", "3m", "--sample-rate", "8000", "--jobs", "2"])
            .args(extra)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let whole = tmp.path().join("whole");
    let o = batch(&whole, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "one failure: {}", text(&o));
    assert!(
        text(&o).contains("3 of 4 sessions rendered"),
        "{}",
        text(&o)
    );

    // shard 1 from --shard, shard 2 as a Kubernetes Indexed Job's second pod
    let sharded = tmp.path().join("sharded");
    // sorted: A, B, C, broken.csv; shard 1 takes A and C, shard 2 B and broken.csv
    let o = batch(&sharded, &["--shard", "1/2"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("shard 1/2: 2 of 2 sessions"),
        "{}",
        text(&o)
    );
    assert!(!sharded.join("summaries.csv").exists(), "left to the merge");
    assert!(sharded.join("C").is_dir() && !sharded.join("B").exists());
    let o = batch(
        &sharded,
        &["--shards", "2"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "broken.csv is in shard 2: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("shard 2/2: 1 of 2 sessions"),
        "{}",
        text(&o)
    );

    let merge = |dir: &Path| isochord(&["render-batch-merge", dir.to_str().unwrap()]);
    let o = merge(&sharded);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("merged 2 shards: 3 of 4"), "{}", text(&o));
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_eq!(read(&sharded, "index.html"), read(&whole, "index.html"));
    let (a, b) = (
        read(&whole, "summaries.csv"),
        read(&sharded, "summaries.csv"),
    );
    assert_eq!(a.lines().count(), 5, "{a}");
    assert_eq!(without_timing(&a), without_timing(&b), "{a}\n{b}");
    for n in ["A", "B", "C"] {
        // the same figures; only the wall-clock start differs
        let summary = |d: &Path| {
            let mut v: serde_json::Value =
                serde_json::from_str(&read(&d.join(n), "summary.json")).unwrap();
            v["session"].as_object_mut().unwrap().remove("started_at");
            v
        };
        assert_eq!(summary(&whole), summary(&sharded), "{n}");
        assert_eq!(
            std::fs::read(whole.join(n).join("session.wav")).unwrap(),
            std::fs::read(sharded.join(n).join("session.wav")).unwrap(),
            "{n}: the same audio"
        );
    }

    // a missing shard is named, and nothing is written
    let lone = tmp.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    std::fs::copy(
        sharded.join("shard-2-of-2.json"),
        lone.join("shard-2-of-2.json"),
    )
    .unwrap();
    let o = merge(&lone);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("shard 1/2 missing"), "{}", text(&o));
    assert!(!lone.join("index.html").exists());
    // a shard out of range is refused
    let o = batch(&tmp.path().join("x"), &["--shard", "3/2"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("numbered 1 to 2"), "{}", text(&o));
}
