//! The file store on a real file system: reopening, torn tails cut by hand, leftovers of an
//! interrupted replace.
#![cfg(feature = "std")]

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
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

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

#[test]
fn open_creates_the_directory_and_an_empty_log() {
    let dir = TempDir::new("create");
    let nested = dir.path().join("a").join("b");
    let mut store = FileStore::open(&nested).unwrap();
    assert_eq!(store.dir(), nested);
    assert!(nested.join(FileStore::LOG_FILE).is_file());
    assert_eq!(store.len_bytes().unwrap(), 0);
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
    assert_eq!(fs::read(dir.log()).unwrap(), framed(&written));
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
    drop(store);
    append_raw(&dir.log(), &framed(&records(&["torn"]))[..6]);
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"two").unwrap();
    assert_eq!(store.load().unwrap(), records(&["one", "two"]));
}

#[test]
fn a_zero_filled_or_damaged_tail_is_truncated() {
    let dir = TempDir::new("damaged");
    let mut store = FileStore::open(dir.path()).unwrap();
    store.append(b"one").unwrap();
    drop(store);
    let good = fs::metadata(dir.log()).unwrap().len();
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
    store.replace(&[]).unwrap();
    assert_eq!(store.len_bytes().unwrap(), 0);
    store.append(b"e").unwrap();
    assert_eq!(store.load().unwrap(), records(&["e"]));
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
    drop(store);
    assert_eq!(
        fs::read(dir.log()).unwrap(),
        framed(&records(&["two", "three", "four"]))
    );
}
