//! `isochord_render` never allocates or frees: every call runs under assert_no_alloc
//! (which aborts the process on any allocation inside it) while another thread pushes
//! heart rate and sets parameters.

use assert_no_alloc::{assert_no_alloc, AllocDisabler};
use isochord_capi::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// The handle, shared with the control thread as the C API allows.
#[derive(Clone, Copy)]
struct Handle(*mut IsochordSession);
// SAFETY: the C API's thread rules: render on one thread, control calls on others.
unsafe impl Send for Handle {}

#[test]
fn render_does_not_allocate_while_readings_and_parameters_arrive() {
    let mut options = isochord_options_default();
    options.sample_rate = 48_000;
    options.duration_s = 20.0;
    let mut session = std::ptr::null_mut();
    let status = unsafe { isochord_create_preset(c"relax".as_ptr(), &options, &mut session) };
    assert_eq!(status, IsochordStatus::Ok);
    let handle = Handle(session);
    let done = Arc::new(AtomicBool::new(false));

    // the control thread: a reading every 100 ms of session time, a parameter every 0.5 s
    let control_done = done.clone();
    let control = std::thread::spawn(move || {
        let h = handle;
        let (mut pushed, mut set) = (0u32, 0u32);
        let mut next = 0.0f64;
        let params = [c"brightness", c"density", c"tempo", c"reverb", c"pad_gain"];
        while !control_done.load(Ordering::Relaxed) {
            let t = unsafe { isochord_time(h.0) };
            if t >= next {
                let hr = 70.0 + 25.0 * (t / 20.0);
                let s = unsafe { isochord_push_sample(h.0, IsochordSampleKind::HeartRate, t, hr) };
                assert_eq!(s, IsochordStatus::Ok);
                pushed += 1;
                if pushed.is_multiple_of(5) {
                    let p = params[set as usize % params.len()];
                    let v = if p == c"tempo" {
                        50.0 + set as f32
                    } else {
                        0.2 + 0.05 * (set % 10) as f32
                    };
                    assert_eq!(
                        unsafe { isochord_set_param(h.0, p.as_ptr(), v) },
                        IsochordStatus::Ok
                    );
                    set += 1;
                }
                next += 0.1;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        (pushed, set)
    });

    // the audio thread: 256-frame blocks, each call under assert_no_alloc
    let mut buf = vec![0.0f32; 2 * 256];
    let mut blocks = 0u32;
    let mut sum_sq = 0.0f64;
    let mut samples = 0u64;
    loop {
        let status = assert_no_alloc(|| unsafe { isochord_render(session, buf.as_mut_ptr(), 256) });
        assert!(buf.iter().all(|v| v.is_finite()));
        sum_sq += buf.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        samples += buf.len() as u64;
        blocks += 1;
        if status == IsochordStatus::Ended {
            break;
        }
        assert_eq!(status, IsochordStatus::Ok);
        // about four times real time, so the control side keeps up
        if blocks.is_multiple_of(4) {
            std::thread::sleep(std::time::Duration::from_micros(1_300));
        }
    }
    done.store(true, Ordering::Relaxed);
    let (pushed, set) = control.join().unwrap();
    assert_eq!(blocks, 20 * 48_000 / 256);
    assert!(pushed >= 150, "{pushed} readings pushed");
    assert!(set >= 30, "{set} parameters set");
    let rms = (sum_sq / samples as f64).sqrt();
    assert!(rms > 1e-3, "the session sounds: RMS {rms}");

    // every parameter set in time for a control tick came back as a `host` event
    let mut summary = std::ptr::null_mut();
    assert_eq!(
        unsafe { isochord_end(session, &mut summary) },
        IsochordStatus::Ok
    );
    unsafe { isochord_string_free(summary) };
    let mut host_events = 0;
    loop {
        let mut s = std::ptr::null_mut();
        if unsafe { isochord_poll_event_string(session, &mut s) } != IsochordStatus::Ok {
            break;
        }
        let text = unsafe { std::ffi::CStr::from_ptr(s) }
            .to_str()
            .unwrap()
            .to_string();
        unsafe { isochord_string_free(s) };
        if text.contains("\"kind\":\"host\"") {
            host_events += 1;
        }
    }
    assert!(
        host_events <= set && host_events + 2 >= set,
        "{host_events} host events for {set} parameters set"
    );
    unsafe { isochord_free(session) };
}
