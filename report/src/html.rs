//! `report.html`: one self-contained page (no network access: the plots are inline SVG,
//! styles and script are inline) with the patient reference (pseudonym) when given, the
//! session facts, the key figures, the plots, an
//! audio player for the session WAV (linked by a relative path) whose playback moves a
//! cursor over the plots (a click on a plot seeks), the decision log with reasons, notes on
//! data quality, and what the engine is not.
//!
//! Runs on the control/batch side.

use super::plots::Figure;
use super::read::SessionData;
use super::summary::Summary;
use serde_json::Value as Json;
use std::fmt::Write;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The plain statement of what the engine is not, shown on every report.
pub const NOT_A_DEVICE: &str =
    "Isochord is not a medical or diagnostic device. It does not diagnose, \
monitor or treat any condition, and nothing on this page is a clinical measurement. The arousal \
figures come from the estimator named under Session: the bundled stress-lr model (a logistic \
regression on heart rate and skin conductance relative to the wearer's first five minutes, trained \
on 34 healthy adults in a laboratory stress protocol; leave-one-subject-out AUC 0.74, well \
calibrated on average but not for every person; see its model card) or, when the model lacks an \
input or cannot be used, a transparent rule-based estimator scored against population anchors. \
Neither has been validated against a clinical reference; both are less reliable with poor signal \
quality (when they abstain, the sound holds), and wrist sensors (PPG, EDA) are sensitive to \
movement and contact. Sound levels are estimates unless a calibration was given.";

/// A figure as the page shows it: its JSON text (as in `summary.json`), `—` when absent.
fn figure<T: serde::Serialize>(v: &T) -> String {
    match &serde_json::to_value(v).unwrap_or(Json::Null) {
        Json::Null => "—".into(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => esc(s),
        other => esc(&other.to_string()),
    }
}

fn key_rows(summary: &Summary) -> String {
    let mut s = String::new();
    let rows = [
        ("Heart rate (/min)", &summary.heart_rate_bpm),
        ("RMSSD (ms)", &summary.rmssd_ms.figures),
        ("SDNN (ms)", &summary.sdnn_ms.figures),
        (
            "Breathing rate (/min)",
            &summary.breathing_rate_per_min.figures,
        ),
        ("Skin conductance (µS)", &summary.eda_us),
        ("Arousal (0-1)", &summary.arousal.figures),
    ];
    for (label, v) in rows {
        let _ = writeln!(
            s,
            "<tr><th>{label}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            figure(&v.baseline),
            figure(&v.closing),
            figure(&v.change)
        );
    }
    s
}

fn quality_notes(data: &SessionData, summary: &Summary, extra: &[String]) -> Vec<String> {
    let q = &summary.signal_quality;
    let hrv = &summary.rmssd_ms;
    let mut notes = Vec::new();
    if let Some(reason) = data.partial_reason() {
        notes.push(format!("Partial session: {reason}. Closing figures describe the last logged minutes, not the planned end."));
    }
    let n = q.seconds as f64;
    let lost = q.seconds_without_data as f64;
    notes.push(format!(
        "{lost:.0} of {n:.0} seconds ({:.1} %) had no sensor data; the sensor was flagged lost for {} seconds; {} items were rejected.",
        100.0 * q.data_loss_fraction.unwrap_or(0.0),
        q.sensor_lost_seconds,
        q.issues
    ));
    let (accepted, rejected) = (q.beats, q.rejected_beats);
    notes.push(format!(
        "{} of {} arousal estimates were usable; mean feature-window quality {} (0-1); {rejected} of {} beats were rejected as artefacts (each beat counted once, over feature windows that do not overlap).",
        q.usable_estimates, q.estimates, figure(&q.mean_window_quality), accepted + rejected
    ));
    let from_windows = [&hrv.baseline_source, &hrv.closing_source]
        .iter()
        .filter(|s| s.as_str() == "feature_windows")
        .count();
    if from_windows > 0 {
        notes.push(format!(
            "The device sent too few RR intervals ({} in the baseline span, {} in the closing span; at least {} needed): the RMSSD and SDNN {} are the mean of the feature windows over the span (beats detected in the pulse or ECG waveform), as plotted.",
            hrv.baseline_beats,
            hrv.closing_beats,
            super::summary::MIN_BEATS,
            if from_windows == 2 { "figures" } else if hrv.baseline_source == "feature_windows" { "baseline figures" } else { "closing figures" }
        ));
    }
    if let Some(n) = heart_rate_peak_note(data) {
        notes.push(n);
    }
    if q.rr_intervals == 0 && from_windows == 0 {
        notes.push("No RR intervals in the log: RMSSD and SDNN baseline/closing figures are not available.".into());
    } else if hrv.figures.baseline.is_none() || hrv.figures.closing.is_none() {
        notes.push(format!(
            "Few RR intervals (baseline {}, closing {}; at least {} needed): some HRV figures are missing.",
            hrv.baseline_beats, hrv.closing_beats, super::summary::MIN_BEATS
        ));
    }
    let pb = &summary.playback;
    let (under, lost) = (pb.underruns, pb.device_losses);
    if under + lost > 0 {
        let times: Vec<String> = pb
            .events
            .iter()
            .map(|e| e.time_s)
            .map(|t| crate::format_duration(std::time::Duration::from_secs_f64(t.max(0.0).round())))
            .collect();
        notes.push(format!(
            "Live playback: {under} underrun{} (gaps the listener heard; a recording of the session does not contain them) and {lost} device loss{}, at {}.",
            if under == 1 { "" } else { "s" },
            if lost == 1 { "" } else { "es" },
            times.join(", ")
        ));
    }
    if data.header.simulated == Some(true) {
        notes.push("The biometrics are SIMULATED: this session did not measure a person.".into());
    }
    if summary.allowance.calibrated == Some(false) {
        notes.push("Sound levels assume an uncalibrated output (dB SPL are estimates).".into());
    }
    notes.extend(extra.iter().cloned());
    notes
}

/// The page.
pub fn render(
    data: &SessionData,
    summary: &Summary,
    figures: &[Figure],
    wav: Option<&str>,
    patient: Option<&str>,
    notes: &[String],
) -> String {
    let sess = &summary.session;
    let mut h = String::new();
    let title = format!(
        "Isochord session report — {} ({})",
        data.header.preset.clone().unwrap_or_else(|| "?".into()),
        data.when_recorded()
    );
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body{{font-family:sans-serif;margin:1.5em auto;max-width:1000px;color:#222;line-height:1.4}}
h1{{font-size:1.5em}} h2{{margin-top:1.6em;border-bottom:1px solid #ccc}}
table{{border-collapse:collapse;margin:.5em 0}} th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}}
th{{background:#f4f4f4}} .partial{{background:#fff0d0;border:2px solid #e0a000;padding:.6em}}
.figure{{position:relative;margin:1em 0;cursor:crosshair}} .figure svg{{width:100%;height:auto;display:block}}
.cursor{{position:absolute;top:0;bottom:0;width:2px;background:#d00;display:none;pointer-events:none}}
.review{{background:#ffe8e8}} .statement{{background:#eef3ff;border:1px solid #99b;padding:.8em}}
audio{{width:100%;position:sticky;top:0;z-index:2;background:#fff}}
</style></head><body>
<h1>{}</h1>
"#,
        esc(&title),
        esc(&title)
    );
    if let Some(reason) = data.partial_reason() {
        let _ = writeln!(
            h,
            "<p class=\"partial\" id=\"partial\"><strong>Partial session.</strong> {}</p>",
            esc(&reason)
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"statement\"><strong>Not a diagnostic device.</strong> {}</p>",
        esc(NOT_A_DEVICE)
    );
    h.push_str("<h2>Session</h2>\n<table id=\"facts\">\n");
    let facts = [
        (
            "Patient",
            patient.map_or(
                "not given (pass --patient to name the pseudonym)".to_string(),
                esc,
            ),
        ),
        ("Preset", figure(&sess.preset)),
        ("Goal", figure(&sess.goal)),
        ("Palette", figure(&sess.palette)),
        ("Input source", figure(&sess.source)),
        ("Simulated input", figure(&sess.simulated)),
        ("Arousal estimator", figure(&sess.estimator)),
        ("Engine version", figure(&sess.engine_version)),
        ("Seed", figure(&sess.seed)),
        ("Recorded (UTC)", figure(&sess.recording_started_at)),
        (
            if data.is_replay() {
                "Rendered (UTC), a replay"
            } else {
                "Started (UTC)"
            },
            figure(&sess.started_at),
        ),
        ("Planned length (s)", figure(&sess.planned_duration_s)),
        ("Recorded length (s)", figure(&sess.recorded_duration_s)),
        ("Time to calm (s)", figure(&summary.time_to_calm_s)),
        ("Escalations", figure(&summary.escalations.count)),
        (
            "Sound allowance used (of the weekly allowance)",
            summary
                .allowance
                .used
                .map_or("—".to_string(), |u| format!("{:.2} %", 100.0 * u)),
        ),
        ("Leq (dB SPL)", figure(&summary.allowance.leq_db)),
    ];
    for (k, v) in facts {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    h.push_str("</table>\n<h2>Baseline and closing</h2>\n");
    let _ = writeln!(
        h,
        "<p>Baseline = the first {:.0} s, closing = the last {:.0} s of the session (figures defined in the report's <code>summary.json</code> documentation).</p>",
        summary.spans_s.baseline[1],
        summary.spans_s.closing[1] - summary.spans_s.closing[0]
    );
    h.push_str("<table id=\"figures\"><tr><th></th><th>baseline</th><th>closing</th><th>change</th></tr>\n");
    h.push_str(&key_rows(summary));
    h.push_str("</table>\n<h2>Timeline</h2>\n");
    match wav {
        Some(w) => {
            let _ = writeln!(h, "<audio id=\"audio\" controls preload=\"metadata\" src=\"{}\"></audio>\n<p>Playing the session moves the red cursor on the plots; click a plot to jump there.</p>", esc(w));
        }
        None => h.push_str("<p>No session audio was given for this report.</p>\n"),
    }
    for f in figures {
        let _ = writeln!(
            h,
            "<div class=\"figure\" id=\"plot-{}\" data-x0=\"{:.5}\" data-x1=\"{:.5}\" data-end=\"{}\">{}<div class=\"cursor\"></div></div>",
            f.name,
            f.x_extent.0,
            f.x_extent.1,
            f.end_s,
            strip_xml_decl(&f.svg)
        );
    }
    if figures.is_empty() {
        h.push_str("<p>The plots could not be drawn (see the data-quality notes).</p>\n");
    }
    h.push_str("<h2>Decision log</h2>\n");
    let _ = writeln!(
        h,
        "<p id=\"decision-summary\">{}</p>",
        esc(&decision_summary(&data.decisions))
    );
    h.push_str(
        "<table id=\"decisions\"><tr><th>time</th><th>kind</th><th>what and why</th></tr>\n",
    );
    for d in &data.decisions {
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            if d.review { " class=\"review\"" } else { "" },
            crate::format_duration(std::time::Duration::from_secs_f64(d.time.max(0.0))),
            esc(&d.kind),
            esc(&d.message),
            if d.review {
                " <strong>(review)</strong>"
            } else {
                ""
            }
        );
    }
    h.push_str("</table>\n<h2>Data quality</h2>\n<ul id=\"quality\">\n");
    for n in quality_notes(data, summary, notes) {
        let _ = writeln!(h, "<li>{}</li>", esc(&n));
    }
    h.push_str("</ul>\n");
    h.push_str(SCRIPT);
    h.push_str("</body></html>\n");
    h
}

/// A note when the device's per-second heart rate peaks well above the feature windows'
/// means (short peaks averaged out of the 60 s windows, or readings the beats do not
/// bear out), so the two traces of the heart plot are not read as a contradiction.
fn heart_rate_peak_note(data: &SessionData) -> Option<String> {
    let (t, peak) = data
        .rows
        .iter()
        .filter_map(|r| r.hr_bpm.map(|h| (r.t, h)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let win_max = data
        .rows
        .iter()
        .filter_map(|r| r.window.as_ref().and_then(|w| w.mean_hr))
        .fold(f64::NEG_INFINITY, f64::max);
    if !win_max.is_finite() || peak < win_max + 15.0 {
        return None;
    }
    Some(format!(
        "The device's own heart rate peaks at {peak:.0} /min at {}, while the 60-second window means (plotted, and used for the estimates) stay at or below {win_max:.0} /min: the windows average short peaks out, and where the beats come from the RR intervals or the pulse waveform they are what the window mean is computed from, not the device's per-second figure.",
        crate::format_duration(std::time::Duration::from_secs_f64((t - 1.0).max(0.0)))
    ))
}

/// One sentence over the decision log: how many decisions of each kind, how many for
/// review, and when the escalations were.
pub fn decision_summary(decisions: &[super::timeline::Decision]) -> String {
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in decisions {
        *kinds.entry(d.kind.as_str()).or_default() += 1;
    }
    let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let review = decisions.iter().filter(|d| d.review).count();
    let escalations: Vec<String> = decisions
        .iter()
        .filter(|d| d.kind == "escalation")
        .map(|d| crate::format_duration(std::time::Duration::from_secs_f64(d.time.max(0.0))))
        .collect();
    let mut s = format!(
        "{} decisions in time order ({}); {review} marked for review",
        decisions.len(),
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    );
    if !escalations.is_empty() {
        s += &format!("; escalations at {}", escalations.join(", "));
    }
    s.push('.');
    s
}

fn strip_xml_decl(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

const SCRIPT: &str = r#"<script>
(function () {
  var audio = document.getElementById('audio');
  var figs = Array.prototype.slice.call(document.querySelectorAll('.figure'));
  function move() {
    figs.forEach(function (f) {
      var x0 = +f.dataset.x0, x1 = +f.dataset.x1, end = +f.dataset.end;
      var c = f.querySelector('.cursor');
      var frac = Math.min(Math.max(audio.currentTime / end, 0), 1);
      c.style.left = (100 * (x0 + (x1 - x0) * frac)) + '%';
      c.style.display = 'block';
    });
  }
  // record how large each plot was drawn (read back by tests and tools)
  figs.forEach(function (f) {
    var svg = f.querySelector('svg');
    var r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    f.dataset.renderedWidth = Math.round(r.width);
    f.dataset.renderedHeight = Math.round(r.height);
    f.dataset.shapes = svg ? svg.querySelectorAll('polyline,path,polygon,rect').length : 0;
  });
  document.body.dataset.ready = '1';
  if (!audio) return;
  audio.addEventListener('timeupdate', move);
  audio.addEventListener('seeked', move);
  figs.forEach(function (f) {
    f.addEventListener('click', function (ev) {
      var r = f.getBoundingClientRect();
      var x0 = +f.dataset.x0, x1 = +f.dataset.x1, end = +f.dataset.end;
      var frac = ((ev.clientX - r.left) / r.width - x0) / (x1 - x0);
      if (frac >= 0 && frac <= 1) { audio.currentTime = frac * end; move(); }
    });
  });
})();
</script>
"#;
