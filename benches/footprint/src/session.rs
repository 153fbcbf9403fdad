//! One scripted 2.0.1 charging session against canned CSMS answers, shared by the firmware
//! and the host build. The CSMS side is byte scanning, not a second OCPP stack, so what the
//! firmware links is the station's part only.

use alloc::vec::Vec;
use core::hint::black_box;

use ocpp_rpc::Millis;
use ocpp_station::store::Store;
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, ResetKind, Station, StationConfig,
    UnlockResult,
};
use ocpp_types::OcppVersion;

/// Hardware whose effects the optimizer cannot see through.
pub struct Board;

impl Hardware for Board {
    fn set_energy(&mut self, connector: ConnectorId, on: bool) {
        black_box((connector, on));
    }
    fn unlock(&mut self, connector: ConnectorId) -> UnlockResult {
        black_box(connector);
        UnlockResult::Unlocked
    }
    fn reset(&mut self, kind: ResetKind) {
        black_box(kind);
    }
}

/// A store in a fixed buffer outside the heap, as flash is: the heap figures are the
/// station's own, not its log's.
pub struct FixedStore {
    bytes: [u8; 16 * 1024],
    len: usize,
}

impl FixedStore {
    pub const fn new() -> FixedStore {
        FixedStore { bytes: [0; 16 * 1024], len: 0 }
    }

    fn put(&mut self, record: &[u8]) -> Result<(), &'static str> {
        let mut frame = Vec::new();
        ocpp_station::store::log::encode_record(record, &mut frame).map_err(|_| "too large")?;
        let end = self.len + frame.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or("full")?;
        slot.copy_from_slice(&frame);
        self.len = end;
        Ok(())
    }
}

impl Store for FixedStore {
    type Error = &'static str;

    fn load(&mut self) -> Result<Vec<Vec<u8>>, Self::Error> {
        let (records, valid) = ocpp_station::store::log::decode_log(&self.bytes[..self.len]);
        self.len = valid;
        Ok(records)
    }

    fn append(&mut self, record: &[u8]) -> Result<(), Self::Error> {
        self.put(record)
    }

    fn replace(&mut self, records: &[Vec<u8>]) -> Result<(), Self::Error> {
        self.len = 0;
        records.iter().try_for_each(|r| self.put(r))
    }
}

/// The CSMS's calls to the station, then one it does not support.
const CSMS_CALLS: [&[u8]; 10] = [
    br#"[2,"c1","GetVariables",{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#,
    br#"[2,"c2","SetVariables",{"setVariableData":[{"attributeValue":"60","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}]"#,
    br#"[2,"c3","TriggerMessage",{"requestedMessage":"StatusNotification"}]"#,
    br#"[2,"c4","ChangeAvailability",{"operationalStatus":"Operative"}]"#,
    br#"[2,"c5","GetBaseReport",{"requestId":1,"reportBase":"FullInventory"}]"#,
    br#"[2,"c6","RequestStartTransaction",{"idToken":{"idToken":"REMOTE","type":"Central"},"remoteStartId":1,"evseId":2}]"#,
    br#"[2,"c7","UnlockConnector",{"evseId":1,"connectorId":1}]"#,
    br#"[2,"c8","RequestStopTransaction",{"transactionId":"2"}]"#,
    br#"[2,"c9","Reset",{"type":"OnIdle"}]"#,
    br#"[2,"c10","ClearCache",{}]"#,
];

/// The quoted string after `from` in `frame`, and where it ends.
fn quoted(frame: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let start = from + frame.get(from..)?.iter().position(|b| *b == b'"')? + 1;
    let len = frame.get(start..)?.iter().position(|b| *b == b'"')?;
    Some((&frame[start..start + len], start + len + 1))
}

/// The CSMS's answer to a station CALL, or `None` for anything else.
fn answer(frame: &[u8]) -> Option<Vec<u8>> {
    if !frame.starts_with(b"[2,") {
        return None;
    }
    let (id, end) = quoted(frame, 3)?;
    let (action, _) = quoted(frame, end)?;
    let payload: &[u8] = match action {
        b"BootNotification" => {
            br#"{"currentTime":"2025-01-01T00:00:00Z","interval":300,"status":"Accepted"}"#
        }
        b"Heartbeat" => br#"{"currentTime":"2025-01-01T00:05:00Z"}"#,
        b"Authorize" => br#"{"idTokenInfo":{"status":"Accepted"}}"#,
        b"TransactionEvent" => br#"{"idTokenInfo":{"status":"Accepted"}}"#,
        _ => b"{}",
    };
    let mut out = Vec::with_capacity(payload.len() + id.len() + 8);
    out.extend_from_slice(b"[3,\"");
    out.extend_from_slice(id);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(payload);
    out.push(b']');
    Some(out)
}

/// What a run measured, through the platform's probes.
pub struct Figures {
    pub frames: usize,
    pub idle_heap: usize,
}

fn pump(station: &mut Station<Board>, store: &mut FixedStore, now: Millis, frames: &mut usize) {
    loop {
        if station.flush(store, now).is_err() {
            return;
        }
        let mut moved = false;
        while let Some(frame) = station.poll_transmit() {
            *frames += 1;
            moved = true;
            if let Some(reply) = answer(black_box(&frame)) {
                station.receive(black_box(&reply), now);
            }
        }
        while let Some(event) = station.poll_event() {
            black_box(&event);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// Runs the session; `heap` reads the allocator's bytes in use.
pub fn run(store: &mut FixedStore, heap: impl Fn() -> usize) -> Figures {
    let boot = BootInfo {
        vendor: black_box("ocpp-rs").into(),
        model: black_box("footprint").into(),
        serial_number: None,
        firmware_version: None,
    };
    let mut config = StationConfig::new(OcppVersion::V201, boot, black_box(2));
    config.store_capacity = black_box(8 * 1024);
    let records = store.load().unwrap_or_default();
    let Ok(mut station) = Station::new(config, Board, &records, Millis(0)) else {
        return Figures { frames: 0, idle_heap: 0 };
    };
    let mut frames = 0;
    let mut now = Millis(1);
    station.connected(now);
    pump(&mut station, store, now, &mut frames);
    let idle_heap = heap();
    let _ = station.plug_in(1, now);
    let _ = station.present_token(1, IdToken::rfid(black_box("04A1B2C3")), now);
    pump(&mut station, store, now, &mut frames);
    for k in 0..black_box(6u32) {
        let reading = Reading {
            energy_wh: 1000.0 + 350.5 * f64::from(k),
            power_w: black_box(7400.0),
        };
        let _ = station.meter(1, reading, now);
        now = now.plus_millis(60_000);
        station.handle_timeout(now);
        pump(&mut station, store, now, &mut frames);
    }
    for call in CSMS_CALLS {
        station.receive(black_box(call), now);
        pump(&mut station, store, now, &mut frames);
    }
    let _ = station.plug_in(2, now);
    pump(&mut station, store, now, &mut frames);
    let _ = station.unplug(1, now);
    let _ = station.unplug(2, now);
    pump(&mut station, store, now, &mut frames);
    black_box(station.queued());
    Figures { frames, idle_heap }
}
