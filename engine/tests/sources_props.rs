//! Property tests over every parser: arbitrary input never panics and always ends;
//! valid generated input round-trips exactly.

use std::collections::VecDeque;
use std::io::Cursor;
use std::path::Path;

use isochord_engine::biometrics::sources::{
    decode_heart_rate_measurement, AddressMap, Contact, CsvOptions, CsvSource, E4File,
    E4FileReader, E4Options, HeartRateMeasurement, JsonLinesOptions, JsonLinesSource, OscConfig,
    OscDecoder, Pull, Source, TimeBase, WaveformCsvOptions, WaveformCsvSource,
};
use isochord_engine::biometrics::{Reading, SensorData, Value, WaveKind};
use proptest::prelude::*;

/// Drains a source, with a bound so that a source that never ends fails the test.
fn drain<S: Source>(mut s: S, limit: usize) -> Vec<Result<SensorData, String>> {
    let mut out = Vec::new();
    for _ in 0..limit {
        match s.next() {
            Some(x) => out.push(x.map_err(|e| e.to_string())),
            None => return out,
        }
    }
    panic!("source did not end within {limit} items");
}

/// Text built from the pieces that make parsers interesting.
fn texty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\"".to_string()),
        Just("time".to_string()),
        Just("hr".to_string()),
        Just("rr_ms".to_string()),
        Just("eda_us".to_string()),
        Just("acc_x".to_string()),
        Just("contact".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-1e400".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(":".to_string()),
        Just("IBI".to_string()),
        Just("1560279825".to_string()),
        Just("1560279825000".to_string()),
        "[0-9.e+-]{1,12}",
        ".{0,8}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        texty().prop_map(String::into_bytes)
    ]
}

/// A value exactly representable in binary and in short decimal: n/4.
fn quarter(lo: i32, hi: i32) -> impl Strategy<Value = f32> {
    (lo * 4..=hi * 4).prop_map(|n| n as f32 / 4.0)
}

#[derive(Clone, Debug)]
struct Row {
    dt: u32, // in 1/8 s
    hr: Option<f32>,
    rr: Option<f32>,
    eda: Option<f32>,
    acc: Option<[f32; 3]>,
    contact: Option<bool>,
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    let row = (
        0u32..80,
        prop::option::of(quarter(20, 250)),
        prop::option::of(quarter(200, 3000)),
        prop::option::of(quarter(0, 100)),
        prop::option::of([quarter(-16, 16), quarter(-16, 16), quarter(-16, 16)]),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(dt, hr, rr, eda, acc, contact)| Row {
            dt,
            hr,
            rr,
            eda,
            acc,
            contact,
        });
    prop::collection::vec(row, 1..40)
}

/// The readings a row must give, in canonical field order.
fn expected(rows: &[Row], unix: bool) -> Vec<Result<SensorData, String>> {
    let mut out = Vec::new();
    let mut t = 0.0;
    for r in rows {
        t += f64::from(r.dt) / 8.0;
        let time = if unix {
            t - f64::from(rows[0].dt) / 8.0
        } else {
            t
        };
        let mut push = |value| out.push(Ok(SensorData::Reading(Reading { time, value })));
        if let Some(v) = r.hr {
            push(Value::HeartRate(v));
        }
        if let Some(v) = r.rr {
            push(Value::Rr(v));
        }
        if let Some(v) = r.eda {
            push(Value::Eda(v));
        }
        if r.contact == Some(false) {
            push(Value::ContactLost);
        }
        if let Some(a) = r.acc {
            push(Value::Acc(a));
        }
    }
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn raw_time(rows: &[Row], i: usize, unix: bool) -> f64 {
    let t: f64 = rows[..=i].iter().map(|r| f64::from(r.dt) / 8.0).sum();
    if unix {
        1_560_279_825.0 + t
    } else {
        t
    }
}

proptest! {
    // Failures print the minimal input; nothing is persisted.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn csv_never_panics(input in any_input(), rate in prop::option::of(0.1f64..100.0)) {
        if let Ok(s) = CsvSource::from_reader("p.csv", Cursor::new(input.clone()), CsvOptions { rate }) {
            drain(s, 100_000);
        }
    }

    #[test]
    fn csv_round_trips(rows in rows(), unix in any::<bool>()) {
        let mut text = String::from("time,hr,rr_ms,eda_us,contact,acc_x,acc_y,acc_z\n");
        for (i, r) in rows.iter().enumerate() {
            let acc = r.acc.map(|a| format!("{},{},{}", a[0], a[1], a[2])).unwrap_or(",,".into());
            text.push_str(&format!(
                "{},{},{},{},{},{}\n",
                raw_time(&rows, i, unix), opt(r.hr), opt(r.rr), opt(r.eda), opt(r.contact.map(u8::from)), acc
            ));
        }
        let s = CsvSource::from_reader("p.csv", Cursor::new(text), CsvOptions::default()).unwrap();
        prop_assert_eq!(drain(s, 100_000), expected(&rows, unix));
    }

    #[test]
    fn jsonl_never_panics(input in any_input()) {
        let s = JsonLinesSource::from_reader("p.jsonl", Cursor::new(input), JsonLinesOptions { rate: Some(4.0) }).unwrap();
        drain(s, 100_000);
    }

    #[test]
    fn jsonl_round_trips(rows in rows(), unix in any::<bool>()) {
        let mut text = String::new();
        for (i, r) in rows.iter().enumerate() {
            let mut obj = serde_json::Map::new();
            // Keys in reverse canonical order: the output order must not depend on it.
            if let Some(a) = r.acc {
                obj.insert("acc_z".into(), a[2].into());
                obj.insert("acc_y".into(), a[1].into());
                obj.insert("acc_x".into(), a[0].into());
            }
            if let Some(c) = r.contact { obj.insert("contact".into(), c.into()); }
            if let Some(v) = r.eda { obj.insert("eda_us".into(), v.into()); }
            if let Some(v) = r.rr { obj.insert("rr_ms".into(), v.into()); }
            obj.insert("hr".into(), r.hr.map_or(serde_json::Value::Null, Into::into));
            obj.insert("time".into(), raw_time(&rows, i, unix).into());
            text.push_str(&serde_json::Value::Object(obj).to_string());
            text.push('\n');
        }
        let s = JsonLinesSource::from_reader("p.jsonl", Cursor::new(text), JsonLinesOptions::default()).unwrap();
        prop_assert_eq!(drain(s, 100_000), expected(&rows, unix));
    }

    #[test]
    fn e4_files_never_panic(input in any_input(), k in 0usize..6) {
        let kind = E4File::ALL[k];
        if let Ok(Some(r)) = E4FileReader::from_reader(kind, kind.file_name(), Cursor::new(input), &E4Options::default()) {
            drain(r, 100_000);
        }
    }

    #[test]
    fn e4_eda_round_trips(start in 1_000_000_000u32..2_000_000_000, rate in 1u32..64, samples in prop::collection::vec(quarter(0, 100), 0..200)) {
        let mut text = format!("{start}.000000\n{rate}.000000\n");
        for s in &samples { text.push_str(&format!("{s}\n")); }
        let r = E4FileReader::from_reader(E4File::Eda, "EDA.csv", Cursor::new(text), &E4Options::default()).unwrap().unwrap();
        prop_assert_eq!(r.start_unix(), f64::from(start));
        let want: Vec<_> = samples.iter().enumerate()
            .map(|(i, s)| Ok(SensorData::Reading(Reading { time: i as f64 / f64::from(rate), value: Value::Eda(*s) })))
            .collect();
        prop_assert_eq!(drain(r, 100_000), want);
    }

    #[test]
    fn e4_bvp_round_trips(rate in 1u32..128, samples in prop::collection::vec(quarter(-2000, 2000), 0..300)) {
        let mut text = format!("1560279825.00\n{rate}.000000\n");
        for s in &samples { text.push_str(&format!("{s}\n")); }
        let r = E4FileReader::from_reader(E4File::Bvp, "BVP.csv", Cursor::new(text), &E4Options::default()).unwrap().unwrap();
        let mut joined = Vec::new();
        for item in drain(r, 100_000) {
            match item.unwrap() {
                SensorData::Waveform(w) => {
                    prop_assert_eq!(w.start, joined.len() as f64 / f64::from(rate));
                    prop_assert!(w.samples.len() <= rate as usize);
                    joined.extend(w.samples);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(joined, samples);
    }

    #[test]
    fn waveform_csv_never_panics(input in any_input(), rate in prop::option::of(0.5f64..1000.0), col in prop::option::of("[0-9a-z]{1,3}")) {
        let o = WaveformCsvOptions { rate, column: col, ..WaveformCsvOptions::new(WaveKind::Ecg) };
        if let Ok(s) = WaveformCsvSource::from_reader("w.csv", Cursor::new(input), o) {
            drain(s, 100_000);
        }
    }

    #[test]
    fn waveform_csv_round_trips(rate in 1u32..500, samples in prop::collection::vec(quarter(-100, 100), 1..600), with_time in any::<bool>()) {
        let mut text = String::from(if with_time { "time,ecg\n" } else { "ecg\n" });
        for (i, s) in samples.iter().enumerate() {
            if with_time {
                text.push_str(&format!("{},{s}\n", i as f64 / f64::from(rate)));
            } else {
                text.push_str(&format!("{s}\n"));
            }
        }
        let mut o = WaveformCsvOptions::new(WaveKind::Ecg);
        if !with_time { o.rate = Some(f64::from(rate)); }
        let s = WaveformCsvSource::from_reader("w.csv", Cursor::new(text), o).unwrap();
        let items = drain(s, 100_000);
        if with_time && samples.len() < 2 {
            // One time stamp cannot give a rate: a clear error.
            prop_assert!(items.iter().any(|x| x.as_ref().is_err_and(|e| e.contains("sample rate"))));
            return Ok(());
        }
        let mut joined = Vec::new();
        for item in items {
            match item.unwrap() {
                SensorData::Waveform(w) => {
                    prop_assert!((w.rate - f64::from(rate)).abs() < 1e-6 * f64::from(rate));
                    prop_assert!((w.start - joined.len() as f64 / f64::from(rate)).abs() < 1e-9);
                    joined.extend(w.samples);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(joined, samples);
    }

    #[test]
    fn osc_decoder_never_panics(input in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut d = OscDecoder::new("osc", AddressMap::emotibit());
        let mut out = VecDeque::new();
        d.decode(&input, 1.0, &mut out);
        // Also behind a valid-looking bundle header and message prefix.
        let mut b = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
        b.extend((input.len() as u32).to_be_bytes());
        b.extend(&input);
        d.decode(&b, 1.0, &mut out);
        let mut m = b"/EmotiBit/0/HR\0\0".to_vec();
        m.extend(&input);
        d.decode(&m, 1.0, &mut out);
        prop_assert_eq!(d.counters().packets, 3);
    }

    #[test]
    fn osc_round_trips(values in prop::collection::vec(quarter(20, 250), 1..20), eda in prop::collection::vec(quarter(0, 100), 1..20)) {
        use rosc::{encoder, OscBundle, OscMessage, OscPacket, OscTime, OscType};
        let mut d = OscDecoder::new("osc", AddressMap::emotibit());
        let packet = OscPacket::Bundle(OscBundle {
            timetag: OscTime { seconds: 0, fractional: 1 },
            content: values.iter().map(|v| OscPacket::Message(OscMessage { addr: "/EmotiBit/0/HR".into(), args: vec![OscType::Float(*v)] }))
                .chain(std::iter::once(OscPacket::Message(OscMessage {
                    addr: "/EmotiBit/0/EDA".into(),
                    args: eda.iter().map(|v| OscType::Float(*v)).collect(),
                })))
                .collect(),
        });
        let mut out = VecDeque::new();
        d.decode(&encoder::encode(&packet).unwrap(), 100.0, &mut out);
        let mut want: Vec<Pull> = values.iter()
            .map(|v| Pull::Data(SensorData::Reading(Reading { time: 100.0, value: Value::HeartRate(*v) })))
            .collect();
        let n = eda.len();
        want.extend(eda.iter().enumerate().map(|(k, v)| Pull::Data(SensorData::Reading(Reading {
            time: 100.0 - (n - 1 - k) as f64 / 15.0,
            value: Value::Eda(*v),
        }))));
        prop_assert_eq!(out.into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn ble_never_panics(input in prop::collection::vec(any::<u8>(), 0..64), t in -1e6f64..1e6) {
        if let Ok(m) = decode_heart_rate_measurement(&input) {
            let _ = m.readings(t);
            let _ = m.rr_ms();
        }
    }

    #[test]
    fn ble_round_trips(hr in any::<u16>(), wide in any::<bool>(), c in 0u8..3, energy in prop::option::of(any::<u16>()), rr in prop::collection::vec(any::<u16>(), 0..9)) {
        let m = HeartRateMeasurement {
            heart_rate: hr,
            wide: wide || hr > 255,
            contact: [Contact::NotSupported, Contact::NotDetected, Contact::Detected][c as usize],
            energy_kj: energy,
            rr_raw: rr,
        };
        prop_assert_eq!(decode_heart_rate_measurement(&m.encode()), Ok(m));
    }

    #[test]
    fn osc_config_parsers_never_panic(text in texty(), raw in ".{0,200}") {
        let _ = OscConfig::parse_list(&text, Path::new("m.txt"));
        let _ = OscConfig::parse_list(&raw, Path::new("m.txt"));
        let _ = OscConfig::parse_toml(&text, Path::new("m.toml"));
        let _ = OscConfig::parse_toml(&raw, Path::new("m.toml"));
    }

    #[test]
    fn time_base_never_panics(values in prop::collection::vec(any::<f64>(), 0..20)) {
        let mut tb = TimeBase::for_file();
        for v in values {
            if let Ok(t) = tb.to_session(v) {
                prop_assert!(t.is_finite() || v.abs() > 1e300);
            }
        }
    }
}
