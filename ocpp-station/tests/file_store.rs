//! The file store on a real file system: reopening, torn tails cut by hand (and then written
//! over by shorter records, in the preallocated space), leftovers of an interrupted replace,
//! files without preallocation.
#![cfg(feature = "std")]

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ocpp_station::store::log::{self, MAX_RECORD, RECORD_OVERHEAD};
use ocpp_station::store::{FileStore, Store, SyncMode, Write};

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "ocpp-station-file-store-{}-{unique}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn log(&self) -> PathBuf {
        self.0.join(FileStore::LOG_FILE)
    }

    fn tmp(&self) -> PathBuf {
        self.0.join(FileStore::TMP_FILE)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn records(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|name| name.as_bytes().to_vec()).collect()
}

fn framed(records: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        log::encode_record(record, &mut bytes).unwrap();
    }
    bytes
}

/// Writes `bytes` at the end of the file, past any preallocated zeros.
fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

/// Writes `bytes` at `offset` of the file, as a torn append would have.
fn write_raw_at(path: &Path, offset: u64, bytes: &[u8]) {
    let mut file = OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
}

/// Checks that the log file is `records`, framed, then zeros to a chunk boundary, and that the
/// store's lengths say so.
fn assert_file_is(store: &FileStore, path: &Path, records: &[Vec<u8>]) {
    let bytes = fs::read(path).unwrap();
    let log = framed(records);
    assert_eq!(bytes[..log.len()], log[..], "the log");
    assert!(
        bytes[log.len()..].iter().all(|&byte| byte == 0),
        "zeros after the log"
    );
    assert!(bytes.len() > log.len(), "space ahead of the log");
    assert_eq!(store.len_bytes().unwrap(), log.len() as u64);
    assert_eq!(store.allocated_bytes().unwrap(), bytes.len() as u64);
}

#[test]
fn open_creates_the_directory_and_an_empty_log() {
    let dir = TempDir::new("create");
    let nested = dir.path().join("a").join("b");
    let mut store = FileStore::open(&nested).unwrap();
    assert_eq!(store.dir(), nested);
    assert!(nested.join(FileStore::LOG_FILE).is_file());
    assert_eq!(store.len_bytes().unwrap(), 0);
    assert_eq!(store.allocated_bytes().unwrap(), 0);
    assert_eq!(store.load().unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn appends_load_back_across_reopen() {
    let dir = TempDir::new("reopen");
    let written = vec![
        b"one".to_vec(),
        vec![],
        vec![0xAB; 1000],
        vec![7; MAX_RECORD],
    ];
    {
        let mut store = FileStore::open(dir.path()).unwrap();
        for record in &written {
            store.append(record).unwrap();
        }
        assert_eq!(store.load().unwrap(), written);
    }
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), written);
    assert_file_is(&store, &dir.log(), &written);
    assert_eq!(
        store.len_bytes().unwrap(),
        (4 * RECORD_OVERHEAD + 3 + 1000 + MAX_RECORD) as u64
    );
    store.write(&Write::Append(b"more".to_vec())).unwrap();
    drop(store);
    let mut expected = written.clone();
    expected.push(b"more".to_vec());
    assert_eq!(
        FileStore::open(dir.path()).unwrap().load().unwrap(),
        expected
    );
}

#[test]
fn a_log_cut_anywhere_in_its_last_record_loads_the_previous_ones_and_appends_follow_them() {
    let dir = TempDir::new("cut");
    let before = records(&["first", "second"]);
    let last = vec![0x5A; 40];
    let mut full = before.clone();
    full.push(last);
    let bytes = framed(&full);
    let good = framed(&before).len();
    for cut in good..bytes.len() {
        fs::create_dir_all(dir.path()).unwrap();
        fs::write(dir.log(), &bytes[..cut]).unwrap();
        let mut store = FileStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), before, "cut at {cut}");
        assert_eq!(store.len_bytes().unwrap(), good as u64, "cut at {cut}");
        store.append(b"next").unwrap();
        drop(store);
        let mut expected = before.clone();
        expected.push(b"next".to_vec());
        let mut store = FileStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), expected, "cut at {cut}");
    }
}

#[test]
fn an_append_without_a_load_still_follows_the_last_good_record() {
    let dir = TempDir::new("append-first");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"one").unwrap();
    let end = store.len_bytes().unwrap();
    drop(store);
    // Torn right after the log, and at the end of the file, past the preallocated zeros.
    let torn = framed(&records(&["torn"]));
    write_raw_at(&dir.log(), end, &torn[..6]);
    append_raw(&dir.log(), &torn[..6]);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.len_bytes().unwrap(), end);
    store.append(b"two").unwrap();
    assert_eq!(store.load().unwrap(), records(&["one", "two"]));
    assert_file_is(&store, &dir.log(), &records(&["one", "two"]));
}

#[test]
fn a_zero_filled_or_damaged_tail_is_truncated() {
    let dir = TempDir::new("damaged");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"one").unwrap();
    let good = store.len_bytes().unwrap();
    drop(store);
    append_raw(&dir.log(), &[0; 64]);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), records(&["one"]));
    assert_eq!(store.len_bytes().unwrap(), good);

    // A flipped bit in the middle record: it and the one after are dropped, never misread.
    store.append(b"two").unwrap();
    store.append(b"three").unwrap();
    drop(store);
    let mut bytes = fs::read(dir.log()).unwrap();
    bytes[good as usize + RECORD_OVERHEAD + 1] ^= 0x10;
    fs::write(dir.log(), &bytes).unwrap();
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), records(&["one"]));
    assert_eq!(store.len_bytes().unwrap(), good);
    // The dropped records were zeroed, where the next appends go.
    assert!(
        fs::read(dir.log()).unwrap()[good as usize..]
            .iter()
            .all(|&byte| byte == 0)
    );
    store.append(b"four").unwrap();
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), records(&["one", "four"]));
}

#[test]
fn replace_then_reopen_gives_the_new_records_and_appends_go_to_the_new_log() {
    let dir = TempDir::new("replace");
    let mut store = FileStore::open(dir.path()).unwrap();
    for record in records(&["a", "b", "c"]) {
        store.append(&record).unwrap();
    }
    store
        .write(&Write::Replace(records(&["compacted", ""])))
        .unwrap();
    assert!(!dir.tmp().exists());
    assert_eq!(store.load().unwrap(), records(&["compacted", ""]));
    store.append(b"d").unwrap();
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), records(&["compacted", "", "d"]));
    assert_file_is(&store, &dir.log(), &records(&["compacted", "", "d"]));
    store.replace(&[]).unwrap();
    assert_eq!(store.len_bytes().unwrap(), 0);
    assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
    store.append(b"e").unwrap();
    assert_eq!(store.load().unwrap(), records(&["e"]));
    assert_file_is(&store, &dir.log(), &records(&["e"]));
    assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
}

#[test]
fn a_replace_interrupted_before_its_rename_leaves_the_old_log_and_its_leftover_is_removed() {
    let dir = TempDir::new("leftover");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"old").unwrap();
    drop(store);
    // What a crash while writing the next log leaves: part of it, or all of it, never renamed.
    let next = framed(&records(&["new", "log"]));
    for leftover in [&next[..5], &next[..]] {
        fs::write(dir.tmp(), leftover).unwrap();
        let mut store = FileStore::open(dir.path()).unwrap();
        assert!(!dir.tmp().exists());
        assert_eq!(store.load().unwrap(), records(&["old"]));
        store.append(b"after").unwrap();
        store.replace(&records(&["old"])).unwrap();
    }
}

#[test]
fn an_oversized_record_is_refused_and_nothing_written() {
    let dir = TempDir::new("oversized");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"kept").unwrap();
    let long = vec![1; MAX_RECORD + 1];
    assert_eq!(
        store.append(&long).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        store.replace(&[b"x".to_vec(), long]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(!dir.tmp().exists());
    assert_eq!(store.load().unwrap(), records(&["kept"]));
}

#[test]
fn without_sync_the_log_is_the_same() {
    let dir = TempDir::new("nosync");
    let mut store = FileStore::open_with(dir.path(), SyncMode::None).unwrap();
    store.append(b"one").unwrap();
    store.replace(&records(&["two", "three"])).unwrap();
    store.append(b"four").unwrap();
    assert_file_is(&store, &dir.log(), &records(&["two", "three", "four"]));
    drop(store);
    let mut store = FileStore::open_with(dir.path(), SyncMode::None).unwrap();
    assert_eq!(store.load().unwrap(), records(&["two", "three", "four"]));
}

#[test]
fn appends_after_reopen_go_right_after_the_log_in_the_preallocated_space() {
    let dir = TempDir::new("prealloc");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"one").unwrap();
    // The first append grew the empty file to one chunk; the second one only overwrote zeros.
    assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
    store.append(b"two").unwrap();
    assert_file_is(&store, &dir.log(), &records(&["one", "two"]));
    assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
    drop(store);

    for (i, next) in ["three", "", "four"].into_iter().enumerate() {
        let mut store = FileStore::open(dir.path()).unwrap();
        let mut expected = records(&["one", "two", "three", "", "four"][..2 + i]);
        assert_eq!(store.len_bytes().unwrap(), framed(&expected).len() as u64);
        // Every other time without a load first: the append finds the end all the same.
        if i % 2 == 0 {
            assert_eq!(store.load().unwrap(), expected);
        }
        store.append(next.as_bytes()).unwrap();
        expected.push(next.as_bytes().to_vec());
        assert_file_is(&store, &dir.log(), &expected);
        assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
    }
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(
        store.load().unwrap(),
        records(&["one", "two", "three", "", "four"])
    );
}

/// A record whose frame holds, `at` bytes from the frame's start, the frame of another record:
/// what a shorter record written over its torn start would leave right after itself, if the
/// torn bytes were not zeroed first.
fn record_hiding_a_frame(at: usize) -> Vec<u8> {
    let mut record = vec![0xA5; at - RECORD_OVERHEAD];
    record.extend_from_slice(&framed(&[b"phantom".to_vec()]));
    record.extend_from_slice(&[0x3C; 20]);
    record
}

#[test]
fn a_torn_frame_then_a_shorter_append_loads_exactly_the_records_written() {
    let dir = TempDir::new("torn-shorter");
    let before = records(&["before"]);
    let mut store = FileStore::open_with(dir.path(), SyncMode::None).unwrap();
    store.append(&before[0]).unwrap();
    let end = store.len_bytes().unwrap();
    drop(store);
    let pristine = fs::read(dir.log()).unwrap();

    let mut runs = 0;
    for shorter_len in [0, 1, 5, 100, 600] {
        let shorter: Vec<u8> = (0..shorter_len).map(|i| (i % 251) as u8 + 1).collect();
        let torn = framed(&[record_hiding_a_frame(RECORD_OVERHEAD + shorter_len)]);
        // The torn append wrote the first `cut` bytes of its frame, or all but the first `cut`
        // (sectors reach storage in any order); never all of it.
        for cut in 1..torn.len() {
            for (offset, bytes) in [(0, &torn[..cut]), (cut, &torn[cut..])] {
                fs::write(dir.log(), &pristine).unwrap();
                write_raw_at(&dir.log(), end + offset as u64, bytes);
                let mut store = FileStore::open_with(dir.path(), SyncMode::None).unwrap();
                assert_eq!(store.len_bytes().unwrap(), end);
                if runs % 2 == 0 {
                    assert_eq!(store.load().unwrap(), before);
                }
                store.append(&shorter).unwrap();
                let mut expected = before.clone();
                expected.push(shorter.clone());
                assert_file_is(&store, &dir.log(), &expected);
                drop(store);
                let mut store = FileStore::open_with(dir.path(), SyncMode::None).unwrap();
                assert_eq!(
                    store.load().unwrap(),
                    expected,
                    "shorter record of {shorter_len} bytes, torn frame cut at {cut}, {} kept",
                    if offset == 0 { "start" } else { "end" }
                );
                runs += 1;
            }
        }
    }
    assert!(runs > 1500);
}

#[test]
fn a_frame_left_anywhere_after_the_log_is_zeroed_before_appending() {
    // Past a whole block of zeros too: a torn frame of up to 64 KiB may have unwritten sectors
    // in its middle.
    let dir = TempDir::new("far-tail");
    for distance in [4096, 5000, 60_000] {
        let mut store = FileStore::open(dir.path()).unwrap();
        store.replace(&records(&["first"])).unwrap();
        let end = store.len_bytes().unwrap();
        drop(store);
        write_raw_at(&dir.log(), end + distance, &framed(&[b"phantom".to_vec()]));
        let mut store = FileStore::open(dir.path()).unwrap();
        // A record ending exactly where the stale frame starts.
        let filler = vec![9; distance as usize - RECORD_OVERHEAD];
        store.append(&filler).unwrap();
        drop(store);
        let mut store = FileStore::open(dir.path()).unwrap();
        assert_eq!(
            store.load().unwrap(),
            vec![b"first".to_vec(), filler.clone()],
            "stale frame {distance} bytes after the log"
        );
    }
}

#[test]
fn appends_crossing_the_end_of_the_file_grow_it_by_whole_chunks() {
    let dir = TempDir::new("chunks");
    let mut store = FileStore::open(dir.path()).unwrap();
    let mut written: Vec<Vec<u8>> = Vec::new();
    let mut allocated = 0;
    let mut grown = 0;
    // Records of 1000 bytes, which straddle chunk boundaries, and one of the maximum size,
    // longer than a chunk.
    let lengths = (0..140).map(|i| if i == 100 { MAX_RECORD } else { 1000 });
    for (i, len) in lengths.enumerate() {
        let record = vec![(i % 200) as u8 + 1; len];
        let end = framed(&written).len() as u64 + (RECORD_OVERHEAD + len) as u64;
        store.append(&record).unwrap();
        written.push(record);
        if end > allocated {
            allocated = (end / FileStore::CHUNK + 1) * FileStore::CHUNK;
            grown += 1;
        }
        assert_eq!(store.allocated_bytes().unwrap(), allocated, "append {i}");
        assert_eq!(store.len_bytes().unwrap(), end, "append {i}");
    }
    assert_eq!(grown, 4);
    assert_eq!(allocated, 4 * FileStore::CHUNK);
    assert_file_is(&store, &dir.log(), &written);
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), written);

    // A torn frame that was growing the file, past the end of its last chunk: zeroed, and
    // the space it grew into kept.
    let end = store.len_bytes().unwrap();
    let torn = framed(&[vec![0x77; (allocated - end) as usize + 500]]);
    write_raw_at(&dir.log(), end, &torn[..torn.len() - 100]);
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), written);
    let torn_allocated = end + (torn.len() - 100) as u64;
    assert_eq!(store.allocated_bytes().unwrap(), torn_allocated);
    store.append(b"short").unwrap();
    written.push(b"short".to_vec());
    assert_file_is(&store, &dir.log(), &written);
    assert_eq!(store.allocated_bytes().unwrap(), torn_allocated);
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), written);

    // A record longer than a chunk, from the start of a file: two chunks at once.
    store.replace(&[]).unwrap();
    store.append(&[3; MAX_RECORD]).unwrap();
    assert_file_is(&store, &dir.log(), &[vec![3; MAX_RECORD]]);
    assert_eq!(store.allocated_bytes().unwrap(), 2 * FileStore::CHUNK);
}

#[test]
fn a_file_without_preallocation_loads_and_appends() {
    // The format before preallocation: the framed records and nothing after them.
    let dir = TempDir::new("old-format");
    let old = vec![b"one".to_vec(), vec![], vec![0xEE; 3000]];
    fs::create_dir_all(dir.path()).unwrap();
    fs::write(dir.log(), framed(&old)).unwrap();
    let mut store = FileStore::open(dir.path()).unwrap();
    let len = framed(&old).len() as u64;
    assert_eq!(store.len_bytes().unwrap(), len);
    assert_eq!(store.allocated_bytes().unwrap(), len);
    assert_eq!(store.load().unwrap(), old);
    assert_eq!(fs::read(dir.log()).unwrap(), framed(&old));

    store.append(b"new").unwrap();
    let mut expected = old.clone();
    expected.push(b"new".to_vec());
    assert_file_is(&store, &dir.log(), &expected);
    assert_eq!(store.allocated_bytes().unwrap(), FileStore::CHUNK);
    store.append(b"newer").unwrap();
    expected.push(b"newer".to_vec());
    assert_file_is(&store, &dir.log(), &expected);
    drop(store);
    let mut store = FileStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), expected);
}
