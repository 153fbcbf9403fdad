//! [`FileStore`]: a log in one file, synced after every write (feature `std`).

use alloc::vec::Vec;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use super::Store;
use super::log::{self, RecordTooLarge};

/// Whether a [`FileStore`] waits for its writes to reach storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// `fdatasync` the log after every write and `fsync` the directory after every rename or
    /// creation: a write is durable when it returns `Ok`. The default.
    #[default]
    Data,
    /// Never sync: writes reach the operating system but may be lost, in part, by a power cut
    /// (a process crash loses nothing). Only for tests and throwaway data.
    None,
}

/// A [`Store`] in one file, `log`, in a directory of its own, framed as [`log`] describes.
///
/// Errors are the [`io::Error`]s of the file system; a record over [`log::MAX_RECORD`] is
/// refused with [`io::ErrorKind::InvalidInput`] before anything is written. One `FileStore` at
/// a time may use a directory (nothing prevents a second one, which would corrupt the log).
///
/// # Crash safety
///
/// With [`SyncMode::Data`] (the default), the log survives the process or the machine stopping
/// at any instant, given a file system on which `fsync` does what POSIX says and `rename`
/// within a directory is atomic (ext4, XFS, btrfs, APFS, ...):
///
/// - **append**: the framed record is written at the end of `log`, then `fdatasync`ed; `Ok`
///   comes only after that, so a record reported written is on storage. Killed before, `log`
///   ends with all, part or none of the frame (or, on some file systems, zeros). Every form of
///   partial frame fails the length or checksum check, so the next load takes the log up to
///   the previous record and truncates the tail, and the next append follows the last good
///   record. A failed append (say a full disk) can leave a partial frame too: the store then
///   truncates before its next append.
/// - **replace**: the records are written to `log.tmp`, which is `fsync`ed, then renamed over
///   `log`, then the directory is `fsync`ed. Killed before the rename, `log` is the old log,
///   untouched, and the leftover `log.tmp` is deleted at the next open. The rename swaps the
///   name atomically, so a reader (or a reboot) sees either the old file or the new one, and
///   the new one is complete on storage before it can be seen. The directory `fsync` makes the
///   swap itself durable before `Ok`; killed before it, the reboot shows either log, both whole.
/// - **open**: creates the directory and `log` if missing and `fsync`s the directory (and the
///   parent of a directory it created), so that a log reported durable cannot vanish with its
///   directory entry.
///
/// A record damaged later on storage (bit rot) fails its checksum too: the load stops there and
/// truncates it and everything after it, rather than return a wrong record.
///
/// On systems other than Unix the directory is not `fsync`ed (there is no portable way), so a
/// rename or a new log is durable only once the file system gets to it.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// `log`, opened for reading and appending; `None` while it is being replaced, or if
    /// reopening it after a replace failed (it is then reopened at the next call).
    file: Option<File>,
    sync: SyncMode,
    /// Whether the file is known to end after the last good record (no torn tail).
    clean: bool,
}

impl FileStore {
    /// The name of the log file in the store's directory.
    pub const LOG_FILE: &'static str = "log";
    /// The name of the file the next log is written to before it replaces the log; one left
    /// over by a crash is deleted at open.
    pub const TMP_FILE: &'static str = "log.tmp";

    /// Opens the store in `dir` with [`SyncMode::Data`], creating the directory and an empty
    /// log if missing, and deleting a leftover [`TMP_FILE`](Self::TMP_FILE).
    pub fn open(dir: impl AsRef<Path>) -> io::Result<Self> {
        Self::open_with(dir, SyncMode::Data)
    }

    /// Opens the store in `dir`, as [`open`](Self::open) does, syncing as `sync` says.
    pub fn open_with(dir: impl AsRef<Path>, sync: SyncMode) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let created = !dir.is_dir();
        fs::create_dir_all(&dir)?;
        match fs::remove_file(dir.join(Self::TMP_FILE)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let file = open_log(&dir)?;
        let store = Self {
            dir,
            file: Some(file),
            sync,
            clean: false,
        };
        store.sync_dir(&store.dir)?;
        if created {
            match store.dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => store.sync_dir(parent)?,
                _ => store.sync_dir(Path::new("."))?,
            }
        }
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size of the log file in bytes, torn tail included if it was not truncated yet.
    pub fn len_bytes(&self) -> io::Result<u64> {
        Ok(fs::metadata(self.dir.join(Self::LOG_FILE))?.len())
    }

    /// The open log file, reopened if a replace left none.
    fn file(&mut self) -> io::Result<&mut File> {
        let file = match self.file.take() {
            Some(file) => file,
            None => open_log(&self.dir)?,
        };
        Ok(self.file.insert(file))
    }

    fn sync_file(&mut self) -> io::Result<()> {
        match self.sync {
            SyncMode::Data => self.file()?.sync_data(),
            SyncMode::None => Ok(()),
        }
    }

    /// Makes the entries of `dir` (creations, renames) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        match self.sync {
            #[cfg(unix)]
            SyncMode::Data => File::open(dir)?.sync_all(),
            #[cfg(not(unix))]
            SyncMode::Data => {
                let _ = dir;
                Ok(())
            }
            SyncMode::None => Ok(()),
        }
    }

    /// Reads the log and truncates a torn or damaged tail, if any.
    fn read_and_truncate(&mut self) -> io::Result<Vec<Vec<u8>>> {
        let file = self.file()?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        let (records, valid) = log::decode_log(&bytes);
        if valid < bytes.len() {
            file.set_len(valid as u64)?;
            self.sync_file()?;
        }
        self.clean = true;
        Ok(records)
    }
}

/// Opens (or creates) the log in `dir` for reading and appending.
fn open_log(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(dir.join(FileStore::LOG_FILE))
}

fn invalid_input(error: RecordTooLarge) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error)
}

impl Store for FileStore {
    type Error = io::Error;

    /// Reads the whole log; a torn or damaged tail is truncated (and the truncation synced).
    fn load(&mut self) -> io::Result<Vec<Vec<u8>>> {
        self.read_and_truncate()
    }

    /// Writes the framed record at the end of the log and `fdatasync`s it.
    fn append(&mut self, record: &[u8]) -> io::Result<()> {
        let mut frame = Vec::new();
        log::encode_record(record, &mut frame).map_err(invalid_input)?;
        if !self.clean {
            self.read_and_truncate()?;
        }
        // Until the frame is whole on storage, the file may end in part of it.
        self.clean = false;
        self.file()?.write_all(&frame)?;
        self.sync_file()?;
        self.clean = true;
        Ok(())
    }

    /// Writes `log.tmp`, `fsync`s it, renames it over `log` and `fsync`s the directory.
    fn replace(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        log::check_records(records).map_err(invalid_input)?;
        let mut bytes = Vec::new();
        for record in records {
            log::encode_record(record, &mut bytes).map_err(invalid_input)?;
        }
        let tmp = self.dir.join(Self::TMP_FILE);
        let mut next = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        next.write_all(&bytes)?;
        if self.sync == SyncMode::Data {
            next.sync_all()?;
        }
        drop(next);
        // Close the old log before renaming over it (some systems refuse to replace an open
        // file); the next call reopens whichever file is `log` by then.
        self.file = None;
        fs::rename(&tmp, self.dir.join(Self::LOG_FILE))?;
        self.clean = true;
        self.sync_dir(&self.dir)?;
        self.file()?;
        Ok(())
    }
}
