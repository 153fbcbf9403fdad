//! The file-backed flash (feature `std`): NOR semantics, a store across reopens, and a store
//! across process kills.
#![cfg(feature = "std")]

#[path = "flash/support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use embedded_storage_async::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use ocpp_embedded::flash::{FileFlash, FlashStore};
use ocpp_station::store::Write;
use support::{apply, block_on, load, record, write};

/// 16 pages of 1 KiB, 4-byte words.
type Flash = FileFlash<1024, 4>;

/// A fresh path in the temporary directory for `name`.
fn temp_path(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("ocpp-embedded-{name}-{}.flash", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn store(path: &Path) -> FlashStore<Flash> {
    let flash = Flash::open(path, 16).unwrap();
    FlashStore::new(flash, 0..16 * 1024).unwrap()
}

#[test]
fn the_file_behaves_as_nor_flash() {
    let path = temp_path("nor");
    let mut flash = Flash::open(&path, 2).unwrap();
    assert_eq!(flash.capacity(), 2048);
    assert_eq!(std::fs::read(&path).unwrap(), vec![0xFF; 2048]);
    let mut bytes = [0; 8];
    block_on(flash.write(4, &[0x0F, 0xF0, 0x55, 0xAA])).unwrap();
    // Writing again only clears more bits.
    block_on(flash.write(4, &[0xFF, 0x00, 0xF0, 0xFF])).unwrap();
    block_on(flash.read(2, &mut bytes)).unwrap();
    assert_eq!(bytes, [0xFF, 0xFF, 0x0F, 0x00, 0x50, 0xAA, 0xFF, 0xFF]);
    block_on(flash.erase(0, 1024)).unwrap();
    block_on(flash.read(2, &mut bytes)).unwrap();
    assert_eq!(bytes, [0xFF; 8]);
    let kind =
        |result: Result<(), ocpp_embedded::flash::FileFlashError>| result.unwrap_err().kind();
    assert_eq!(
        kind(block_on(flash.write(2, &[0; 4]))),
        NorFlashErrorKind::NotAligned
    );
    assert_eq!(
        kind(block_on(flash.write(4, &[0; 3]))),
        NorFlashErrorKind::NotAligned
    );
    assert_eq!(
        kind(block_on(flash.erase(0, 100))),
        NorFlashErrorKind::NotAligned
    );
    assert_eq!(
        kind(block_on(flash.write(2048, &[0; 4]))),
        NorFlashErrorKind::OutOfBounds
    );
    assert_eq!(
        kind(block_on(flash.erase(1024, 3072))),
        NorFlashErrorKind::OutOfBounds
    );
    assert_eq!(
        kind(block_on(flash.read(2047, &mut bytes))),
        NorFlashErrorKind::OutOfBounds
    );
    drop(flash);
    // A file made for more pages is refused; one made for fewer is extended, erased.
    assert!(Flash::open(&path, 1).is_err());
    let flash = Flash::open(&path, 3).unwrap();
    assert_eq!(flash.capacity(), 3072);
    assert_eq!(std::fs::read(&path).unwrap()[2048..], [0xFF; 1024]);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_store_in_a_file_survives_reopening() {
    let path = temp_path("reopen");
    let mut model = Vec::new();
    for round in 0..6u8 {
        let mut store = store(&path);
        assert_eq!(load(&mut store).unwrap(), model, "round {round}");
        for i in 0..30u8 {
            let w = if i % 10 == 9 {
                Write::Replace(model[model.len().saturating_sub(5)..].to_vec())
            } else {
                Write::Append(record(usize::from(i) * 7 % 90, round.wrapping_mul(31) ^ i))
            };
            write(&mut store, &w).unwrap();
            apply(&mut model, &w);
        }
    }
    std::fs::remove_file(&path).unwrap();
}

/// The environment variable that makes `kill_test_writer` run (as a child of the kill test).
const WRITER_FILE: &str = "OCPP_EMBEDDED_FLASH_WRITER_FILE";

/// The writer: appends the records "0", "1", ... (going on from what the file holds), now and
/// then replaces the log with its last ten records, and prints each number once its write
/// returned; `limit` numbers, or for ever.
fn write_numbers(path: &Path, limit: Option<u64>) -> Vec<Vec<u8>> {
    let mut store = store(path);
    let mut log = load(&mut store).unwrap();
    let mut next = log.last().map_or(0, |last| number(last) + 1);
    while limit.is_none_or(|limit| next < limit) {
        let new = next.to_string().into_bytes();
        let w = if next % 25 == 24 {
            let mut kept = log[log.len().saturating_sub(10)..].to_vec();
            kept.push(new);
            Write::Replace(kept)
        } else {
            Write::Append(new)
        };
        write(&mut store, &w).unwrap();
        apply(&mut log, &w);
        println!("{next}");
        next += 1;
    }
    log
}

/// The kill test's child process when `WRITER_FILE` is set (it runs until killed); on its own,
/// the same writer for 100 numbers, whose log must read back as what it wrote.
#[test]
fn kill_test_writer() {
    if let Ok(path) = std::env::var(WRITER_FILE) {
        write_numbers(&PathBuf::from(path), None);
        return;
    }
    let path = temp_path("writer");
    let written = write_numbers(&path, Some(100));
    let read = load(&mut store(&path)).unwrap();
    assert_eq!(read, written);
    assert_eq!(read.last().map(|r| number(r)), Some(99));
    std::fs::remove_file(&path).unwrap();
}

fn number(record: &[u8]) -> u64 {
    std::str::from_utf8(record).unwrap().parse().unwrap()
}

#[test]
fn a_store_in_a_file_survives_the_process_being_killed() {
    let path = temp_path("kill");
    let mut acknowledged: Option<u64> = None;
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill_test_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_FILE, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Read as the child writes, so it never waits for the pipe: the kill lands wherever
        // the writer is, most likely in a flash operation.
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                // The first number follows libtest's "test kill_test_writer ... " on its line.
                let line = line.unwrap();
                if let Some(Ok(n)) = line.split_whitespace().last().map(str::parse::<u64>) {
                    last = Some(n);
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(150 + 37 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        if let Some(n) = reader.join().unwrap() {
            acknowledged = Some(n);
        }
        let mut store = store(&path);
        let log: Vec<u64> = load(&mut store)
            .unwrap()
            .iter()
            .map(|r| number(r))
            .collect();
        // Consecutive numbers, ending with the last one acknowledged or the one after it (its
        // write had reached the flash when the process was killed).
        assert!(
            log.windows(2).all(|pair| pair[1] == pair[0] + 1),
            "round {round}: {log:?}"
        );
        if let Some(acknowledged) = acknowledged {
            let last = *log.last().unwrap();
            assert!(
                last == acknowledged || last == acknowledged + 1,
                "round {round}: {acknowledged} acknowledged, the log ends at {last}"
            );
        }
    }
    assert!(acknowledged.is_some_and(|n| n > 50), "{acknowledged:?}");
    std::fs::remove_file(&path).unwrap();
}
