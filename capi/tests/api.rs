//! The C API's answers: errors with their messages, events as JSON, the log and the
//! report written at the end, the same sound from a preset's name and from its text.

use isochord_capi::*;
use std::ffi::{CStr, CString};

fn text(p: *const std::ffi::c_char) -> String {
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

fn create(name: &CStr, options: &IsochordOptions) -> *mut IsochordSession {
    let mut s = std::ptr::null_mut();
    let status = unsafe { isochord_create_preset(name.as_ptr(), options, &mut s) };
    assert_eq!(
        status,
        IsochordStatus::Ok,
        "{}",
        text(isochord_create_error())
    );
    s
}

/// Renders the whole session with `isochord_render_ready`, pushing a heart rate one
/// second ahead of the sound.
fn render_all(s: *mut IsochordSession, frames_per_s: usize) -> Vec<f32> {
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; 2 * 256];
    let mut pushed = 0;
    loop {
        let second = out.len() / 2 / frames_per_s;
        while pushed <= second + 1 {
            let hr = 70.0 + pushed as f64;
            let st = unsafe {
                isochord_push_sample(s, IsochordSampleKind::HeartRate, pushed as f64, hr)
            };
            assert!(matches!(st, IsochordStatus::Ok | IsochordStatus::NoInput));
            pushed += 1;
        }
        let mut n = 0;
        let status = unsafe { isochord_render_ready(s, buf.as_mut_ptr(), 256, &mut n) };
        out.extend_from_slice(&buf[..2 * n]);
        if status == IsochordStatus::Ended {
            return out;
        }
        assert_eq!(status, IsochordStatus::Ok);
        if n == 0 {
            std::thread::yield_now();
        }
    }
}

#[test]
fn creation_failures_say_why() {
    let mut s = std::ptr::null_mut();
    let st =
        unsafe { isochord_create_preset(c"no-such-preset".as_ptr(), std::ptr::null(), &mut s) };
    assert_eq!(st, IsochordStatus::InvalidPreset);
    assert!(s.is_null());
    assert!(text(isochord_create_error()).contains("no-such-preset"));
    assert!(text(unsafe { isochord_last_error(std::ptr::null()) }).contains("no-such-preset"));

    let st =
        unsafe { isochord_create_toml(c"this is = not [ toml".as_ptr(), std::ptr::null(), &mut s) };
    assert_eq!(st, IsochordStatus::InvalidPreset);
    assert!(!text(isochord_create_error()).is_empty());

    let mut o = isochord_options_default();
    o.sample_rate = 100;
    let st = unsafe { isochord_create_preset(c"relax".as_ptr(), &o, &mut s) };
    assert_eq!(st, IsochordStatus::InvalidArgument);
    assert!(text(isochord_create_error()).contains("sample rate"));

    let mut o = isochord_options_default();
    let report = CString::new("/nonexistent/report").unwrap();
    o.report_dir = report.as_ptr();
    let st = unsafe { isochord_create_preset(c"relax".as_ptr(), &o, &mut s) };
    assert_eq!(st, IsochordStatus::SessionFailed);
    assert!(text(isochord_create_error()).contains("log"));
}

#[test]
fn calls_on_a_session_fail_with_a_message() {
    let mut o = isochord_options_default();
    o.sample_rate = 8_000;
    o.duration_s = 2.0;
    let s = create(c"relax", &o);
    let st = unsafe { isochord_set_param(s, c"loudness_knob".as_ptr(), 1.0) };
    assert_eq!(st, IsochordStatus::InvalidArgument);
    assert!(text(unsafe { isochord_last_error(s) }).contains("unknown parameter loudness_knob"));
    let st = unsafe { isochord_set_param(s, c"tempo".as_ptr(), f32::NAN) };
    assert_eq!(st, IsochordStatus::InvalidArgument);
    let st = unsafe { isochord_push_sample(s, IsochordSampleKind::HeartRate, -1.0, 70.0) };
    assert_eq!(st, IsochordStatus::InvalidArgument);
    assert_eq!(
        unsafe { isochord_render(std::ptr::null_mut(), std::ptr::null_mut(), 16) },
        IsochordStatus::InvalidArgument
    );

    // a fixed preset takes no readings
    let mut fixed = std::ptr::null_mut();
    let toml = CString::new(
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../presets/focus.toml"
        ))
        .unwrap(),
    )
    .unwrap();
    let st = unsafe { isochord_create_toml(toml.as_ptr(), &o, &mut fixed) };
    assert_eq!(st, IsochordStatus::Ok, "{}", text(isochord_create_error()));
    let has_protocol = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../presets/focus.toml"
    ))
    .unwrap()
    .contains("[protocol]");
    let st = unsafe { isochord_push_sample(fixed, IsochordSampleKind::HeartRate, 0.0, 70.0) };
    if has_protocol {
        assert_eq!(st, IsochordStatus::Ok);
    } else {
        assert_eq!(st, IsochordStatus::NoInput);
        assert!(text(unsafe { isochord_last_error(fixed) }).contains("no protocol"));
    }
    unsafe { isochord_free(fixed) };

    // after the end
    assert_eq!(
        unsafe { isochord_end(s, std::ptr::null_mut()) },
        IsochordStatus::Ok
    );
    assert_eq!(
        unsafe { isochord_end(s, std::ptr::null_mut()) },
        IsochordStatus::Ended
    );
    let st = unsafe { isochord_push_sample(s, IsochordSampleKind::HeartRate, 0.0, 70.0) };
    assert_eq!(st, IsochordStatus::Ended);
    let mut buf = [1.0f32; 32];
    assert_eq!(
        unsafe { isochord_render(s, buf.as_mut_ptr(), 16) },
        IsochordStatus::Ended
    );
    assert!(buf.iter().all(|&v| v == 0.0));
    assert!(unsafe { isochord_is_finished(s) });
    unsafe { isochord_free(s) };
}

#[test]
fn a_session_writes_its_log_and_report_and_hands_out_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let log = CString::new(dir.path().join("s.jsonl").to_str().unwrap()).unwrap();
    let report = CString::new(dir.path().join("report").to_str().unwrap()).unwrap();
    let mut o = isochord_options_default();
    o.sample_rate = 8_000;
    o.duration_s = 12.0;
    o.pacing = IsochordPacing::Recorded;
    o.log_path = log.as_ptr();
    o.report_dir = report.as_ptr();
    let s = create(c"relax", &o);
    assert_eq!(
        unsafe { isochord_set_param(s, c"brightness".as_ptr(), 0.9) },
        IsochordStatus::Ok
    );
    let samples = render_all(s, 8_000);
    assert_eq!(samples.len(), 2 * 12 * 8_000);
    let mut summary = std::ptr::null_mut();
    assert_eq!(
        unsafe { isochord_end(s, &mut summary) },
        IsochordStatus::Ok,
        "{}",
        text(unsafe { isochord_last_error(s) })
    );
    let sum: serde_json::Value = serde_json::from_str(&text(summary)).unwrap();
    unsafe { isochord_string_free(summary) };
    assert_eq!(sum["frames"], 12 * 8_000);
    assert_eq!(sum["late_ticks"], 0);
    assert!(sum["report"]["dir"].is_string(), "{sum}");
    assert!(dir.path().join("report/report.html").exists());
    let log_text = std::fs::read_to_string(dir.path().join("s.jsonl")).unwrap();
    assert!(
        log_text.contains("the host set brightness to 0.9"),
        "the log has the host's setting"
    );

    // events: a small buffer is refused with the size needed, then the event fits
    let mut len = 0usize;
    let st = unsafe { isochord_poll_event(s, std::ptr::null_mut(), 0, &mut len) };
    assert_eq!(st, IsochordStatus::BufferTooSmall);
    assert!(len > 10);
    let mut events = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let st = unsafe { isochord_poll_event(s, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
        if st == IsochordStatus::NoEvent {
            break;
        }
        assert_eq!(st, IsochordStatus::Ok);
        let e: serde_json::Value = serde_json::from_slice(&buf[..len]).unwrap();
        assert_eq!(buf[len], 0);
        events.push(e);
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"host"), "{kinds:?}");
    assert!(kinds.contains(&"safety"), "{kinds:?}");
    assert!(kinds.contains(&"fade_out"), "{kinds:?}");
    unsafe { isochord_free(s) };
}

#[test]
fn recorded_pacing_makes_the_sound_independent_of_timing_and_of_how_the_preset_came() {
    let mut o = isochord_options_default();
    o.sample_rate = 8_000;
    o.duration_s = 6.0;
    o.pacing = IsochordPacing::Recorded;
    let a = create(c"relax", &o);
    let toml = CString::new(
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../presets/relax.toml"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut b = std::ptr::null_mut();
    assert_eq!(
        unsafe { isochord_create_toml(toml.as_ptr(), &o, &mut b) },
        IsochordStatus::Ok,
        "{}",
        text(isochord_create_error())
    );
    let sa = render_all(a, 8_000);
    let sb = render_all(b, 8_000);
    assert_eq!(sa.len(), 2 * 6 * 8_000);
    assert!(sa == sb, "the same session twice");
    unsafe {
        isochord_free(a);
        isochord_free(b);
    }
}
