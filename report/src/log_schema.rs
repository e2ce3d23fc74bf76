//! The session log's records.

/// Version of the log's record layout.
pub const LOG_FORMAT_VERSION: u32 = 1;
