//! Opening output files (WAV renders and recordings, session logs, report files) by one
//! set of rules:
//!
//! - `-`, `/dev/stdout`, `/dev/fd/N`, a character device or a FIFO is written straight
//!   into (so `--out - | aplay` and `--out /dev/stdout` work in pipes);
//! - a symbolic link is followed, and the file it points to is what gets written;
//! - a regular file that already exists is replaced only when the caller allows it
//!   ([`Existing::Replace`], the command line's `--force`);
//! - anything else (a directory, a block device, a socket) is refused;
//! - a finished temporary file is never renamed over anything but a regular file.
//!
//! Temporary files are hidden beside their destination and carry the writing process's
//! id (`.NAME.PID.N.partial`), so a later run can tell the leftovers of a killed run
//! (whose process is gone) from a run still writing: [`clean_leftovers`].
//!
//! Everything here runs on control or writer threads, never on the audio thread.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether an existing regular file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to write over it (the default on the command line).
    Refuse,
    /// Replace it (`--force`, and derived files such as a report's).
    Replace,
}

impl Existing {
    /// [`Existing::Replace`] when `force`, else [`Existing::Refuse`].
    pub fn from_force(force: bool) -> Self {
        if force {
            Existing::Replace
        } else {
            Existing::Refuse
        }
    }
}

/// Where an output goes, once resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A regular file at this path (symbolic links resolved; it may not exist yet):
    /// written to a hidden temporary file beside it and renamed into place when complete.
    File(PathBuf),
    /// Written straight into: standard output (`-`), a character device or a FIFO.
    Stream(PathBuf),
}

impl Target {
    /// The path to report to the user.
    pub fn path(&self) -> &Path {
        match self {
            Target::File(p) | Target::Stream(p) => p,
        }
    }

    /// Whether this is the process's standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Target::Stream(p) if is_stdout_path(p))
    }
}

/// An output that cannot be written: the path and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct OutputError {
    /// The path as given.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl OutputError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

fn is_stdout_path(p: &Path) -> bool {
    let s = p.as_os_str();
    s == "-" || s == "/dev/stdout" || s == "/dev/fd/1" || s == "/proc/self/fd/1"
}

/// An already-open file descriptor named by path (`/dev/stderr`, `/dev/fd/N`,
/// `/proc/self/fd/N`): written into whatever it is.
fn is_fd_path(p: &Path) -> bool {
    is_stdout_path(p)
        || p == Path::new("/dev/stderr")
        || p.starts_with("/dev/fd/")
        || p.starts_with("/proc/self/fd/")
}

/// Resolves `path` by the module's rules. Control thread.
pub fn resolve(path: &Path, existing: Existing) -> Result<Target, OutputError> {
    if path.as_os_str().is_empty() {
        return Err(OutputError::new(path, "an empty file name"));
    }
    if is_fd_path(path) {
        return Ok(Target::Stream(path.to_path_buf()));
    }
    let link = fs::symlink_metadata(path);
    let followed = match &link {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return new_file(path, path);
        }
        Err(e) => return Err(OutputError::new(path, e.to_string())),
        Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // a link to a file that does not exist yet: create the file it names
                let target = link_target(path)?;
                return new_file(path, &target);
            }
            Err(e) => return Err(OutputError::new(path, e.to_string())),
        },
        Ok(m) => m.clone(),
    };
    let kind = kind_of(&followed);
    match kind {
        Kind::Regular => {
            if existing == Existing::Refuse {
                return Err(OutputError::new(
                    path,
                    "already exists; give --force to replace it",
                ));
            }
            let real = fs::canonicalize(path).map_err(|e| OutputError::new(path, e.to_string()))?;
            Ok(Target::File(real))
        }
        Kind::Stream => Ok(Target::Stream(path.to_path_buf())),
        Kind::Other(what) => Err(OutputError::new(
            path,
            match what {
                "a directory" => "is a directory; give a file name such as session.wav".into(),
                w => format!("is {w}: only regular files, character devices and FIFOs are written"),
            },
        )),
    }
}

/// Checks `path` by [`resolve`] without opening anything (for refusing early, before a
/// session starts). Control thread.
pub fn check(path: &Path, existing: Existing) -> Result<Target, OutputError> {
    resolve(path, existing)
}

enum Kind {
    Regular,
    Stream,
    Other(&'static str),
}

fn kind_of(m: &fs::Metadata) -> Kind {
    let t = m.file_type();
    if t.is_file() {
        return Kind::Regular;
    }
    if t.is_dir() {
        return Kind::Other("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_fifo() {
            return Kind::Stream;
        }
        if t.is_block_device() {
            return Kind::Other("a block device");
        }
        if t.is_socket() {
            return Kind::Other("a socket");
        }
    }
    Kind::Other("not a regular file")
}

/// The final target of a chain of symbolic links that ends at a missing file.
fn link_target(path: &Path) -> Result<PathBuf, OutputError> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = fs::read_link(&p).map_err(|e| OutputError::new(path, e.to_string()))?;
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(OutputError::new(path, "too many levels of symbolic links"))
}

fn new_file(_given: &Path, path: &Path) -> Result<Target, OutputError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(OutputError::new(&parent, "the directory does not exist"));
    }
    Ok(Target::File(path.to_path_buf()))
}

/// Opens a stream target for writing (standard output is duplicated, so closing the
/// returned file leaves the process's own handle open). Control or writer thread.
pub fn open_stream(path: &Path) -> Result<File, OutputError> {
    if is_stdout_path(path) {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| OutputError::new(path, e.to_string()))?;
            return Ok(File::from(fd));
        }
    }
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| OutputError::new(path, e.to_string()))
}

/// Opens `path` for writing in place (no temporary file): for outputs written as they
/// go, such as a session log, whose every flushed line must survive a killed process.
/// Returns the file and where it went. Control thread.
pub fn open_direct(path: &Path, existing: Existing) -> Result<(File, Target), OutputError> {
    let target = resolve(path, existing)?;
    let file = match &target {
        Target::Stream(p) => open_stream(p)?,
        Target::File(p) => {
            let mut o = OpenOptions::new();
            o.write(true).truncate(true);
            if existing == Existing::Refuse {
                o.create_new(true);
            } else {
                o.create(true);
            }
            o.open(p)
                .map_err(|e| OutputError::new(path, e.to_string()))?
        }
    };
    Ok((file, target))
}

/// The hidden temporary file beside `dest` for part `part` of this process's output.
pub fn partial_path(dest: &Path, part: usize) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dest.with_file_name(format!(".{name}.{}.{part}.partial", std::process::id()))
}

/// Moves a finished temporary file to `dest`, refusing when `dest` has meanwhile become
/// something other than a regular file (it is never replaced). Control or writer thread.
pub fn rename_into_place(from: &Path, dest: &Path) -> Result<(), OutputError> {
    match fs::symlink_metadata(dest) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(OutputError::new(
                dest,
                format!(
                    "is no longer a regular file; not replaced (the output is kept as {})",
                    from.display()
                ),
            ));
        }
        _ => {}
    }
    fs::rename(from, dest).map_err(|e| OutputError::new(dest, e.to_string()))
}

/// Writes `bytes` to `path` whole: a regular file through a temporary file renamed into
/// place, a device or FIFO straight. Control thread.
pub fn write_whole(path: &Path, bytes: &[u8], existing: Existing) -> Result<PathBuf, OutputError> {
    match resolve(path, existing)? {
        Target::Stream(p) => {
            let mut f = open_stream(&p)?;
            f.write_all(bytes)
                .and_then(|()| f.flush())
                .map_err(|e| OutputError::new(path, e.to_string()))?;
            Ok(p)
        }
        Target::File(p) => {
            let tmp = partial_path(&p, 1);
            let r = File::create(&tmp)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_data()))
                .map_err(|e| OutputError::new(path, e.to_string()));
            if let Err(e) = r {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            if let Err(e) = rename_into_place(&tmp, &p) {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            Ok(p)
        }
    }
}

/// What [`clean_leftovers`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Temporary files of runs that are no longer running, removed (path, bytes).
    pub removed: Vec<(PathBuf, u64)>,
    /// Temporary files that were kept: a run still writing them, or of unknown origin.
    pub kept: Vec<PathBuf>,
}

impl Leftovers {
    /// One line per finding, for the user (empty when nothing was found).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.removed.is_empty() {
            let bytes: u64 = self.removed.iter().map(|(_, b)| b).sum();
            let names: Vec<String> = self
                .removed
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            notes.push(format!(
                "removed {} unfinished file{} ({:.1} MB) left by a run that was killed: {}",
                self.removed.len(),
                if self.removed.len() == 1 { "" } else { "s" },
                bytes as f64 / 1e6,
                names.join(", ")
            ));
        }
        for k in &self.kept {
            notes.push(format!(
                "an unfinished file of another run is there: {} (kept; remove it if no run is writing it)",
                k.display()
            ));
        }
        notes
    }
}

/// Looks in the folder `dest` will be written to for hidden `.partial` files. Those of
/// a process that no longer runs (a killed run) are removed; those of a running process,
/// or whose process cannot be told, are listed. Control thread.
pub fn clean_leftovers(dest: &Path) -> Leftovers {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut found = Leftovers::default();
    let Ok(entries) = fs::read_dir(&dir) else {
        return found;
    };
    let can_tell = Path::new("/proc/self").exists();
    let me = std::process::id();
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.ends_with(".partial")) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        // .NAME.PID.PART.partial
        let fields: Vec<&str> = name.trim_end_matches(".partial").rsplit('.').collect();
        let pid = (fields.len() >= 3 && fields[0].parse::<u64>().is_ok())
            .then(|| fields[1].parse::<u32>().ok())
            .flatten();
        match pid {
            Some(p) if p == me => {}
            Some(p) if can_tell && !Path::new(&format!("/proc/{p}")).exists() => {
                if fs::remove_file(e.path()).is_ok() {
                    found.removed.push((e.path(), meta.len()));
                } else {
                    found.kept.push(e.path());
                }
            }
            _ => found.kept.push(e.path()),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_existing_and_forced_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        assert_eq!(
            resolve(&p, Existing::Refuse).unwrap(),
            Target::File(p.clone())
        );
        fs::write(&p, b"x").unwrap();
        let e = resolve(&p, Existing::Refuse).unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        let real = fs::canonicalize(&p).unwrap();
        assert_eq!(resolve(&p, Existing::Replace).unwrap(), Target::File(real));
        let missing = dir.path().join("no/a.wav");
        assert!(resolve(&missing, Existing::Replace)
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
        assert!(resolve(dir.path(), Existing::Replace)
            .unwrap_err()
            .to_string()
            .contains("directory"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_fifos_streamed_sockets_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.wav");
        let link = dir.path().join("link.wav");
        std::os::unix::fs::symlink("target.wav", &link).unwrap();
        // a dangling link: the file it names is created
        assert_eq!(
            resolve(&link, Existing::Refuse).unwrap(),
            Target::File(target.clone())
        );
        fs::write(&target, b"x").unwrap();
        assert_eq!(
            resolve(&link, Existing::Replace).unwrap(),
            Target::File(fs::canonicalize(&target).unwrap())
        );
        let fifo = dir.path().join("fifo.wav");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(ok.success());
        assert_eq!(
            resolve(&fifo, Existing::Refuse).unwrap(),
            Target::Stream(fifo.clone())
        );
        let sock = dir.path().join("s.sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(resolve(&sock, Existing::Replace)
            .unwrap_err()
            .to_string()
            .contains("socket"));
        assert!(resolve(Path::new("-"), Existing::Refuse)
            .unwrap()
            .is_stdout());
    }

    #[test]
    fn leftovers_of_dead_processes_are_removed_live_ones_kept() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // a process id that does not run: a child that has exited and been reaped
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let gone = dir.path().join(format!(".x.wav.{dead}.1.partial"));
        fs::write(&gone, vec![0u8; 1000]).unwrap();
        let running = dir.path().join(format!(".y.wav.{}.1.partial", 1));
        fs::write(&running, b"y").unwrap();
        let mine = partial_path(&dir.path().join("z.wav"), 1);
        fs::write(&mine, b"z").unwrap();
        let old = dir.path().join(".w.wav.1.partial");
        fs::write(&old, b"w").unwrap();
        let found = clean_leftovers(&dir.path().join("new.wav"));
        assert_eq!(found.removed, vec![(gone.clone(), 1000)]);
        assert!(!gone.exists());
        assert_eq!(found.kept, vec![old.clone(), running.clone()]);
        assert!(mine.exists() && running.exists() && old.exists());
        let notes = found.notes().join("\n");
        assert!(notes.contains("removed 1 unfinished file"), "{notes}");
    }
}
