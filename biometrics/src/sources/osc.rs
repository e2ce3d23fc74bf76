//! OSC over UDP, the way biosensors talk to audio software.
//!
//! There is no standard address set, so an [`AddressMap`] says which OSC address carries
//! which field (see [`super::fields`]) or waveform (`ppg`, `ecg`, `resp_wave`), with an
//! optional sample rate (for messages that carry several samples) and scale. Presets:
//!
//! * [`OscConfig::emotibit`]: EmotiBit Oscilloscope's OSC output, port 12345:
//!   `/EmotiBit/0/EDA` (µS, 15 Hz), `/EmotiBit/0/HR` (bpm), `/EmotiBit/0/BI` (inter-beat
//!   interval, ms), `/EmotiBit/0/PPG:IR` (PPG waveform, 25 Hz), `/EmotiBit/0/ACC:X`/`Y`/`Z`
//!   (g, 25 Hz), `/EmotiBit/0/THERM` and `/EmotiBit/0/TEMP1` (°C, 7.5 Hz; EmotiBit
//!   variants send one or the other);
//! * [`OscConfig::hr_apps`]: heart-rate-to-OSC apps (e.g. for VRChat avatars), port 9000:
//!   `/avatar/parameters/HR` (bpm).
//!
//! A map is written as TOML ([`OscConfig::parse_toml`]):
//!
//! ```toml
//! port = 12345            # optional; default 12345
//! bind = "127.0.0.1"      # optional; default loopback only
//! preset = "emotibit"     # optional: start from a preset and add or override
//! [addresses]
//! "/EmotiBit/0/EDA" = { field = "eda_us", rate = 15.0 }
//! "/my/hr" = "hr"
//! "/my/ibi_seconds" = { field = "rr_ms", scale = 1000 }
//! ```
//!
//! or as a plain list ([`OscConfig::parse_list`]), one `address = field [@ rate] [* scale]`
//! per line, plus optional `port =`, `bind =` and `preset =` lines and `#` comments.
//!
//! Messages carry no time stamps (EmotiBit sends none), so every value is stamped with the
//! session time of arrival; when a message carries *n* samples at a known rate they are
//! spread back from the arrival time. Malformed packets, arguments that are not numbers,
//! implausible values and unmapped addresses are counted ([`OscCounters`]) and dropped,
//! never a panic. The socket binds 127.0.0.1 by default and its receive buffer is enlarged
//! (4 MiB asked; the kernel may cap it) so that bursts are not lost. Datagrams the kernel
//! still drops (a flood faster than the input thread reads) are counted
//! ([`Source::lost`], from `/proc/net/udp` on Linux) and reported by the session.
//!
//! Received and decoded on an input thread (see [`super::SourceThread`]).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rosc::{OscPacket, OscType};
use socket2::{Domain, Protocol, Socket, Type};

use super::fields::Field;
use super::limits::{check_sample, check_value};
use super::replay::Clock;
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use crate::signal::{Reading, SensorData, Value, WaveKind, Waveform};
use crate::source_error::SourceError;

/// What an OSC address carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OscTarget {
    /// A field (not `time`): each argument is one value.
    Field(Field),
    /// A waveform: the arguments are consecutive samples (needs a rate).
    Wave(WaveKind),
}

impl OscTarget {
    /// Parses a target name: a field name or `ppg`, `ecg`, `resp_wave`.
    pub fn parse(name: &str) -> Option<OscTarget> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ppg" | "bvp" => Some(OscTarget::Wave(WaveKind::Ppg)),
            "ecg" => Some(OscTarget::Wave(WaveKind::Ecg)),
            "resp_wave" => Some(OscTarget::Wave(WaveKind::Resp)),
            n => match Field::parse(n) {
                Some(Field::Time) | None => None,
                Some(f) => Some(OscTarget::Field(f)),
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            OscTarget::Field(f) => f.name(),
            OscTarget::Wave(WaveKind::Ppg) => "ppg",
            OscTarget::Wave(WaveKind::Ecg) => "ecg",
            OscTarget::Wave(WaveKind::Resp) => "resp_wave",
        }
    }
}

/// How one address is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OscRoute {
    /// What it carries.
    pub target: OscTarget,
    /// Samples per second, when a message may carry several samples.
    pub rate: Option<f64>,
    /// Every value is multiplied by this (e.g. 1000 for intervals sent in seconds).
    pub scale: f64,
}

impl OscRoute {
    /// A route to `target`, one value per argument, stamped on arrival.
    pub fn new(target: OscTarget) -> Self {
        Self {
            target,
            rate: None,
            scale: 1.0,
        }
    }

    /// The same route with a sample rate.
    pub fn at(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }
}

/// Which OSC address carries what.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddressMap {
    routes: BTreeMap<String, OscRoute>,
}

impl AddressMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the route of `address`.
    pub fn insert(&mut self, address: impl Into<String>, route: OscRoute) {
        self.routes.insert(address.into(), route);
    }

    /// The route of `address`.
    pub fn get(&self, address: &str) -> Option<&OscRoute> {
        self.routes.get(address)
    }

    /// Every address and route, sorted by address.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OscRoute)> {
        self.routes.iter().map(|(a, r)| (a.as_str(), r))
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// No routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// EmotiBit Oscilloscope's default OSC output (see the module documentation).
    pub fn emotibit() -> Self {
        let mut m = Self::new();
        let f = |f| OscRoute::new(OscTarget::Field(f));
        m.insert("/EmotiBit/0/EDA", f(Field::EdaUs).at(15.0));
        m.insert("/EmotiBit/0/HR", f(Field::Hr));
        m.insert("/EmotiBit/0/BI", f(Field::RrMs));
        m.insert(
            "/EmotiBit/0/PPG:IR",
            OscRoute::new(OscTarget::Wave(WaveKind::Ppg)).at(25.0),
        );
        m.insert("/EmotiBit/0/ACC:X", f(Field::AccX).at(25.0));
        m.insert("/EmotiBit/0/ACC:Y", f(Field::AccY).at(25.0));
        m.insert("/EmotiBit/0/ACC:Z", f(Field::AccZ).at(25.0));
        m.insert("/EmotiBit/0/THERM", f(Field::Temp).at(7.5));
        m.insert("/EmotiBit/0/TEMP1", f(Field::Temp).at(7.5));
        m
    }

    /// Heart-rate-to-OSC apps (see the module documentation).
    pub fn hr_apps() -> Self {
        let mut m = Self::new();
        m.insert(
            "/avatar/parameters/HR",
            OscRoute::new(OscTarget::Field(Field::Hr)),
        );
        m
    }
}

/// Where to listen and what to expect.
#[derive(Clone, Debug, PartialEq)]
pub struct OscConfig {
    /// Address and port to bind (loopback by default).
    pub bind: SocketAddr,
    /// The address map.
    pub map: AddressMap,
    /// Requested socket receive buffer, bytes.
    pub recv_buffer: usize,
}

/// Default requested receive buffer: 4 MiB.
pub const DEFAULT_RECV_BUFFER: usize = 4 << 20;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl OscConfig {
    /// The EmotiBit preset on 127.0.0.1:12345.
    pub fn emotibit() -> Self {
        Self {
            bind: SocketAddr::new(LOOPBACK, 12345),
            map: AddressMap::emotibit(),
            recv_buffer: DEFAULT_RECV_BUFFER,
        }
    }

    /// The heart-rate-app preset on 127.0.0.1:9000.
    pub fn hr_apps() -> Self {
        Self {
            bind: SocketAddr::new(LOOPBACK, 9000),
            map: AddressMap::hr_apps(),
            recv_buffer: DEFAULT_RECV_BUFFER,
        }
    }

    /// A preset by name: `emotibit`, or `hr` (also `hr-apps`, `vrchat`).
    pub fn preset(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "emotibit" => Some(Self::emotibit()),
            "hr" | "hr-apps" | "hr_apps" | "vrchat" => Some(Self::hr_apps()),
            _ => None,
        }
    }

    /// The same configuration on another port (0 picks a free one).
    pub fn with_port(mut self, port: u16) -> Self {
        self.bind.set_port(port);
        self
    }

    fn empty() -> Self {
        Self {
            bind: SocketAddr::new(LOOPBACK, 12345),
            map: AddressMap::new(),
            recv_buffer: DEFAULT_RECV_BUFFER,
        }
    }

    /// Reads a configuration file: TOML if it ends in `.toml`, else the list format.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SourceError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SourceError::file(path, format!("cannot read: {e}")))?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::parse_toml(&text, path)
        } else {
            Self::parse_list(&text, path)
        }
    }

    /// Parses the TOML form (see the module documentation); `file` names it in errors.
    pub fn parse_toml(text: &str, file: &Path) -> Result<Self, SourceError> {
        use toml::Spanned;
        let at = |span: std::ops::Range<usize>, field: &str, msg: String| {
            SourceError::file(file, msg)
                .at_offset(text, span.start)
                .with_field(field)
        };
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            preset: Option<Spanned<String>>,
            bind: Option<Spanned<String>>,
            port: Option<Spanned<i64>>,
            recv_buffer: Option<Spanned<i64>>,
            addresses: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let err = SourceError::file(file, e.message().trim().to_string());
            match e.span() {
                Some(s) => err.at_offset(text, s.start),
                None => err,
            }
        })?;
        let mut cfg = match &raw.preset {
            Some(p) => Self::preset(p.get_ref()).ok_or_else(|| {
                at(
                    p.span(),
                    "preset",
                    format!("unknown preset `{}` (expected emotibit or hr)", p.get_ref()),
                )
            })?,
            None => Self::empty(),
        };
        if let Some(b) = &raw.bind {
            cfg.bind.set_ip(b.get_ref().parse().map_err(|_| {
                at(
                    b.span(),
                    "bind",
                    format!("`{}` is not an IP address", b.get_ref()),
                )
            })?);
        }
        if let Some(p) = &raw.port {
            let port = u16::try_from(*p.get_ref()).map_err(|_| {
                at(
                    p.span(),
                    "port",
                    format!("port {} is not within 0–65535", p.get_ref()),
                )
            })?;
            cfg.bind.set_port(port);
        }
        if let Some(r) = &raw.recv_buffer {
            cfg.recv_buffer = usize::try_from(*r.get_ref()).map_err(|_| {
                at(
                    r.span(),
                    "recv_buffer",
                    "must be a positive number of bytes".into(),
                )
            })?;
        }
        for (addr, value) in raw.addresses.into_iter().flatten() {
            let field = format!("addresses.{}", addr.get_ref());
            let bad = |msg: String| at(value.span(), &field, msg);
            let (target, rate, scale) = match value.get_ref() {
                toml::Value::String(s) => (s.clone(), None, None),
                toml::Value::Table(t) => {
                    for k in t.keys() {
                        if !["field", "rate", "scale"].contains(&k.as_str()) {
                            return Err(bad(format!(
                                "unknown key `{k}` (expected field, rate, scale)"
                            )));
                        }
                    }
                    let target = match t.get("field") {
                        Some(toml::Value::String(s)) => s.clone(),
                        _ => return Err(bad("needs `field = \"name\"`".into())),
                    };
                    let num = |k: &str| -> Result<Option<f64>, SourceError> {
                        match t.get(k) {
                            None => Ok(None),
                            Some(toml::Value::Float(f)) => Ok(Some(*f)),
                            Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
                            Some(_) => Err(bad(format!("`{k}` must be a number"))),
                        }
                    };
                    (target, num("rate")?, num("scale")?)
                }
                _ => return Err(bad("expected a field name or { field, rate, scale }".into())),
            };
            let route = make_route(&target, rate, scale).map_err(bad)?;
            check_address(addr.get_ref()).map_err(|m| at(addr.span(), &field, m))?;
            cfg.map.insert(addr.into_inner(), route);
        }
        Ok(cfg)
    }

    /// Parses the list form (see the module documentation); `file` names it in errors.
    pub fn parse_list(text: &str, file: &Path) -> Result<Self, SourceError> {
        let mut cfg = Self::empty();
        let mut preset_allowed = true;
        for (i, raw_line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw_line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |field: &str, msg: String| {
                SourceError::at_line(file, line_no, msg).with_field(field)
            };
            let Some((key, value)) = line.split_once('=') else {
                return Err(SourceError::at_line(
                    file,
                    line_no,
                    format!("expected `address = field`, found `{line}`"),
                ));
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "preset" => {
                    if !preset_allowed {
                        return Err(err(
                            "preset",
                            "`preset` must come before any address or setting".into(),
                        ));
                    }
                    cfg = Self::preset(value).ok_or_else(|| {
                        err(
                            "preset",
                            format!("unknown preset `{value}` (expected emotibit or hr)"),
                        )
                    })?;
                }
                "port" => {
                    let p: u16 = value.parse().map_err(|_| {
                        err("port", format!("`{value}` is not a port number (0–65535)"))
                    })?;
                    cfg.bind.set_port(p);
                }
                "bind" => {
                    let ip: IpAddr = value
                        .parse()
                        .map_err(|_| err("bind", format!("`{value}` is not an IP address")))?;
                    cfg.bind.set_ip(ip);
                }
                "recv_buffer" => {
                    cfg.recv_buffer = value.parse().map_err(|_| {
                        err("recv_buffer", format!("`{value}` is not a number of bytes"))
                    })?;
                }
                addr => {
                    check_address(addr).map_err(|m| err(addr, m))?;
                    let (rest, scale) = match value.split_once('*') {
                        Some((a, s)) => (a, Some(s)),
                        None => (value, None),
                    };
                    let (name, rate) = match rest.split_once('@') {
                        Some((a, r)) => (a, Some(r)),
                        None => (rest, None),
                    };
                    let num = |what: &str, s: Option<&str>| -> Result<Option<f64>, SourceError> {
                        s.map(|s| {
                            s.trim().parse::<f64>().map_err(|_| {
                                err(addr, format!("{what} `{}` is not a number", s.trim()))
                            })
                        })
                        .transpose()
                    };
                    let route = make_route(name.trim(), num("rate", rate)?, num("scale", scale)?)
                        .map_err(|m| err(addr, m))?;
                    cfg.map.insert(addr, route);
                }
            }
            preset_allowed = false;
        }
        Ok(cfg)
    }
}

fn check_address(addr: &str) -> Result<(), String> {
    if addr.starts_with('/') && !addr.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!(
            "`{addr}` is not an OSC address (it must start with `/` and contain no spaces)"
        ))
    }
}

fn make_route(target: &str, rate: Option<f64>, scale: Option<f64>) -> Result<OscRoute, String> {
    let t = OscTarget::parse(target).ok_or_else(|| {
        format!(
            "unknown field `{target}` (expected hr, rr_ms, eda_us, resp, resp_rate, temp, acc_x, acc_y, acc_z, contact, ppg, ecg or resp_wave)"
        )
    })?;
    if let Some(r) = rate {
        if !(r.is_finite() && r > 0.0 && r <= 1e6) {
            return Err(format!("rate {r} Hz is not a positive number"));
        }
    }
    let scale = scale.unwrap_or(1.0);
    if !(scale.is_finite() && scale != 0.0) {
        return Err(format!("scale {scale} must be a non-zero number"));
    }
    if matches!(t, OscTarget::Wave(_)) && rate.is_none() {
        return Err(format!(
            "waveform `{}` needs a sample rate (`@ rate` or rate = …)",
            t.name()
        ));
    }
    Ok(OscRoute {
        target: t,
        rate,
        scale,
    })
}

/// What an OSC receiver has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OscCounters {
    /// UDP packets received.
    pub packets: u64,
    /// Messages decoded (a bundle holds several).
    pub messages: u64,
    /// Packets that are not valid OSC, or nested too deep; dropped.
    pub malformed_packets: u64,
    /// Messages with arguments that are not numbers; dropped.
    pub bad_arguments: u64,
    /// Values rejected as implausible.
    pub implausible: u64,
    /// Messages to addresses the map does not know; dropped.
    pub unmapped: u64,
}

/// Bundles nested deeper than this are dropped as malformed (the decoder recurses).
const MAX_BUNDLE_DEPTH: usize = 8;

/// Whether the bundles in `bytes` nest no deeper than `MAX_BUNDLE_DEPTH`.
fn nesting_ok(bytes: &[u8], depth: usize) -> bool {
    if !bytes.starts_with(b"#bundle\0") {
        return true;
    }
    if depth >= MAX_BUNDLE_DEPTH {
        return false;
    }
    let mut rest = bytes.get(16..).unwrap_or(&[]);
    while rest.len() >= 4 {
        let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let Some(elem) = size.checked_add(4).and_then(|end| rest.get(4..end)) else {
            return true; // the decoder reports the truncation
        };
        if !nesting_ok(elem, depth + 1) {
            return false;
        }
        rest = &rest[4 + size..];
    }
    true
}

const ACC_QUEUE: usize = 1024;

/// Decodes OSC packets into items according to an [`AddressMap`]; the part of
/// [`OscSource`] that needs no socket. Runs on the input thread.
#[derive(Debug)]
pub struct OscDecoder {
    name: PathBuf,
    map: AddressMap,
    reported: HashSet<String>,
    acc: [VecDeque<(f64, f32)>; 3],
    counters: OscCounters,
}

impl OscDecoder {
    /// A decoder using `map`; `name` names the source in errors.
    pub fn new(name: impl Into<PathBuf>, map: AddressMap) -> Self {
        Self {
            name: name.into(),
            map,
            reported: HashSet::new(),
            acc: Default::default(),
            counters: OscCounters::default(),
        }
    }

    /// What has been seen so far.
    pub fn counters(&self) -> OscCounters {
        self.counters
    }

    fn error(&self, address: &str, message: String) -> SourceError {
        SourceError::file(&self.name, message).with_field(address)
    }

    /// Decodes one UDP payload that arrived at session time `arrival`, appending items and
    /// issues to `out`. Never panics, whatever the bytes.
    pub fn decode(&mut self, bytes: &[u8], arrival: f64, out: &mut VecDeque<Pull>) {
        self.counters.packets += 1;
        if !nesting_ok(bytes, 0) {
            self.counters.malformed_packets += 1;
            out.push_back(Pull::Issue(SourceIssue::malformed(SourceError::file(
                &self.name,
                format!("malformed OSC packet ({} bytes): bundles nested deeper than {MAX_BUNDLE_DEPTH}", bytes.len()),
            ))));
            return;
        }
        match rosc::decoder::decode_udp(bytes) {
            Ok((_, packet)) => self.packet(packet, arrival, out),
            Err(e) => {
                self.counters.malformed_packets += 1;
                out.push_back(Pull::Issue(SourceIssue::malformed(SourceError::file(
                    &self.name,
                    format!("malformed OSC packet ({} bytes): {e}", bytes.len()),
                ))));
            }
        }
    }

    fn packet(&mut self, packet: OscPacket, arrival: f64, out: &mut VecDeque<Pull>) {
        match packet {
            OscPacket::Bundle(b) => {
                for p in b.content {
                    self.packet(p, arrival, out);
                }
            }
            OscPacket::Message(m) => self.message(&m.addr, &m.args, arrival, out),
        }
    }

    fn message(&mut self, addr: &str, args: &[OscType], arrival: f64, out: &mut VecDeque<Pull>) {
        self.counters.messages += 1;
        let Some(route) = self.map.get(addr).copied() else {
            self.counters.unmapped += 1;
            if self.reported.len() < 256 && self.reported.insert(addr.to_string()) {
                out.push_back(Pull::Issue(SourceIssue::unused(self.error(
                    addr,
                    "no field is mapped to this address; its messages are ignored".into(),
                ))));
            }
            return;
        };
        let mut values = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = match a {
                OscType::Float(f) => f64::from(*f),
                OscType::Double(d) => *d,
                OscType::Int(i) => f64::from(*i),
                OscType::Long(l) => *l as f64,
                OscType::Bool(b) => f64::from(u8::from(*b)),
                OscType::Inf => f64::INFINITY,
                other => {
                    self.counters.bad_arguments += 1;
                    let kind = match other {
                        OscType::String(_) => "a string",
                        OscType::Blob(_) => "a blob",
                        OscType::Time(_) => "a time tag",
                        OscType::Char(_) => "a character",
                        OscType::Color(_) => "a colour",
                        OscType::Midi(_) => "a MIDI message",
                        OscType::Array(_) => "an array",
                        OscType::Nil => "nil",
                        _ => "not a number",
                    };
                    out.push_back(Pull::Issue(SourceIssue::malformed(self.error(
                        addr,
                        format!("argument {} is {kind}, expected numbers", i + 1),
                    ))));
                    return;
                }
            };
            values.push(v * route.scale);
        }
        if values.is_empty() {
            self.counters.bad_arguments += 1;
            out.push_back(Pull::Issue(SourceIssue::malformed(
                self.error(addr, "message has no value".into()),
            )));
            return;
        }
        let n = values.len();
        let time_of = |k: usize| match route.rate {
            Some(r) => arrival - (n - 1 - k) as f64 / r,
            None => arrival,
        };
        match route.target {
            OscTarget::Wave(kind) => {
                let samples: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                if let Some(bad) = samples.iter().find(|s| check_sample(**s).is_err()) {
                    self.counters.implausible += 1;
                    let msg = check_sample(*bad).unwrap_err();
                    out.push_back(Pull::Issue(SourceIssue::implausible(
                        self.error(addr, msg.to_string()),
                    )));
                    return;
                }
                out.push_back(Pull::Data(SensorData::Waveform(Waveform {
                    kind,
                    start: time_of(0),
                    rate: route.rate.unwrap_or(1.0),
                    samples,
                })));
            }
            OscTarget::Field(f) => {
                for (k, &v) in values.iter().enumerate() {
                    let t = time_of(k);
                    let axis = match f {
                        Field::AccX => Some(0),
                        Field::AccY => Some(1),
                        Field::AccZ => Some(2),
                        _ => None,
                    };
                    if let Some(axis) = axis {
                        self.push_axis(addr, axis, t, v as f32, out);
                        continue;
                    }
                    let value = match f {
                        Field::Hr => Value::HeartRate(v as f32),
                        Field::RrMs => Value::Rr(v as f32),
                        Field::EdaUs => Value::Eda(v as f32),
                        Field::Resp => Value::Resp(v as f32),
                        Field::RespRate => Value::RespRate(v as f32),
                        Field::Temp => Value::Temp(v as f32),
                        Field::Contact if v == 0.0 => Value::ContactLost,
                        Field::Contact => continue,
                        Field::Time | Field::AccX | Field::AccY | Field::AccZ => continue,
                    };
                    self.emit(addr, t, value, out);
                }
            }
        }
    }

    fn emit(&mut self, addr: &str, time: f64, value: Value, out: &mut VecDeque<Pull>) {
        match check_value(&value) {
            Ok(()) => out.push_back(Pull::Data(SensorData::Reading(Reading { time, value }))),
            Err(m) => {
                self.counters.implausible += 1;
                out.push_back(Pull::Issue(SourceIssue::implausible(
                    self.error(addr, m.to_string()),
                )));
            }
        }
    }

    /// Axes arrive as separate messages; an [`Value::Acc`] is emitted once all three have
    /// a sample, at the latest of their times.
    fn push_axis(&mut self, addr: &str, axis: usize, t: f64, v: f32, out: &mut VecDeque<Pull>) {
        let q = &mut self.acc[axis];
        if q.len() >= ACC_QUEUE {
            q.pop_front();
        }
        q.push_back((t, v));
        while self.acc.iter().all(|q| !q.is_empty()) {
            let [x, y, z] = [0, 1, 2].map(|i| self.acc[i].pop_front().expect("not empty"));
            let time = x.0.max(y.0).max(z.0);
            self.emit(addr, time, Value::Acc([x.1, y.1, z.1]), out);
        }
    }
}

/// An OSC receiver on a UDP socket; see the [module documentation](self).
pub struct OscSource {
    socket: UdpSocket,
    local: SocketAddr,
    recv_buffer: usize,
    decoder: OscDecoder,
    clock: Box<dyn Clock>,
    buf: Vec<u8>,
    timeout: Option<Duration>,
    queue: VecDeque<Pull>,
}

impl std::fmt::Debug for OscSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OscSource")
            .field("local", &self.local)
            .field("recv_buffer", &self.recv_buffer)
            .field("counters", &self.decoder.counters)
            .finish()
    }
}

impl OscSource {
    /// Binds `config.bind` and stamps arrivals with `clock` (the session clock).
    pub fn bind<C: Clock + 'static>(config: &OscConfig, clock: C) -> io::Result<Self> {
        let addr = config.bind;
        let with_addr =
            |e: io::Error| io::Error::new(e.kind(), format!("OSC on udp://{addr}: {e}"));
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .map_err(with_addr)?;
        // Best effort: the kernel caps the size (net.core.rmem_max on Linux).
        let _ = socket.set_recv_buffer_size(config.recv_buffer);
        socket.bind(&addr.into()).map_err(with_addr)?;
        let recv_buffer = socket.recv_buffer_size().unwrap_or(0);
        let socket: UdpSocket = socket.into();
        let local = socket.local_addr()?;
        Ok(Self {
            socket,
            local,
            recv_buffer,
            decoder: OscDecoder::new(format!("osc udp://{local}"), config.map.clone()),
            clock: Box::new(clock),
            buf: vec![0; 65536],
            timeout: None,
            queue: VecDeque::new(),
        })
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The receive buffer the kernel granted, bytes.
    pub fn recv_buffer_size(&self) -> usize {
        self.recv_buffer
    }

    /// What has been received so far.
    pub fn counters(&self) -> OscCounters {
        self.decoder.counters()
    }
}

/// Datagrams the kernel dropped for `socket` because its receive buffer was full (the
/// `drops` column of `/proc/net/udp` and `/proc/net/udp6` for the socket's inode);
/// `None` where the system does not say.
fn kernel_drops(socket: &UdpSocket) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok()?;
        let link = link.to_str()?;
        let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?;
        for table in ["/proc/net/udp", "/proc/net/udp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let cols: Vec<&str> = line.split_whitespace().collect();
                if cols.get(9) == Some(&inode) {
                    return cols.last()?.parse().ok();
                }
            }
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        None
    }
}

impl Source for OscSource {
    fn lost(&mut self) -> u64 {
        kernel_drops(&self.socket).unwrap_or(0)
    }

    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.decoder.name.display().to_string(),
            format: "osc",
            simulated: false,
            live: true,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return p;
            }
            let wait = wait.max(Duration::from_millis(1));
            if self.timeout != Some(wait) {
                if let Err(e) = self.socket.set_read_timeout(Some(wait)) {
                    return Pull::Issue(SourceIssue::io(SourceError::file(
                        &self.decoder.name,
                        format!("cannot set the receive timeout: {e}"),
                    )));
                }
                self.timeout = Some(wait);
            }
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, _)) => {
                    let arrival = self.clock.now();
                    self.decoder
                        .decode(&self.buf[..n], arrival, &mut self.queue);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Pull::Pending
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Pull::Issue(SourceIssue::io(SourceError::file(
                        &self.decoder.name,
                        format!("receive failed: {e}"),
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::IssueKind;
    use rosc::{encoder, OscBundle, OscMessage, OscTime};

    fn msg(addr: &str, args: Vec<OscType>) -> Vec<u8> {
        encoder::encode(&OscPacket::Message(OscMessage {
            addr: addr.into(),
            args,
        }))
        .unwrap()
    }

    fn decode(d: &mut OscDecoder, bytes: &[u8], t: f64) -> Vec<Pull> {
        let mut out = VecDeque::new();
        d.decode(bytes, t, &mut out);
        out.into_iter().collect()
    }

    fn reading(time: f64, value: Value) -> Pull {
        Pull::Data(SensorData::Reading(Reading { time, value }))
    }

    #[test]
    fn emotibit_messages_become_readings() {
        let mut d = OscDecoder::new("osc", AddressMap::emotibit());
        assert_eq!(
            decode(
                &mut d,
                &msg("/EmotiBit/0/HR", vec![OscType::Float(72.0)]),
                10.0
            ),
            vec![reading(10.0, Value::HeartRate(72.0))]
        );
        // Three EDA samples at 15 Hz, spread back from arrival.
        let got = decode(
            &mut d,
            &msg(
                "/EmotiBit/0/EDA",
                vec![
                    OscType::Float(1.0),
                    OscType::Float(1.5),
                    OscType::Double(2.0),
                ],
            ),
            10.0,
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], reading(10.0 - 2.0 / 15.0, Value::Eda(1.0)));
        assert_eq!(got[2], reading(10.0, Value::Eda(2.0)));
        // PPG as a waveform chunk ending at arrival.
        let got = decode(
            &mut d,
            &msg("/EmotiBit/0/PPG:IR", vec![OscType::Int(5), OscType::Int(6)]),
            4.0,
        );
        assert_eq!(
            got,
            vec![Pull::Data(SensorData::Waveform(Waveform {
                kind: WaveKind::Ppg,
                start: 4.0 - 1.0 / 25.0,
                rate: 25.0,
                samples: vec![5.0, 6.0]
            }))]
        );
        // Acceleration axes combine into one reading once all three have arrived.
        assert!(decode(
            &mut d,
            &msg("/EmotiBit/0/ACC:X", vec![OscType::Float(0.1)]),
            1.0
        )
        .is_empty());
        assert!(decode(
            &mut d,
            &msg("/EmotiBit/0/ACC:Y", vec![OscType::Float(0.2)]),
            1.0
        )
        .is_empty());
        assert_eq!(
            decode(
                &mut d,
                &msg("/EmotiBit/0/ACC:Z", vec![OscType::Float(0.9)]),
                1.01
            ),
            vec![reading(1.01, Value::Acc([0.1, 0.2, 0.9]))]
        );
        assert_eq!(d.counters().messages, 6);
    }

    #[test]
    fn bad_packets_are_counted_and_dropped() {
        let mut d = OscDecoder::new("osc udp://127.0.0.1:9000", AddressMap::hr_apps());
        let got = decode(&mut d, b"\x00\x01garbage", 0.0);
        assert!(
            matches!(&got[..], [Pull::Issue(i)] if i.kind == IssueKind::Malformed && i.error.message.starts_with("malformed OSC packet"))
        );
        let got = decode(
            &mut d,
            &msg("/avatar/parameters/HR", vec![OscType::String("x".into())]),
            0.0,
        );
        match &got[..] {
            [Pull::Issue(i)] => assert_eq!(
                i.error.to_string(),
                "osc udp://127.0.0.1:9000: field `/avatar/parameters/HR`: argument 1 is a string, expected numbers"
            ),
            other => panic!("{other:?}"),
        }
        let got = decode(
            &mut d,
            &msg("/avatar/parameters/HR", vec![OscType::Int(0)]),
            0.0,
        );
        assert!(matches!(&got[..], [Pull::Issue(i)] if i.kind == IssueKind::Implausible));
        let got = decode(&mut d, &msg("/avatar/parameters/HR", vec![]), 0.0);
        assert!(matches!(&got[..], [Pull::Issue(i)] if i.error.message == "message has no value"));
        // Unmapped addresses: reported once, counted always.
        for _ in 0..3 {
            decode(&mut d, &msg("/other", vec![OscType::Int(1)]), 0.0);
        }
        let c = d.counters();
        assert_eq!(
            (
                c.malformed_packets,
                c.bad_arguments,
                c.implausible,
                c.unmapped
            ),
            (1, 2, 1, 3)
        );
        // Deeply nested bundles are refused before the recursive decoder sees them.
        let mut p = OscPacket::Message(OscMessage {
            addr: "/avatar/parameters/HR".into(),
            args: vec![OscType::Int(60)],
        });
        for _ in 0..50 {
            p = OscPacket::Bundle(OscBundle {
                timetag: OscTime {
                    seconds: 0,
                    fractional: 1,
                },
                content: vec![p],
            });
        }
        let got = decode(&mut d, &encoder::encode(&p).unwrap(), 0.0);
        assert!(matches!(&got[..], [Pull::Issue(i)] if i.error.message.contains("nested deeper")));
    }

    #[test]
    fn bundles_are_unpacked() {
        let mut d = OscDecoder::new("osc", AddressMap::hr_apps());
        let p = OscPacket::Bundle(OscBundle {
            timetag: OscTime {
                seconds: 0,
                fractional: 1,
            },
            content: vec![
                OscPacket::Message(OscMessage {
                    addr: "/avatar/parameters/HR".into(),
                    args: vec![OscType::Int(60)],
                }),
                OscPacket::Message(OscMessage {
                    addr: "/avatar/parameters/HR".into(),
                    args: vec![OscType::Long(61)],
                }),
            ],
        });
        let got = decode(&mut d, &encoder::encode(&p).unwrap(), 2.0);
        assert_eq!(
            got,
            vec![
                reading(2.0, Value::HeartRate(60.0)),
                reading(2.0, Value::HeartRate(61.0))
            ]
        );
    }

    #[test]
    fn address_maps_parse_from_toml_and_lists() {
        let cfg = OscConfig::parse_toml(
            "preset = \"emotibit\"\nport = 9001\n[addresses]\n\"/ibi\" = { field = \"rr_ms\", scale = 1000 }\n\"/pulse\" = { field = \"ppg\", rate = 50 }\n",
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(cfg.bind, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(cfg.map.get("/ibi").unwrap().scale, 1000.0);
        assert_eq!(cfg.map.get("/pulse").unwrap().rate, Some(50.0));
        assert!(cfg.map.get("/EmotiBit/0/EDA").is_some());

        let e = OscConfig::parse_toml("[addresses]\n\"/x\" = \"heartbeat\"\n", Path::new("m.toml"))
            .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.field.as_deref(), Some("addresses./x"));
        assert!(e.message.starts_with("unknown field `heartbeat`"), "{e}");
        let e = OscConfig::parse_toml(
            "[addresses]\n\"/x\" = { field = \"ppg\" }\n",
            Path::new("m.toml"),
        )
        .unwrap_err();
        assert!(e.message.contains("needs a sample rate"), "{e}");
        let e = OscConfig::parse_toml("colour = 1\n", Path::new("m.toml")).unwrap_err();
        assert!(e.message.contains("colour") && e.line == Some(1), "{e}");

        let cfg = OscConfig::parse_list(
            "# mine\nport = 7000\n/a = hr\n/b = eda_us @ 4\n/c = rr_ms * 1000 # seconds\n",
            Path::new("m.txt"),
        )
        .unwrap();
        assert_eq!(cfg.bind.port(), 7000);
        assert_eq!(cfg.map.len(), 3);
        assert_eq!(cfg.map.get("/b").unwrap().rate, Some(4.0));
        assert_eq!(cfg.map.get("/c").unwrap().scale, 1000.0);
        let e = OscConfig::parse_list("/a = hr\nport = x\n", Path::new("m.txt")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.txt:2: field `port`: `x` is not a port number (0–65535)"
        );
        let e = OscConfig::parse_list("a = hr\n", Path::new("m.txt")).unwrap_err();
        assert!(e.message.contains("not an OSC address"), "{e}");
        let e = OscConfig::parse_list("/a = hr @ fast\n", Path::new("m.txt")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.txt:1: field `/a`: rate `fast` is not a number"
        );
    }
}
