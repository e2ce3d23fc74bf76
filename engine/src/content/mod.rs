//! Curated content: sampled instruments and recorded loops from content libraries.
//!
//! A library is a TOML manifest ([`Manifest`]) naming audio files (WAV, FLAC, OGG Vorbis,
//! MP3) with their pitch, tempo, beats, loop points, key, loudness and tags. Presets ask
//! for content by tag (`[sound.pulse] instrument = ["piano"]`, `[sound.loops] tags =
//! ["calm"]`); [`ContentLibrary::load_for`] finds it, decodes it (symphonia), resamples it
//! to the engine's rate (rubato), transposes tuned loops to the preset's key and brings
//! every item to the library's loudness (EBU R128), all on the control thread before the
//! session starts. The bundled library (the Salamander Grand Piano subset and two loops
//! made from it) is compiled in.

mod bundled;
mod decode;
mod library;
mod loudness;
mod manifest;
mod pitch;
mod resample;
mod stream;

pub use decode::{decode_file, DecodeError, Decoded, PacketReader};
pub use isochord_dsp::music::transposition;
pub use library::{ContentLibrary, ContentNotice, LoadedContent, LoadedItem};
pub use loudness::{gain_to, integrated_lufs};
pub use manifest::{FollowMode, InstrumentEntry, LibraryInfo, LoopEntry, Manifest, Note, NoteFile};
pub use pitch::measure_pitch;
pub use resample::{resample, resample_loop, LOOP_PAD};
pub use stream::{
    file_loudness, FileStream, SetStream, StreamFailure, StreamFailures, StreamSet, WeakStreamSet,
    RING_SECONDS,
};
