//! Output devices: listing them and choosing one with its native stream configuration.

use super::timeout::{with_limit, AUDIO_CALL_LIMIT};
use super::LiveError;
use cpal::traits::{DeviceTrait, HostTrait};
use std::fmt;
use std::str::FromStr;

/// Which output device to play on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The system's default output.
    #[default]
    Default,
    /// A device by its id as [`list_output_devices`] shows it (`alsa:hw:CARD=0,DEV=0`),
    /// its id without the host prefix (`hw:CARD=0,DEV=0`), or its exact name.
    Id(String),
}

impl FromStr for DeviceChoice {
    type Err = std::convert::Infallible;

    /// `default` (or an empty string) is the default device; anything else is an id.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(if s.is_empty() || s == "default" {
            DeviceChoice::Default
        } else {
            DeviceChoice::Id(s.to_string())
        })
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Default => f.write_str("default"),
            DeviceChoice::Id(id) => f.write_str(id),
        }
    }
}

/// One output device, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable id (`host:device`), what `--device` takes.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Further description lines the host gives (may be empty).
    pub details: Vec<String>,
    /// Whether this is the system's default output.
    pub is_default: bool,
}

/// Lists the output devices of the default audio host, the default device first. Does
/// not open the devices (opening some ALSA plugins has side effects), so a listed
/// device may still fail to open. Control thread.
pub fn list_output_devices() -> Result<Vec<DeviceInfo>, LiveError> {
    with_limit(AUDIO_CALL_LIMIT, list)
        .unwrap_or_else(|| Err(LiveError::no_answer("listing devices")))
}

fn list() -> Result<Vec<DeviceInfo>, LiveError> {
    let host = cpal::default_host();
    let mut out: Vec<DeviceInfo> = Vec::new();
    if let Some(d) = host.default_output_device() {
        if let Some(mut info) = describe(&d) {
            info.is_default = true;
            out.push(info);
        }
    }
    let devices = host
        .output_devices()
        .map_err(|e| LiveError::Host(e.to_string()))?;
    for d in devices {
        if let Some(info) = describe(&d) {
            if !out.iter().any(|o| o.id == info.id) {
                out.push(info);
            }
        }
    }
    Ok(out)
}

fn describe(d: &cpal::Device) -> Option<DeviceInfo> {
    let id = d.id().ok()?.to_string();
    let (name, details) = match d.description() {
        Ok(desc) => {
            let name = desc.name().to_string();
            let details = desc
                .extended()
                .filter(|l| *l != name)
                .map(str::to_string)
                .collect();
            (name, details)
        }
        Err(_) => (id.clone(), Vec::new()),
    };
    Some(DeviceInfo {
        id,
        name,
        details,
        is_default: false,
    })
}

/// Whether `wanted` names the device `id` (full id, id without the host, or name).
fn matches(wanted: &str, id: &cpal::DeviceId, name: &str) -> bool {
    wanted == id.to_string() || wanted == id.id() || wanted == name
}

/// A chosen output device and the stream configuration it will be opened with: its
/// native sample rate and sample format, stereo when it offers stereo. Build the engine
/// at [`OutputDevice::sample_rate`]. Control thread.
pub struct OutputDevice {
    device: cpal::Device,
    id: String,
    name: String,
    config: cpal::SupportedStreamConfig,
}

impl fmt::Debug for OutputDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputDevice")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("config", &self.config)
            .finish()
    }
}

impl OutputDevice {
    /// Finds the device and reads its native configuration. Gives up with
    /// [`LiveError::NoAnswer`] if the audio system does not answer within a few
    /// seconds. Control thread.
    pub fn open(choice: &DeviceChoice) -> Result<Self, LiveError> {
        let c = choice.clone();
        with_limit(AUDIO_CALL_LIMIT, move || Self::open_now(&c))
            .unwrap_or_else(|| Err(LiveError::no_answer(format!("opening device `{choice}`"))))
    }

    fn open_now(choice: &DeviceChoice) -> Result<Self, LiveError> {
        let host = cpal::default_host();
        let device = match choice {
            DeviceChoice::Default => host
                .default_output_device()
                .ok_or(LiveError::NoDefaultDevice)?,
            DeviceChoice::Id(wanted) => find(&host, wanted)?,
        };
        Self::from_device_now(device)
    }

    /// Wraps a cpal device the caller found itself and reads its native configuration,
    /// with the same time limit as [`OutputDevice::open`]. Control thread.
    pub fn from_device(device: cpal::Device) -> Result<Self, LiveError> {
        with_limit(AUDIO_CALL_LIMIT, move || Self::from_device_now(device))
            .unwrap_or_else(|| Err(LiveError::no_answer("querying a device")))
    }

    fn from_device_now(device: cpal::Device) -> Result<Self, LiveError> {
        let id = device
            .id()
            .map(|i| i.to_string())
            .map_err(|e| LiveError::device("?", e))?;
        let name = device
            .description()
            .map(|d| d.name().to_string())
            .unwrap_or_else(|_| id.clone());
        let native = device
            .default_output_config()
            .map_err(|e| LiveError::device(&id, e))?;
        let config = if native.channels() == 2 {
            native
        } else {
            // the same rate and format in stereo, if the device offers it
            device
                .supported_output_configs()
                .ok()
                .and_then(|mut ranges| {
                    ranges.find_map(|r| {
                        (r.channels() == 2 && r.sample_format() == native.sample_format())
                            .then(|| r.try_with_sample_rate(native.sample_rate()))
                            .flatten()
                    })
                })
                .unwrap_or(native)
        };
        Ok(Self {
            device,
            id,
            name,
            config,
        })
    }

    /// The same device configured for `rate` (to carry on a renderer built at that rate).
    /// Control thread.
    pub fn at_rate(self, rate: u32) -> Result<Self, LiveError> {
        if self.config.sample_rate() == rate {
            return Ok(self);
        }
        let what = format!("querying device `{}`", self.id);
        with_limit(AUDIO_CALL_LIMIT, move || self.at_rate_now(rate))
            .unwrap_or_else(|| Err(LiveError::no_answer(what)))
    }

    fn at_rate_now(self, rate: u32) -> Result<Self, LiveError> {
        let ranges: Vec<cpal::SupportedStreamConfigRange> = self
            .device
            .supported_output_configs()
            .map_err(|e| LiveError::device(&self.id, e))?
            .collect();
        let score = |r: &cpal::SupportedStreamConfigRange| {
            (r.channels() == 2) as u8 * 2 + (r.sample_format() == self.sample_format()) as u8
        };
        let best = ranges
            .into_iter()
            .filter(|r| r.contains_rate(rate))
            .max_by_key(score)
            .ok_or_else(|| LiveError::SampleRate {
                device: self.id.clone(),
                rate,
            })?;
        Ok(Self {
            config: best.with_sample_rate(rate),
            ..self
        })
    }

    /// Stable id (`host:device`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sample rate the stream will run at, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.config.sample_rate()
    }

    /// Channels the device will be fed (stereo is mixed down for mono devices; channels
    /// past the second get silence).
    pub fn channels(&self) -> u16 {
        self.config.channels()
    }

    /// The device's sample format.
    pub fn sample_format(&self) -> cpal::SampleFormat {
        self.config.sample_format()
    }

    /// The callback sizes (frames) the device accepts, if it says.
    pub fn buffer_range(&self) -> Option<(u32, u32)> {
        match self.config.buffer_size() {
            cpal::SupportedBufferSize::Range { min, max } => Some((*min, *max)),
            cpal::SupportedBufferSize::Unknown => None,
        }
    }

    /// The cpal device.
    pub fn device(&self) -> &cpal::Device {
        &self.device
    }

    pub(crate) fn stream_config(&self, buffer: cpal::BufferSize) -> cpal::StreamConfig {
        cpal::StreamConfig {
            channels: self.config.channels(),
            sample_rate: self.config.sample_rate(),
            buffer_size: buffer,
        }
    }
}

fn find(host: &cpal::Host, wanted: &str) -> Result<cpal::Device, LiveError> {
    // a default device that the host does not enumerate is still found by its id
    if let Some(d) = host.default_output_device() {
        if let Ok(id) = d.id() {
            let name = d.description().map(|d| d.name().to_string());
            if matches(wanted, &id, name.as_deref().unwrap_or("")) {
                return Ok(d);
            }
        }
    }
    let devices: Vec<cpal::Device> = host
        .output_devices()
        .map_err(|e| LiveError::Host(e.to_string()))?
        .collect();
    let mut ids = Vec::new();
    for d in devices {
        let Ok(id) = d.id() else { continue };
        let name = d.description().map(|d| d.name().to_string());
        if matches(wanted, &id, name.as_deref().unwrap_or("")) {
            return Ok(d);
        }
        ids.push(id.to_string());
    }
    Err(LiveError::NoSuchDevice {
        wanted: wanted.to_string(),
        available: if ids.is_empty() {
            "none".into()
        } else {
            ids.join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_parses_default_and_ids() {
        assert_eq!("default".parse::<DeviceChoice>(), Ok(DeviceChoice::Default));
        assert_eq!("".parse::<DeviceChoice>(), Ok(DeviceChoice::Default));
        assert_eq!(
            "alsa:hw:CARD=0,DEV=0".parse::<DeviceChoice>(),
            Ok(DeviceChoice::Id("alsa:hw:CARD=0,DEV=0".into()))
        );
        assert_eq!(DeviceChoice::Id("x".into()).to_string(), "x");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_device_matches_by_full_id_bare_id_or_name() {
        let id = cpal::DeviceId::new(cpal::HostId::Alsa, "hw:CARD=0,DEV=0");
        assert!(matches("alsa:hw:CARD=0,DEV=0", &id, "HDA"));
        assert!(matches("hw:CARD=0,DEV=0", &id, "HDA"));
        assert!(matches("HDA", &id, "HDA"));
        assert!(!matches("hw:CARD=1,DEV=0", &id, "HDA"));
    }
}
