//! [`FileStore`]: a log in one preallocated file, synced after every write (feature `std`).

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
/// # Layout: the log, then preallocated zeros
///
/// `log` holds the framed records from its start, then zero bytes up to the end of the file.
/// The log ends where [`log::decode_log`] stops, at the first frame that is not a whole, intact
/// record, and not at the end of the file: zeros are never a record, since the checksum covers
/// the length and the CRC-32 of four zero bytes is not zero.
///
/// An append writes its frame at the log's end, over zeros. Only when the frame would reach past
/// the end of the file does the same write carry on with zeros up to the next multiple of
/// [`CHUNK`](Self::CHUNK) bytes; so the file's size changes once per chunk, not at every append.
/// The reason is speed: an `fdatasync` after overwriting bytes that are already written and
/// allocated has no metadata to commit (on ext4, no journal commit), while one after a write
/// that grew the file must also commit the new size. The chunks are written as zeros, not left
/// as a hole by `set_len` nor reserved by `fallocate`: the first write into a hole allocates its
/// blocks, and the first write into `fallocate`d space converts its extents, both metadata
/// changes again (and `fallocate` is not in `std`). A file of the format without preallocation
/// (the framed records and nothing after them) is a log of this format too, with no space
/// ahead; its first append grows it to a chunk boundary.
///
/// [`len_bytes`](Self::len_bytes) is the log's length (its valid prefix),
/// [`allocated_bytes`](Self::allocated_bytes) the file's.
///
/// # Crash safety
///
/// With [`SyncMode::Data`] (the default), the log survives the process or the machine stopping
/// at any instant, given a file system on which `fsync` does what POSIX says and `rename`
/// within a directory is atomic (ext4, XFS, btrfs, APFS, ...). It rests on one invariant:
/// **every byte of the file after the log's end is zero** before an append is written there.
///
/// - **append**: the framed record is written at the log's end, then `fdatasync`ed; `Ok` comes
///   only after that, so a record reported written is on storage. Killed before, the bytes
///   after the log are all, part or none of the frame, with the zeros that were there (or, in
///   space the append was growing the file into, zeros or garbage on some file systems). Every
///   form of partial frame fails the length or checksum check, so the next load stops at the
///   previous record. A failed append (say a full disk) can leave a partial frame too.
/// - **repair of the tail**: at a load, and before the first append after an open or a failed
///   append, the store reads the whole file, and if any byte after the log's end is not zero
///   (a torn frame, a damaged record and the ones after it, or anything else), it overwrites
///   everything from the log's end to the last non-zero byte with zeros and syncs that before
///   going on. This restores the invariant, which is what makes reusing the space safe: an
///   append shorter than the torn frame it overwrites would otherwise leave the rest of that
///   frame right after it, where the next load looks for a record, and a torn record's bytes
///   can hold a valid frame (records are opaque), which would be read as a record never
///   appended. With zeros there, the newest record is followed by zeros, which end the log.
///   The whole tail is scanned, not only up to the first block of zeros, because a torn frame
///   (up to 64 KiB) may have unwritten, zero sectors with written ones after them.
/// - **replace**: the records are written to `log.tmp`, followed by zeros up to the next chunk
///   boundary, and the file is `fsync`ed, then renamed over `log`, then the directory is
///   `fsync`ed. Killed before the rename, `log` is the old log, untouched, and the leftover
///   `log.tmp` is deleted at the next open. The rename swaps the name atomically, so a reader
///   (or a reboot) sees either the old file or the new one, and the new one is complete on
///   storage, invariant included, before it can be seen. The directory `fsync` makes the swap
///   itself durable before `Ok`; killed before it, the reboot shows either log, both whole.
/// - **open**: creates the directory and `log` if missing and `fsync`s the directory (and the
///   parent of a directory it created), so that a log reported durable cannot vanish with its
///   directory entry.
///
/// A record damaged later on storage (bit rot) fails its checksum too: the load stops there and
/// zeroes it and everything after it, rather than return a wrong record.
///
/// With [`SyncMode::None`] the file's bytes are the same, but a power cut may lose any write,
/// in part, and the system may write back a later append before the zeros of a repair.
///
/// On systems other than Unix the directory is not `fsync`ed (there is no portable way), so a
/// rename or a new log is durable only once the file system gets to it.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// `log`, opened for reading and writing; `None` while it is being replaced, or if
    /// reopening it after a replace failed (it is then reopened at the next call).
    file: Option<File>,
    sync: SyncMode,
    /// Where the log ends, when known to be followed by zeros only (no torn tail): `None` after
    /// an open or a failed append, until the file is read and repaired.
    tail: Option<Tail>,
}

/// A log known to be followed by zeros only.
#[derive(Debug, Clone, Copy)]
struct Tail {
    /// The log's length: where the next record goes.
    end: u64,
    /// The file's length: zeros from `end` to there.
    allocated: u64,
}

impl FileStore {
    /// The name of the log file in the store's directory.
    pub const LOG_FILE: &'static str = "log";
    /// The name of the file the next log is written to before it replaces the log; one left
    /// over by a crash is deleted at open.
    pub const TMP_FILE: &'static str = "log.tmp";
    /// The file grows to multiples of this many bytes, written as zeros ahead of the log.
    ///
    /// 64 KiB: one size change per hundred or so 600-byte records, and no more than a chunk of
    /// zeros ahead of the log (the station's default store capacity is 64 KiB as well).
    pub const CHUNK: u64 = 64 * 1024;

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
            tail: None,
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

    /// The length of the log in bytes: its records, framed, and neither a torn tail nor the
    /// zeros preallocated after it (see [`allocated_bytes`](Self::allocated_bytes)).
    ///
    /// Reads the file if the store has not read it yet (nothing is written).
    pub fn len_bytes(&self) -> io::Result<u64> {
        match self.tail {
            Some(tail) => Ok(tail.end),
            None => {
                let bytes = fs::read(self.dir.join(Self::LOG_FILE))?;
                Ok(log::decode_log(&bytes).1 as u64)
            }
        }
    }

    /// The size of the log file in bytes: the log, then the zeros preallocated for the next
    /// appends (and a torn tail, until the next load or append zeroes it).
    pub fn allocated_bytes(&self) -> io::Result<u64> {
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

    /// Reads the log and, if any byte after it is not zero, zeroes the file from the log's end
    /// to its last non-zero byte and syncs that: the tail is then known to be zeros.
    fn read_and_repair(&mut self) -> io::Result<(Vec<Vec<u8>>, Tail)> {
        let file = self.file()?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        let (records, valid) = log::decode_log(&bytes);
        if let Some(last) = bytes[valid..].iter().rposition(|&byte| byte != 0) {
            write_zeros(file, valid as u64, (valid + last + 1) as u64)?;
            self.sync_file()?;
        }
        let tail = Tail {
            end: valid as u64,
            allocated: bytes.len() as u64,
        };
        self.tail = Some(tail);
        Ok((records, tail))
    }
}

/// The first multiple of [`FileStore::CHUNK`] above `end` (strictly, so that some space is
/// left): the length to preallocate a file to when its log ends at `end`.
fn allocation_after(end: u64) -> u64 {
    (end / FileStore::CHUNK + 1) * FileStore::CHUNK
}

/// Writes zeros over `from..to` of `file`.
fn write_zeros(file: &mut File, from: u64, to: u64) -> io::Result<()> {
    let zeros = [0; 4096];
    file.seek(SeekFrom::Start(from))?;
    let mut left = to - from;
    while left > 0 {
        let n = left.min(zeros.len() as u64);
        file.write_all(&zeros[..n as usize])?;
        left -= n;
    }
    Ok(())
}

/// Opens (or creates) the log in `dir` for reading and writing.
fn open_log(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(FileStore::LOG_FILE))
}

fn invalid_input(error: RecordTooLarge) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error)
}

impl Store for FileStore {
    type Error = io::Error;

    /// Reads the whole log; whatever follows it that is not zero (a torn or damaged tail) is
    /// overwritten with zeros, synced.
    fn load(&mut self) -> io::Result<Vec<Vec<u8>>> {
        Ok(self.read_and_repair()?.0)
    }

    /// Writes the framed record at the log's end, over preallocated zeros (first growing the
    /// file by zeros to the next chunk boundary, in the same write, if it would not fit), and
    /// `fdatasync`s it.
    fn append(&mut self, record: &[u8]) -> io::Result<()> {
        let mut frame = Vec::new();
        log::encode_record(record, &mut frame).map_err(invalid_input)?;
        let tail = match self.tail {
            Some(tail) => tail,
            None => self.read_and_repair()?.1,
        };
        let end = tail.end + frame.len() as u64;
        let allocated = if end > tail.allocated {
            let allocated = allocation_after(end);
            frame.resize((allocated - tail.end) as usize, 0);
            allocated
        } else {
            tail.allocated
        };
        // Until the frame is whole on storage, the log may be followed by part of it.
        self.tail = None;
        let file = self.file()?;
        file.seek(SeekFrom::Start(tail.end))?;
        file.write_all(&frame)?;
        self.sync_file()?;
        self.tail = Some(Tail { end, allocated });
        Ok(())
    }

    /// Writes `log.tmp` (the records, then zeros to the next chunk boundary), `fsync`s it,
    /// renames it over `log` and `fsync`s the directory.
    fn replace(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        log::check_records(records).map_err(invalid_input)?;
        let mut bytes = Vec::new();
        for record in records {
            log::encode_record(record, &mut bytes).map_err(invalid_input)?;
        }
        let end = bytes.len() as u64;
        let allocated = allocation_after(end);
        bytes.resize(allocated as usize, 0);
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
        self.tail = Some(Tail { end, allocated });
        self.sync_dir(&self.dir)?;
        self.file()?;
        Ok(())
    }
}
