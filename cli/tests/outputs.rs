//! Where outputs go: devices and FIFOs are written into, symbolic links followed,
//! existing files kept unless `--force`, anything else refused; a log that cannot be
//! written fails the run; leftovers of killed runs are cleaned up.
//!
//! Device files are made with `mknod` in scratch folders (the tests never point an
//! output at the system's own devices); those cases are skipped without root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn render_to(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "render",
        "--preset",
        "relax",
        "--duration",
        "2s",
        "--sample-rate",
        "8000",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    isochord(&args)
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(ok.success());
}

fn file_type(p: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(p).unwrap().file_type()
}

/// The data chunk of a WAV file's bytes.
fn payload(bytes: &[u8]) -> &[u8] {
    let at = bytes.windows(4).position(|w| w == b"data").unwrap();
    &bytes[at + 8..]
}

#[test]
fn a_device_file_is_written_into_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("fakenull");
    let made = Command::new("mknod")
        .args([s(&dev), "c", "1", "3"])
        .status()
        .is_ok_and(|st| st.success());
    if !made {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let o = render_to(&dev, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(file_type(&dev).is_char_device(), "still a device");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no leftovers"
    );
}

#[test]
fn a_fifo_is_written_into_and_a_pipe_gets_the_wav() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.wav");
    let o = render_to(&reference, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let want = std::fs::read(&reference).unwrap();

    let fifo = dir.path().join("fifo.wav");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let o = render_to(&fifo, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let got = reader.join().unwrap();
    assert!(file_type(&fifo).is_fifo(), "still a FIFO");
    assert_eq!(payload(&got), payload(&want), "the same samples");

    // `--out -` and `--out /dev/stdout` into a pipe: only the WAV on standard output
    for out in ["-", "/dev/stdout"] {
        let child = Command::new(env!("CARGO_BIN_EXE_isochord"))
            .args([
                "render",
                "--preset",
                "relax",
                "--duration",
                "2s",
                "--sample-rate",
                "8000",
                "--out",
                out,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{out}: {}", text(&o));
        assert_eq!(&o.stdout[..4], b"RIFF", "{out}");
        assert_eq!(payload(&o.stdout), payload(&want), "{out}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("rendered relax"));
    }

    // standard output redirected to a file: the sizes are patched in, hound reads it
    let file = dir.path().join("redirected.wav");
    let o = Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args([
            "render",
            "--preset",
            "relax",
            "--duration",
            "2s",
            "--sample-rate",
            "8000",
            "--out",
            "-",
        ])
        .stdout(std::fs::File::create(&file).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let r = hound::WavReader::open(&file).unwrap();
    assert_eq!(r.duration(), 16_000);
}

#[test]
fn a_symlink_is_followed_and_other_files_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.wav");
    let link = dir.path().join("link.wav");
    std::os::unix::fs::symlink("target.wav", &link).unwrap();
    let o = render_to(&link, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(file_type(&link).is_symlink(), "the link stays a link");
    assert_eq!(hound::WavReader::open(&target).unwrap().duration(), 16_000);

    let sock = dir.path().join("s.wav");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let o = render_to(&sock, &["--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("s.wav: is a socket"), "{}", text(&o));
    use std::os::unix::fs::FileTypeExt;
    assert!(file_type(&sock).is_socket());
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.wav");
    std::fs::write(&out, b"precious").unwrap();
    let o = render_to(&out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("session.wav: already exists; give --force to replace it"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let o = render_to(&out, &["--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(hound::WavReader::open(&out).unwrap().duration(), 16_000);

    // play --record refuses before any device is opened (no sound card needed)
    let rec = dir.path().join("night.wav");
    std::fs::write(&rec, b"last night").unwrap();
    let o = isochord(&[
        "play",
        "--preset",
        "relax",
        "--duration",
        "2s",
        "--record",
        s(&rec),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("night.wav: already exists"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&rec).unwrap(), b"last night");

    // and so does --log
    let log = dir.path().join("s.jsonl");
    std::fs::write(&log, b"{}").unwrap();
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        "10s",
        "--biometrics",
        "sim",
        "--out",
        s(&dir.path().join("new.wav")),
        "--log",
        s(&log),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("s.jsonl: already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(&log).unwrap(), b"{}");
}

#[test]
fn leftovers_of_a_killed_run_are_removed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let left = dir.path().join(format!(".old.wav.{dead}.1.partial"));
    std::fs::write(&left, vec![0u8; 2_000_000]).unwrap();
    let o = render_to(&dir.path().join("new.wav"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!left.exists());
    assert!(
        text(&o).contains("removed 1 unfinished file (2.0 MB) left by a run that was killed"),
        "{}",
        text(&o)
    );
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(dir),
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_log_on_a_full_disk_fails_the_run_and_the_wav_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tiny) = Tmpfs::mount(&dir.path().join("tiny"), "64k") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let wav = dir.path().join("s.wav");
    let log = tiny.0.join("log.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--biometrics",
        "sim",
        "--duration",
        "5m",
        "--sample-rate",
        "8000",
        "--out",
        s(&wav),
        "--log",
        s(&log),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(
        msg.contains(&format!(
            "{}: the session log could not be written",
            log.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("log: "));
    assert_eq!(hound::WavReader::open(&wav).unwrap().duration(), 300 * 8000);

    // the same with a report: the run fails, naming the report file
    let rep = tiny.0.join("r");
    let wav2 = dir.path().join("s2.wav");
    let full = tiny.0.join("filler");
    let _ = std::fs::write(&full, vec![0u8; 60_000]);
    let log2 = dir.path().join("s2.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--biometrics",
        "sim",
        "--duration",
        "3m",
        "--sample-rate",
        "8000",
        "--out",
        s(&wav2),
        "--log",
        s(&log2),
        "--report",
        s(&rep),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("No space left on device"), "{}", text(&o));
    assert!(text(&o).contains(s(&rep)), "{}", text(&o));
    assert!(hound::WavReader::open(&wav2).is_ok());
    drop(tiny);
}

#[test]
fn a_killed_render_leaves_a_log_that_reports_as_partial() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("k.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args([
            "render",
            "--preset",
            "relax",
            "--biometrics",
            "sim",
            "--duration",
            "2h",
            "--sample-rate",
            "8000",
            "--out",
            s(&dir.path().join("k.wav")),
            "--log",
            s(&log),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // wait until the log holds some records, then kill
    let started = std::time::Instant::now();
    while std::fs::metadata(&log).map_or(0, |m| m.len()) < 20_000
        && started.elapsed() < std::time::Duration::from_secs(60)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text_log = std::fs::read_to_string(&log).unwrap();
    assert!(
        text_log.lines().count() > 5,
        "records were flushed as written"
    );
    let out = dir.path().join("r");
    let o = isochord(&["report", s(&log), "--out", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("partial session"), "{}", text(&o));
    // the killed run's unfinished WAV is found and removed by the next run
    let partials = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(partials, 1);
    let o = render_to(&dir.path().join("next.wav"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("left by a run that was killed"),
        "{}",
        text(&o)
    );
}
