//! Bluetooth Heart Rate Measurement (GATT characteristic 0x2A37), as sent by chest straps
//! and watches.
//!
//! Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 1 | flags: bit 0 = heart rate is u16; bits 1–2 = sensor contact (0/1 not supported, 2 not detected, 3 detected); bit 3 = energy expended present; bit 4 = RR intervals present |
//! | 1 or 2 | heart rate, bpm |
//! | 0 or 2 | energy expended, kJ |
//! | 2 each | RR intervals in 1/1024 s, oldest first |
//!
//! Example: `16 4B 1A 03 2E 03` is 75 bpm with RR 775.39 ms and 794.92 ms.
//!
//! [`decode_heart_rate_measurement`] decodes one notification; [`BleHeartRateSource`]
//! turns notifications that some Bluetooth stack hands over (with their arrival time) into
//! readings. This crate talks to no Bluetooth adapter itself. Decoding runs on whichever
//! thread receives notifications (an input thread); never on the audio thread.

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::limits::check_value;
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use crate::signal::{Reading, SensorData, Value};
use crate::source_error::SourceError;

/// What the sensor says about skin contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// The sensor does not report contact (flags bits 1–2 = 0 or 1).
    NotSupported,
    /// Supported, and no contact (2): the heart rate is not to be trusted.
    NotDetected,
    /// Supported, and in contact (3).
    Detected,
}

/// One decoded Heart Rate Measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct HeartRateMeasurement {
    /// Heart rate, bpm.
    pub heart_rate: u16,
    /// The sensor was told to use the 16-bit heart-rate format.
    pub wide: bool,
    /// Skin contact.
    pub contact: Contact,
    /// Energy expended since the last reset, kJ.
    pub energy_kj: Option<u16>,
    /// RR intervals, 1/1024 s units, oldest first.
    pub rr_raw: Vec<u16>,
}

/// Why a notification could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BleError {
    /// No bytes at all.
    Empty,
    /// The packet ended inside a field.
    Truncated {
        /// The field being read: `heart rate`, `energy expended` or `RR interval`.
        field: &'static str,
        /// Byte offset where the field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the packet.
        left: usize,
    },
}

impl fmt::Display for BleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BleError::Empty => write!(f, "empty Heart Rate Measurement (no flags byte)"),
            BleError::Truncated {
                field,
                offset,
                needed,
                left,
            } => write!(
                f,
                "truncated Heart Rate Measurement: {field} at byte {offset} needs {needed} bytes, {left} left"
            ),
        }
    }
}

impl std::error::Error for BleError {}

impl BleError {
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            BleError::Empty => Some("flags"),
            BleError::Truncated { field, .. } => Some(field),
        }
    }
}

fn take_u16(bytes: &[u8], at: usize, field: &'static str) -> Result<u16, BleError> {
    match bytes.get(at..at + 2) {
        Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
        None => Err(BleError::Truncated {
            field,
            offset: at,
            needed: 2,
            left: bytes.len().saturating_sub(at),
        }),
    }
}

/// Decodes one Heart Rate Measurement notification.
pub fn decode_heart_rate_measurement(bytes: &[u8]) -> Result<HeartRateMeasurement, BleError> {
    let &flags = bytes.first().ok_or(BleError::Empty)?;
    let wide = flags & 0x01 != 0;
    let contact = match (flags >> 1) & 0x03 {
        2 => Contact::NotDetected,
        3 => Contact::Detected,
        _ => Contact::NotSupported,
    };
    let mut at = 1;
    let heart_rate = if wide {
        let v = take_u16(bytes, at, "heart rate")?;
        at += 2;
        v
    } else {
        let v = *bytes.get(at).ok_or(BleError::Truncated {
            field: "heart rate",
            offset: at,
            needed: 1,
            left: 0,
        })?;
        at += 1;
        u16::from(v)
    };
    let energy_kj = if flags & 0x08 != 0 {
        let v = take_u16(bytes, at, "energy expended")?;
        at += 2;
        Some(v)
    } else {
        None
    };
    let mut rr_raw = Vec::new();
    if flags & 0x10 != 0 {
        while at < bytes.len() {
            rr_raw.push(take_u16(bytes, at, "RR interval")?);
            at += 2;
        }
    }
    Ok(HeartRateMeasurement {
        heart_rate,
        wide,
        contact,
        energy_kj,
        rr_raw,
    })
}

impl HeartRateMeasurement {
    /// RR intervals in milliseconds, oldest first.
    pub fn rr_ms(&self) -> Vec<f32> {
        self.rr_raw
            .iter()
            .map(|&r| (f64::from(r) * 1000.0 / 1024.0) as f32)
            .collect()
    }

    /// Encodes back to notification bytes (for tests and device simulators).
    pub fn encode(&self) -> Vec<u8> {
        let contact_bits = match self.contact {
            Contact::NotSupported => 0,
            Contact::NotDetected => 2,
            Contact::Detected => 3,
        };
        let wide = self.wide || self.heart_rate > 255;
        let mut flags = u8::from(wide) | (contact_bits << 1);
        if self.energy_kj.is_some() {
            flags |= 0x08;
        }
        if !self.rr_raw.is_empty() {
            flags |= 0x10;
        }
        let mut out = vec![flags];
        if wide {
            out.extend_from_slice(&self.heart_rate.to_le_bytes());
        } else {
            out.push(self.heart_rate as u8);
        }
        if let Some(e) = self.energy_kj {
            out.extend_from_slice(&e.to_le_bytes());
        }
        for r in &self.rr_raw {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out
    }

    /// The readings of a notification that arrived at session time `time`: with contact
    /// lost, a single [`Value::ContactLost`] (the heart rate of a strap off the skin is
    /// garbage); otherwise the heart rate at `time` and one [`Value::Rr`] per interval,
    /// the newest ending at `time` and each older one ending where the next began.
    /// Implausible values come back as errors naming the field.
    pub fn readings(&self, time: f64) -> Vec<Result<Reading, (&'static str, String)>> {
        if self.contact == Contact::NotDetected {
            return vec![Ok(Reading {
                time,
                value: Value::ContactLost,
            })];
        }
        let mut out = Vec::with_capacity(1 + self.rr_raw.len());
        let hr = Value::HeartRate(f32::from(self.heart_rate));
        out.push(match check_value(&hr) {
            Ok(()) => Ok(Reading { time, value: hr }),
            Err(m) => Err(("heart rate", m.to_string())),
        });
        let rr = self.rr_ms();
        let mut end = time;
        let mut timed = Vec::with_capacity(rr.len());
        for &ms in rr.iter().rev() {
            timed.push((end, ms));
            end -= f64::from(ms) / 1000.0;
        }
        for (t, ms) in timed.into_iter().rev() {
            let v = Value::Rr(ms);
            out.push(match check_value(&v) {
                Ok(()) => Ok(Reading { time: t, value: v }),
                Err(m) => Err(("RR interval", m.to_string())),
            });
        }
        out
    }
}

/// One notification as the Bluetooth stack delivered it.
#[derive(Clone, Debug, PartialEq)]
pub struct BlePacket {
    /// Session time of arrival, seconds.
    pub time: f64,
    /// The characteristic value.
    pub bytes: Vec<u8>,
}

/// Heart Rate Measurement notifications from a channel (fed by whatever Bluetooth stack
/// the host uses) as readings. Live: ends when the sending side is dropped.
pub struct BleHeartRateSource {
    name: String,
    rx: Receiver<BlePacket>,
    queue: VecDeque<Pull>,
    packets: u64,
    ended: bool,
}

impl std::fmt::Debug for BleHeartRateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BleHeartRateSource")
            .field("name", &self.name)
            .field("packets", &self.packets)
            .finish()
    }
}

impl BleHeartRateSource {
    /// Reads notifications from `rx`; `device` names the sensor in errors.
    pub fn new(device: impl Into<String>, rx: Receiver<BlePacket>) -> Self {
        Self {
            name: format!("ble {}", device.into()),
            rx,
            queue: VecDeque::new(),
            packets: 0,
            ended: false,
        }
    }

    fn error(&self, field: &str, message: String) -> SourceError {
        let mut e = SourceError::file(&PathBuf::from(&self.name), message).with_field(field);
        // The packet's number in the stream stands in for a line.
        e.line = Some(self.packets as usize);
        e
    }

    fn packet(&mut self, p: BlePacket) {
        self.packets += 1;
        match decode_heart_rate_measurement(&p.bytes) {
            Ok(m) => {
                for r in m.readings(p.time) {
                    let item = match r {
                        Ok(r) => Pull::Data(SensorData::Reading(r)),
                        Err((field, m)) => {
                            Pull::Issue(SourceIssue::implausible(self.error(field, m)))
                        }
                    };
                    self.queue.push_back(item);
                }
            }
            Err(e) => {
                let issue = SourceIssue::malformed(
                    self.error(e.field().unwrap_or("packet"), e.to_string()),
                );
                self.queue.push_back(Pull::Issue(issue));
            }
        }
    }
}

impl Source for BleHeartRateSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.clone(),
            format: "ble-hr",
            simulated: false,
            live: true,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return p;
            }
            if self.ended {
                return Pull::End;
            }
            match self.rx.recv_timeout(wait) {
                Ok(p) => self.packet(p),
                Err(RecvTimeoutError::Timeout) => return Pull::Pending,
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_reference_vector() {
        let m = decode_heart_rate_measurement(&[0x16, 0x4B, 0x1A, 0x03, 0x2E, 0x03]).unwrap();
        assert_eq!(m.heart_rate, 75);
        assert_eq!(m.contact, Contact::Detected);
        assert_eq!(m.energy_kj, None);
        let rr = m.rr_ms();
        assert_eq!(rr.len(), 2);
        assert!((rr[0] - 775.39).abs() < 0.01, "{rr:?}");
        assert!((rr[1] - 794.92).abs() < 0.01, "{rr:?}");
        assert_eq!(m.encode(), vec![0x16, 0x4B, 0x1A, 0x03, 0x2E, 0x03]);
        let r = m.readings(10.0);
        assert_eq!(
            r[0],
            Ok(Reading {
                time: 10.0,
                value: Value::HeartRate(75.0)
            })
        );
        let r1 = r[1].clone().unwrap();
        let r2 = r[2].clone().unwrap();
        assert_eq!(r2.time, 10.0);
        assert!((r1.time - (10.0 - 0.79492)).abs() < 1e-4, "{r1:?}");
    }

    #[test]
    fn decodes_the_other_layouts() {
        // 16-bit heart rate, energy present, contact not supported, no RR.
        let m = decode_heart_rate_measurement(&[0x09, 0x2C, 0x01, 0x10, 0x27]).unwrap();
        assert_eq!(
            (m.heart_rate, m.energy_kj, m.contact),
            (300, Some(10000), Contact::NotSupported)
        );
        assert!(m.rr_raw.is_empty());
        let r = m.readings(0.0);
        assert_eq!(r.len(), 1);
        assert!(matches!(&r[0], Err(("heart rate", msg)) if msg.contains("300")));
        // Energy and RR together.
        let m = decode_heart_rate_measurement(&[0x18, 60, 5, 0, 0x00, 0x04]).unwrap();
        assert_eq!(
            (m.heart_rate, m.energy_kj, m.rr_raw.clone()),
            (60, Some(5), vec![1024])
        );
        assert_eq!(m.rr_ms(), vec![1000.0]);
        // Contact lost: only that.
        let m = decode_heart_rate_measurement(&[0x04, 0]).unwrap();
        assert_eq!(m.contact, Contact::NotDetected);
        assert_eq!(
            m.readings(3.0),
            vec![Ok(Reading {
                time: 3.0,
                value: Value::ContactLost
            })]
        );
    }

    #[test]
    fn truncated_packets_are_clear_errors() {
        assert_eq!(decode_heart_rate_measurement(&[]), Err(BleError::Empty));
        let e = decode_heart_rate_measurement(&[0x00]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated Heart Rate Measurement: heart rate at byte 1 needs 1 bytes, 0 left"
        );
        let e = decode_heart_rate_measurement(&[0x01, 0x40]).unwrap_err();
        assert_eq!(e.field(), Some("heart rate"));
        let e = decode_heart_rate_measurement(&[0x08, 70, 1]).unwrap_err();
        assert_eq!(e.field(), Some("energy expended"));
        let e = decode_heart_rate_measurement(&[0x10, 70, 0x00, 0x04, 0x01]).unwrap_err();
        assert_eq!(
            e,
            BleError::Truncated {
                field: "RR interval",
                offset: 4,
                needed: 2,
                left: 1
            }
        );
    }

    #[test]
    fn source_turns_packets_into_readings_and_issues() {
        let (tx, rx) = crossbeam_channel::bounded(8);
        tx.send(BlePacket {
            time: 1.0,
            bytes: vec![0x16, 0x4B, 0x1A, 0x03, 0x2E, 0x03],
        })
        .unwrap();
        tx.send(BlePacket {
            time: 2.0,
            bytes: vec![0x10, 70, 0x00],
        })
        .unwrap();
        drop(tx);
        let got: Vec<_> = BleHeartRateSource::new("strap", rx).items().collect();
        assert_eq!(got.len(), 4);
        assert!(got[..3].iter().all(|x| x.is_ok()));
        assert_eq!(
            got[3].as_ref().unwrap_err().error.to_string(),
            "ble strap:2: field `RR interval`: truncated Heart Rate Measurement: RR interval at byte 2 needs 2 bytes, 1 left"
        );
    }
}
