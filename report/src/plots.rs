//! The report's figures, drawn with plotters as SVG (text for the page) and PNG (files):
//! - `heart`: heart rate (readings and window mean) and RMSSD / SDNN per feature window;
//! - `arousal`: the arousal estimate with a confidence band (estimate ± (1 − confidence) / 2,
//!   clipped to 0-1: a display of how sure the estimator was, not a statistical interval)
//!   and the policy's smoothed arousal;
//! - `breathing`: breathing rate from the source against the breath guide's rate and target;
//! - `sound`: tempo, and brightness / density / energy.
//!
//! Every figure shades the protocol phases along the time axis and marks phase changes,
//! sensor events and escalations with vertical lines. Text needs a TrueType font: the
//! first of `ISOCHORD_FONT` and the usual Debian paths (`fonts-dejavu-core`,
//! `fonts-liberation`) is used.
//!
//! Runs on the control/batch side.

use super::read::SessionData;
use super::timeline::Row;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// Figure width, pixels.
pub const WIDTH: u32 = 960;
/// Height of one panel, pixels.
pub const PANEL_HEIGHT: u32 = 230;
const TITLE_HEIGHT: u32 = 36;

/// One drawn figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem (`plot-NAME.svg`).
    pub name: &'static str,
    /// Title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Horizontal extent of the plotting area as fractions of the width (left, right),
    /// for a time cursor over the figure.
    pub x_extent: (f64, f64),
    /// Session seconds at the right edge of the time axis.
    pub end_s: f64,
}

struct Series {
    name: &'static str,
    color: RGBColor,
    points: Vec<(f64, Option<f64>)>,
}

/// Time (minutes) and the band's (low, high), when there is one.
type BandPoint = (f64, Option<(f64, f64)>);

struct Panel {
    y_label: &'static str,
    series: Vec<Series>,
    band: Option<Vec<BandPoint>>,
    range: Option<(f64, f64)>,
}

struct Spec {
    name: &'static str,
    title: &'static str,
    panels: Vec<Panel>,
}

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 110, 20);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(200, 40, 40);
const PURPLE: RGBColor = RGBColor(130, 80, 180);
const GREY: RGBColor = RGBColor(120, 120, 120);
const PHASE_COLORS: [RGBColor; 5] = [
    RGBColor(255, 200, 120),
    RGBColor(150, 200, 255),
    RGBColor(160, 230, 160),
    RGBColor(220, 180, 240),
    RGBColor(200, 200, 200),
];

fn font() -> Result<(), String> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut paths: Vec<String> = std::env::var("ISOCHORD_FONT").into_iter().collect();
        paths.extend(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/System/Library/Fonts/Supplemental/Arial.ttf",
            ]
            .map(String::from),
        );
        for p in &paths {
            if let Ok(bytes) = std::fs::read(p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err("no TrueType font found for the plot labels: install fonts-dejavu-core or set ISOCHORD_FONT to a .ttf file".into())
    })
    .clone()
}

fn series(
    name: &'static str,
    color: RGBColor,
    rows: &[Row],
    f: impl Fn(&Row) -> Option<f64>,
) -> Series {
    Series {
        name,
        color,
        points: rows.iter().map(|r| (r.t / 60.0, f(r))).collect(),
    }
}

fn window_series(
    name: &'static str,
    color: RGBColor,
    rows: &[Row],
    f: impl Fn(&super::timeline::WindowRow) -> Option<f64>,
) -> Series {
    // a feature value holds until the next window completes
    let mut cur = None;
    let points = rows
        .iter()
        .map(|r| {
            if let Some(w) = &r.window {
                cur = f(w);
            }
            (r.t / 60.0, cur)
        })
        .collect();
    Series {
        name,
        color,
        points,
    }
}

fn specs(rows: &[Row]) -> Vec<Spec> {
    let band = rows
        .iter()
        .map(|r| {
            let b = r.usable_arousal().zip(r.confidence).map(|(a, c)| {
                let h = (1.0 - c).clamp(0.0, 1.0) / 2.0;
                ((a - h).max(0.0), (a + h).min(1.0))
            });
            (r.t / 60.0, b)
        })
        .collect();
    vec![
        Spec {
            name: "heart",
            title: "Heart rate and heart-rate variability",
            panels: vec![
                Panel {
                    y_label: "heart rate (/min)",
                    series: vec![
                        series("HR reading", BLUE, rows, |r| r.hr_bpm),
                        window_series("window mean HR", ORANGE, rows, |w| w.mean_hr),
                    ],
                    band: None,
                    range: None,
                },
                Panel {
                    y_label: "HRV (ms)",
                    series: vec![
                        window_series("RMSSD", GREEN, rows, |w| w.rmssd),
                        window_series("SDNN", PURPLE, rows, |w| w.sdnn),
                    ],
                    band: None,
                    range: None,
                },
            ],
        },
        Spec {
            name: "arousal",
            title: "Arousal estimate (band: estimate ± (1 − confidence)/2)",
            panels: vec![Panel {
                y_label: "arousal (0 calm – 1 aroused)",
                series: vec![
                    series("estimate (usable)", BLUE, rows, Row::usable_arousal),
                    series("policy (smoothed)", RED, rows, |r| r.policy_arousal),
                    series("sound level asked", GREY, rows, |r| r.level),
                ],
                band: Some(band),
                range: Some((0.0, 1.0)),
            }],
        },
        Spec {
            name: "breathing",
            title: "Breathing rate and breath guide",
            panels: vec![Panel {
                y_label: "breaths /min",
                series: vec![
                    series("breathing rate (source)", BLUE, rows, |r| r.resp_rate),
                    window_series("breathing rate (window)", GREEN, rows, |w| w.resp_rate),
                    series("breath guide", ORANGE, rows, |r| r.breath_guide),
                    series("guide target", GREY, rows, |r| r.breath_target),
                ],
                band: None,
                range: None,
            }],
        },
        Spec {
            name: "sound",
            title: "Sound parameters",
            panels: vec![
                Panel {
                    y_label: "tempo (BPM)",
                    series: vec![series("tempo", BLUE, rows, |r| r.tempo)],
                    band: None,
                    range: None,
                },
                Panel {
                    y_label: "0-1",
                    series: vec![
                        series("brightness", ORANGE, rows, |r| r.brightness),
                        series("density", GREEN, rows, |r| r.density),
                        series("energy", PURPLE, rows, |r| r.energy),
                    ],
                    band: None,
                    range: Some((0.0, 1.0)),
                },
            ],
        },
    ]
}

/// Contiguous runs of present values (x in minutes; a gap over 1.5 s or a missing value splits).
fn runs<T: Copy>(points: &[(f64, Option<T>)]) -> Vec<Vec<(f64, T)>> {
    let mut out: Vec<Vec<(f64, T)>> = Vec::new();
    let mut prev_t = f64::NEG_INFINITY;
    let mut open = false;
    for &(t, v) in points {
        match v {
            Some(v) => {
                if !open || t - prev_t > 1.5 / 60.0 {
                    out.push(Vec::new());
                }
                out.last_mut().expect("pushed").push((t, v));
                open = true;
            }
            None => open = false,
        }
        prev_t = t;
    }
    out
}

fn y_range(p: &Panel) -> (f64, f64) {
    if let Some(r) = p.range {
        return r;
    }
    let vals = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|x| x.1));
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(0.5);
    (lo - pad, hi + pad)
}

/// Phase spans `(start, end, phase)`, minutes.
fn phases(rows: &[Row]) -> Vec<(f64, f64, String)> {
    let mut out: Vec<(f64, f64, String)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last.2 == r.phase => last.1 = r.t / 60.0,
            _ => out.push(((r.t - 1.0) / 60.0, r.t / 60.0, r.phase.clone())),
        }
    }
    out
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    spec: &Spec,
    data: &SessionData,
) -> Result<(i32, i32), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let end = data.end_s().max(1.0) / 60.0;
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(spec.title, ("sans-serif", 20)).map_err(e)?;
    let areas = root.split_evenly((spec.panels.len(), 1));
    let spans = phases(&data.rows);
    let mut names: Vec<&str> = Vec::new();
    for s in &spans {
        if !names.contains(&s.2.as_str()) {
            names.push(&s.2);
        }
    }
    let marks: Vec<(f64, RGBColor)> = data
        .decisions
        .iter()
        .filter_map(|d| match d.kind.as_str() {
            "phase" if d.time > 0.0 => Some((d.time / 60.0, GREY)),
            "escalation" => Some((d.time / 60.0, RED)),
            "sensor" => Some((d.time / 60.0, PURPLE)),
            _ => None,
        })
        .collect();
    let mut extent = (0, 0);
    let last = spec.panels.len() - 1;
    for (i, (panel, area)) in spec.panels.iter().zip(areas.iter()).enumerate() {
        let (y0, y1) = y_range(panel);
        let mut chart = ChartBuilder::on(area)
            .margin_left(10)
            .margin_right(20)
            .margin_top(6)
            .x_label_area_size(if i == last { 40 } else { 18 })
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..end, y0..y1)
            .map_err(e)?;
        let minutes = |x: &f64| format!("{x}");
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&minutes)
            .y_desc(panel.y_label)
            .light_line_style(WHITE)
            .label_style(("sans-serif", 13));
        if i == last {
            mesh.x_desc("session time (min)");
        }
        mesh.draw().map_err(e)?;
        for (s, t, name) in &spans {
            let k = names.iter().position(|n| n == name).unwrap_or(0) % PHASE_COLORS.len();
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*s, y0), (*t, y1)],
                    PHASE_COLORS[k].mix(0.18).filled(),
                )))
                .map_err(e)?;
            if i == 0 {
                // the label starts at its phase, moved left where it would run past the
                // plot's right edge (a short closing phase)
                let px = chart.plotting_area().dim_in_pixel().0.max(1) as f64;
                let width = (name.chars().count() as f64 * 7.5 + 4.0) * end / px;
                let x = (*s + end * 0.004).min(end - width).max(0.0);
                chart
                    .draw_series(std::iter::once(Text::new(
                        name.clone(),
                        (x, y1 - (y1 - y0) * 0.02),
                        ("sans-serif", 12).into_font().color(&GREY),
                    )))
                    .map_err(e)?;
            }
        }
        if let Some(b) = &panel.band {
            for run in runs(b) {
                let mut pts: Vec<(f64, f64)> = run.iter().map(|(t, (_, hi))| (*t, *hi)).collect();
                pts.extend(run.iter().rev().map(|(t, (lo, _))| (*t, *lo)));
                chart
                    .draw_series(std::iter::once(Polygon::new(pts, BLUE.mix(0.18).filled())))
                    .map_err(e)?;
            }
        }
        for (t, c) in &marks {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*t, y0), (*t, y1)],
                    c.mix(0.7).stroke_width(1),
                )))
                .map_err(e)?;
        }
        let mut any = false;
        for s in &panel.series {
            let color = s.color;
            let mut labelled = false;
            for run in runs(&s.points) {
                any = true;
                let drawn = chart
                    .draw_series(LineSeries::new(run, color.stroke_width(2)))
                    .map_err(e)?;
                if !labelled {
                    drawn.label(s.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                    labelled = true;
                }
            }
        }
        if any {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 12))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(e)?;
        } else {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no data",
                    (end * 0.45, (y0 + y1) / 2.0),
                    ("sans-serif", 16).into_font().color(&GREY),
                )))
                .map_err(e)?;
        }
        if i == 0 {
            let (xr, _) = chart.plotting_area().get_pixel_range();
            extent = (xr.start, xr.end);
        }
    }
    root.present().map_err(e)?;
    Ok(extent)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Why the plots could not be drawn (no font for the labels, nothing to plot, a drawing
/// or encoding failure).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PlotError(pub String);

/// Draws every figure of the session.
pub fn draw_all(data: &SessionData) -> Result<Vec<Figure>, PlotError> {
    font().map_err(PlotError)?;
    if data.rows.is_empty() {
        return Err(PlotError("the log has no seconds to plot".into()));
    }
    specs(&data.rows)
        .iter()
        .map(|spec| {
            let h = TITLE_HEIGHT + PANEL_HEIGHT * spec.panels.len() as u32;
            let mut svg = String::new();
            let extent = draw(
                SVGBackend::with_string(&mut svg, (WIDTH, h)).into_drawing_area(),
                spec,
                data,
            )?;
            let mut rgb = vec![0u8; (WIDTH * h * 3) as usize];
            draw(
                BitMapBackend::with_buffer(&mut rgb, (WIDTH, h)).into_drawing_area(),
                spec,
                data,
            )?;
            let png = encode_png(&rgb, WIDTH, h)?;
            Ok(Figure {
                name: spec.name,
                title: spec.title.to_string(),
                svg,
                png,
                x_extent: (
                    extent.0 as f64 / WIDTH as f64,
                    extent.1 as f64 / WIDTH as f64,
                ),
                end_s: data.end_s().max(1.0),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(PlotError)
}
