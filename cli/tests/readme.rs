//! Every `isochord` command of the README's tour, clinical-report and mood-model
//! sections runs as written, from a scratch folder that sees the repository's `assets/`
//! and `engine/tests/data/` (as a checkout does), with one change: durations are
//! shortened to keep the test quick (`--duration` becomes 20 s for renders, 3 s for live
//! playback, and is added where a command plays a preset's full length).
//!
//! `play` needs a sound output: without one, a `play` command passes when it gets as far
//! as opening the device (every argument and file accepted) and fails only for lack of an
//! output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `isochord` commands of the first code block after `heading`, continuation lines
/// joined and comments removed.
fn commands(readme: &str, heading: &str) -> Vec<String> {
    let at = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &readme[at..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[..body.find("```").unwrap()];
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in body.lines() {
        let code = strip_comment(line);
        let trimmed = code.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let cmd = pending.split_whitespace().collect::<Vec<_>>().join(" ");
        pending.clear();
        if cmd.starts_with("isochord ") {
            out.push(cmd);
        }
    }
    out
}

/// A line without its `# comment` (a `#` outside quotes, after a space or at the start).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let bytes = line.as_bytes();
    for (i, c) in line.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '#' if !quoted && (i == 0 || bytes[i - 1] == b' ') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The command with its durations shortened (see the module docs).
fn shortened(cmd: &str) -> String {
    let words: Vec<&str> = cmd.split(' ').filter(|w| !w.is_empty()).collect();
    let live = words.get(1) == Some(&"play");
    let short = if live { "3s" } else { "20s" };
    let mut out = Vec::new();
    let mut i = 0;
    let mut has = false;
    while i < words.len() {
        if words[i] == "--duration" {
            out.push("--duration".to_string());
            out.push(short.to_string());
            has = true;
            i += 2;
            continue;
        }
        out.push(words[i].to_string());
        i += 1;
    }
    if !has && (live || words.get(1) == Some(&"render")) {
        // `>` redirections stay last
        let at = out.iter().position(|w| w == ">").unwrap_or(out.len());
        out.insert(at, short.to_string());
        out.insert(at, "--duration".to_string());
    }
    out.join(" ")
}

/// Runs `section`'s commands in one scratch folder, in order.
fn run_section(heading: &str) {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let cmds = commands(&readme, heading);
    assert!(!cmds.is_empty(), "{heading}: no commands");
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(scratch.path().join("engine/tests")).unwrap();
    std::os::unix::fs::symlink(repo().join("assets"), scratch.path().join("assets")).unwrap();
    std::os::unix::fs::symlink(
        repo().join("engine/tests/data"),
        scratch.path().join("engine/tests/data"),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_isochord")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for cmd in &cmds {
        let run = shortened(cmd);
        let o = Command::new("bash")
            .args(["-c", &run])
            .current_dir(scratch.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let no_output = run.starts_with("isochord play")
            && o.status.code() == Some(1)
            && err.contains("hint: `isochord devices` lists the outputs");
        assert!(
            o.status.success() || no_output,
            "README command failed: {cmd}\n(run as: {run})\n{}{err}",
            String::from_utf8_lossy(&o.stdout)
        );
        eprintln!(
            "ok{}: {run}",
            if no_output {
                " (no sound output here)"
            } else {
                ""
            }
        );
    }
}

#[test]
fn the_tour_runs_as_written() {
    run_section("## A 30-second tour");
}

#[test]
fn the_report_examples_run_as_written() {
    run_section("## Clinical report");
}

#[test]
fn the_model_examples_run_as_written() {
    run_section("## Mood model\n");
}

#[test]
fn comments_and_continuations_are_read() {
    let text = "## X\n\n```sh\nisochord a --b 'c?d=e' # note\n# only a comment\nisochord render --x \\\n    --y 1   # more\nother thing\n```\n";
    assert_eq!(
        commands(text, "## X"),
        ["isochord a --b 'c?d=e'", "isochord render --x --y 1"]
    );
    assert_eq!(
        shortened("isochord render --preset relax --out a.wav"),
        "isochord render --preset relax --out a.wav --duration 20s"
    );
    assert_eq!(
        shortened("isochord play --preset sleep --duration 20m --record x.wav"),
        "isochord play --preset sleep --duration 3s --record x.wav"
    );
}
