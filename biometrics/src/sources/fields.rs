//! The field names shared by the CSV, JSON Lines and OSC sources, and how a set of named
//! values becomes [`Reading`]s.
//!
//! | field | unit | becomes |
//! |---|---|---|
//! | `time` | s, unix s or unix ms (detected) | the reading's time |
//! | `hr` | bpm | [`Value::HeartRate`] |
//! | `rr_ms` | ms | [`Value::Rr`] |
//! | `eda_us` | µS | [`Value::Eda`] |
//! | `resp` | arbitrary | [`Value::Resp`] |
//! | `resp_rate` | breaths/min | [`Value::RespRate`] |
//! | `temp` | °C | [`Value::Temp`] |
//! | `acc_x`, `acc_y`, `acc_z` | g | one [`Value::Acc`] (all three needed) |
//! | `contact` | 1/0 or true/false | 0/false gives [`Value::ContactLost`] |
//!
//! A few aliases are accepted (e.g. `heart_rate`, `ibi_ms`, `eda`, `timestamp`); names are
//! matched without regard to case. Runs on the input or control thread.

use std::collections::VecDeque;
use std::path::Path;

use super::limits::check_value;
use super::source::{Pull, SourceIssue};
use crate::signal::{Reading, SensorData, Value};
use crate::source_error::SourceError;

/// A named quantity in a row of CSV, an object of JSON Lines or an OSC address map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Time stamp.
    Time,
    /// Heart rate, bpm.
    Hr,
    /// RR interval, ms.
    RrMs,
    /// Skin conductance, µS.
    EdaUs,
    /// Raw respiration (arbitrary units).
    Resp,
    /// Respiration rate, breaths/min.
    RespRate,
    /// Skin temperature, °C.
    Temp,
    /// Acceleration x, g.
    AccX,
    /// Acceleration y, g.
    AccY,
    /// Acceleration z, g.
    AccZ,
    /// Sensor contact: 1 = on the skin, 0 = lost.
    Contact,
}

impl Field {
    /// Every field, in canonical order.
    pub const ALL: [Field; 11] = [
        Field::Time,
        Field::Hr,
        Field::RrMs,
        Field::EdaUs,
        Field::Resp,
        Field::RespRate,
        Field::Temp,
        Field::AccX,
        Field::AccY,
        Field::AccZ,
        Field::Contact,
    ];

    /// The canonical name, as written in headers and JSON keys.
    pub fn name(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::Hr => "hr",
            Field::RrMs => "rr_ms",
            Field::EdaUs => "eda_us",
            Field::Resp => "resp",
            Field::RespRate => "resp_rate",
            Field::Temp => "temp",
            Field::AccX => "acc_x",
            Field::AccY => "acc_y",
            Field::AccZ => "acc_z",
            Field::Contact => "contact",
        }
    }

    /// The field a name (canonical or alias, any case) stands for.
    pub fn parse(name: &str) -> Option<Field> {
        let n = name.trim().to_ascii_lowercase();
        Some(match n.as_str() {
            "time" | "t" | "timestamp" | "time_s" => Field::Time,
            "hr" | "heart_rate" | "hr_bpm" => Field::Hr,
            "rr_ms" | "ibi_ms" | "rr" => Field::RrMs,
            "eda_us" | "eda" | "scl_us" => Field::EdaUs,
            "resp" | "respiration" => Field::Resp,
            "resp_rate" | "breathing_rate" => Field::RespRate,
            "temp" | "temp_c" | "temperature" => Field::Temp,
            "acc_x" => Field::AccX,
            "acc_y" => Field::AccY,
            "acc_z" => Field::AccZ,
            "contact" => Field::Contact,
            _ => return None,
        })
    }

    /// The scalar value of this field, for fields that map to one reading on their own.
    fn scalar(self, v: f32) -> Option<Value> {
        Some(match self {
            Field::Hr => Value::HeartRate(v),
            Field::RrMs => Value::Rr(v),
            Field::EdaUs => Value::Eda(v),
            Field::Resp => Value::Resp(v),
            Field::RespRate => Value::RespRate(v),
            Field::Temp => Value::Temp(v),
            _ => return None,
        })
    }
}

/// Where a set of values came from, for error messages.
pub(crate) struct Origin<'a> {
    pub file: &'a Path,
    pub line: Option<usize>,
}

impl Origin<'_> {
    pub(crate) fn error(&self, message: impl Into<String>) -> SourceError {
        let mut e = SourceError::file(self.file, message);
        e.line = self.line;
        e
    }
}

/// One value of a record: the field, the number, and the 1-based column it came from.
pub(crate) struct Cell {
    pub field: Field,
    pub value: f64,
    pub column: Option<usize>,
}

/// Turns the values of one record (a CSV row, a JSON object) at session time `time` into
/// readings and issues, appended to `out` in field order.
pub(crate) fn emit_record(
    origin: &Origin<'_>,
    time: f64,
    cells: &[Cell],
    out: &mut VecDeque<Pull>,
) {
    let mut acc: [Option<&Cell>; 3] = [None; 3];
    let located = |c: &Cell, msg: String| {
        let mut e = origin.error(msg).with_field(c.field.name());
        e.column = c.column;
        e
    };
    let push_value = |value: Value, cell: &Cell, out: &mut VecDeque<Pull>| match check_value(&value)
    {
        Ok(()) => out.push_back(Pull::Data(SensorData::Reading(Reading { time, value }))),
        Err(why) => out.push_back(Pull::Issue(SourceIssue::implausible(located(
            cell,
            why.to_string(),
        )))),
    };
    for cell in cells {
        match cell.field {
            Field::Time => {}
            Field::AccX => acc[0] = Some(cell),
            Field::AccY => acc[1] = Some(cell),
            Field::AccZ => acc[2] = Some(cell),
            Field::Contact => {
                if cell.value == 0.0 {
                    out.push_back(Pull::Data(SensorData::Reading(Reading {
                        time,
                        value: Value::ContactLost,
                    })));
                } else if cell.value != 1.0 {
                    out.push_back(Pull::Issue(SourceIssue::malformed(located(
                        cell,
                        format!(
                            "contact must be 1 (on the skin) or 0 (lost), not {}",
                            cell.value
                        ),
                    ))));
                }
            }
            f => {
                if let Some(value) = f.scalar(cell.value as f32) {
                    push_value(value, cell, out);
                }
            }
        }
    }
    match acc {
        [None, None, None] => {}
        [Some(x), Some(y), Some(z)] => {
            let value = Value::Acc([x.value as f32, y.value as f32, z.value as f32]);
            push_value(value, x, out);
        }
        partial => {
            let given: Vec<&str> = partial.iter().flatten().map(|c| c.field.name()).collect();
            let first = partial.iter().flatten().next().expect("at least one axis");
            out.push_back(Pull::Issue(SourceIssue::malformed(located(
                first,
                format!(
                    "acceleration needs acc_x, acc_y and acc_z together; this row has only {}",
                    given.join(", ")
                ),
            ))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::IssueKind;

    #[test]
    fn names_round_trip_and_aliases_resolve() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.name()), Some(f));
            assert_eq!(Field::parse(&f.name().to_uppercase()), Some(f));
        }
        assert_eq!(Field::parse(" Heart_Rate "), Some(Field::Hr));
        assert_eq!(Field::parse("ibi_ms"), Some(Field::RrMs));
        assert_eq!(Field::parse("gyro_x"), None);
    }

    #[test]
    fn records_become_readings_and_issues() {
        let origin = Origin {
            file: Path::new("f.csv"),
            line: Some(4),
        };
        let cells = [
            Cell {
                field: Field::Hr,
                value: 300.0,
                column: Some(3),
            },
            Cell {
                field: Field::AccX,
                value: 0.5,
                column: Some(5),
            },
            Cell {
                field: Field::EdaUs,
                value: 2.0,
                column: Some(7),
            },
            Cell {
                field: Field::Contact,
                value: 0.0,
                column: Some(9),
            },
        ];
        let mut out = VecDeque::new();
        emit_record(&origin, 1.5, &cells, &mut out);
        let out: Vec<_> = out.into_iter().collect();
        assert_eq!(out.len(), 4);
        match &out[0] {
            Pull::Issue(i) => {
                assert_eq!(i.kind, IssueKind::Implausible);
                assert_eq!(i.error.to_string(), "f.csv:4:3: field `hr`: heart rate 300 bpm is outside the plausible range 20–250 bpm");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            out[1],
            Pull::Data(SensorData::Reading(Reading {
                time: 1.5,
                value: Value::Eda(2.0)
            }))
        );
        assert_eq!(
            out[2],
            Pull::Data(SensorData::Reading(Reading {
                time: 1.5,
                value: Value::ContactLost
            }))
        );
        match &out[3] {
            Pull::Issue(i) => {
                assert_eq!(i.kind, IssueKind::Malformed);
                assert!(i.error.message.contains("only acc_x"), "{}", i.error);
            }
            other => panic!("{other:?}"),
        }
    }
}
