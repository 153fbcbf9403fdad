#![no_main]
//! Structure-aware: the station core (`ocpp-station`) on a memory store, against a CSMS
//! session that answers its calls, driven by a script that `arbitrary` decodes from the input:
//! hardware events on known and unknown connectors, readings (NaN and infinities included),
//! the clock, connections made and lost, CSMS answers (valid, CALLERRORs, withheld), CALLs
//! from the CSMS of any action with schema-valid payloads from `ocpp_types::random`, raw bytes
//! as frames, power lost during any store write (torn at any byte), and store bytes flipped
//! before a restart.
//!
//! After every step:
//! - nothing panics, and a restart from whatever the store holds gives a station or a
//!   `RestoreError`, never a panic;
//! - every frame the station writes parses (`frame::parse`) and the CSMS session takes it
//!   without a protocol violation;
//! - the store's log never holds more than `StationConfig::store_capacity` bytes.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ocpp_rpc::{
    AnyAction, AnyRequest, AnyResponse, Config, ErrorCode, Event, Millis, Role, RpcError, Session,
    ViolationKind,
};
use ocpp_station::store::{MemoryStore, Store};
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, ResetKind, Station, StationConfig,
    UnlockResult,
};
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{OcppVersion, v16, v21, v201};
use serde_json::json;

struct Board;

impl Hardware for Board {
    fn set_energy(&mut self, _: ConnectorId, _: bool) {}
    fn unlock(&mut self, _: ConnectorId) -> UnlockResult {
        UnlockResult::Unlocked
    }
    fn reset(&mut self, _: ResetKind) {}
}

#[derive(Debug, Arbitrary)]
enum Step {
    Plug(u8),
    Unplug(u8),
    Token(u8, u8),
    Meter(u8, f64, f64),
    Fault(u8, bool),
    Advance(u16),
    Connect,
    Disconnect,
    /// How the CSMS treats the next station call: 0 answers, 1 CALLERROR, 2 silence.
    Answers(u8),
    /// A CALL from the CSMS: the action's index among those a CSMS sends, and a seed.
    CsmsCall(u8, u64),
    Raw(Vec<u8>),
    CrashDuringWrite(u8, u16),
    FlipAndRestart(u16, u8),
}

#[derive(Debug, Arbitrary)]
struct Script {
    version: u8,
    connectors: u8,
    capacity_kib: u8,
    steps: Vec<Step>,
}

fn answer(version: OcppVersion, action: &str) -> serde_json::Value {
    let info = if version == OcppVersion::V16 {
        "idTagInfo"
    } else {
        "idTokenInfo"
    };
    match action {
        "BootNotification" => {
            json!({"currentTime": "2025-01-01T00:00:00Z", "interval": 60, "status": "Accepted"})
        }
        "Heartbeat" => json!({"currentTime": "2025-01-01T00:00:00Z"}),
        "Authorize" => json!({ info: {"status": "Accepted"} }),
        "StartTransaction" => json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 7}),
        _ => json!({}),
    }
}

/// A schema-valid request of `action`, from the seed.
fn request(action: AnyAction, seed: u64) -> Option<AnyRequest> {
    let mut source = SplitMix64(seed);
    let g = &mut Gen::new(&mut source);
    match action {
        AnyAction::V16(a) => v16::Request::generate(a, g).map(|r| AnyRequest::V16(Box::new(r))),
        AnyAction::V201(a) => v201::Request::generate(a, g).map(|r| AnyRequest::V201(Box::new(r))),
        AnyAction::V21(a) => v21::Request::generate(a, g).map(|r| AnyRequest::V21(Box::new(r))),
    }
}

struct Rig {
    config: StationConfig,
    station: Station<Board>,
    store: MemoryStore,
    csms: Option<Session>,
    now: Millis,
    mode: u8,
}

impl Rig {
    fn restart(&mut self) {
        self.store.restart();
        let records = self.store.load().unwrap_or_default();
        match Station::new(self.config.clone(), Board, &records, self.now) {
            Ok(station) => self.station = station,
            // Bytes this station never wrote (flipped past the CRC): start afresh, as a
            // firmware would after erasing the partition.
            Err(_) => {
                self.store = MemoryStore::new();
                self.station = Station::new(self.config.clone(), Board, &[], self.now)
                    .expect("an empty store restores");
            }
        }
        self.csms = None;
    }

    fn settle(&mut self) {
        for _ in 0..200 {
            let mut moved = false;
            while let Some(write) = self.station.poll_write() {
                moved = true;
                if self.store.write(&write).is_err() {
                    self.restart();
                    return;
                }
                self.station.write_done(self.now);
            }
            let capacity = self.config.store_capacity;
            assert!(
                self.store.len() <= capacity,
                "log {} over {capacity}",
                self.store.len()
            );
            while let Some(frame) = self.station.poll_transmit() {
                moved = true;
                assert!(
                    ocpp_rpc::frame::parse(&frame, self.config.version).is_ok(),
                    "unparsable frame"
                );
                if let Some(csms) = &mut self.csms {
                    csms.receive(&frame, self.now);
                }
            }
            while self.station.poll_event().is_some() {
                moved = true;
            }
            let version = self.config.version;
            if let Some(csms) = &mut self.csms {
                while let Some(event) = csms.poll_event() {
                    match event {
                        Event::IncomingCall(call) => {
                            let action = call.request.action();
                            match self.mode % 3 {
                                0 => {
                                    let payload = answer(version, action.as_str()).to_string();
                                    if let Ok(response) = AnyResponse::decode(action, &payload) {
                                        let _ = csms.respond_any(call.id, &response);
                                    }
                                }
                                1 => {
                                    let error = RpcError::new(ErrorCode::InternalError, "fuzz");
                                    let _ = csms.respond_error(call.id, &error);
                                }
                                _ => {}
                            }
                        }
                        // The station's answer to a frame it could not read has id "-1" (OCPP-J).
                        Event::ProtocolViolation(v)
                            if v.kind == ViolationKind::UnknownResponse
                                && v.message_id.as_deref() == Some("-1") => {}
                        // A CSMS that withholds its answers runs into its own incoming limit.
                        Event::ProtocolViolation(v)
                            if v.kind == ViolationKind::TooManyIncomingCalls => {}
                        Event::ProtocolViolation(v) => {
                            panic!("the station broke the protocol: {v:?}")
                        }
                        _ => {}
                    }
                }
                while let Some(frame) = csms.poll_transmit() {
                    moved = true;
                    self.station.receive(&frame, self.now);
                }
            }
            if !moved {
                return;
            }
        }
    }
}

fuzz_target!(|script: Script| {
    let version = OcppVersion::ALL[usize::from(script.version % 3)];
    let boot = BootInfo {
        vendor: "fuzz".into(),
        model: "station".into(),
        serial_number: None,
        firmware_version: None,
    };
    let mut config = StationConfig::new(version, boot, u32::from(script.connectors % 3) + 1);
    config.store_capacity = (usize::from(script.capacity_kib % 32) + 6) * 1024;
    config.variables.offline_tx_for_unknown_id = script.version & 4 != 0;
    config.variables.sample_interval = 1;
    let station =
        Station::new(config.clone(), Board, &[], Millis(0)).expect("an empty store restores");
    let mut rig = Rig {
        config,
        station,
        store: MemoryStore::new(),
        csms: None,
        now: Millis(0),
        mode: 0,
    };
    let csms_actions: Vec<AnyAction> = AnyAction::all(version)
        .into_iter()
        .filter(|a| a.sent_by(Role::Csms) && a.has_response())
        .collect();
    for step in script.steps.into_iter().take(200) {
        let c = |n: u8| u32::from(n % 5);
        match step {
            Step::Plug(n) => drop(rig.station.plug_in(c(n), rig.now)),
            Step::Unplug(n) => drop(rig.station.unplug(c(n), rig.now)),
            Step::Token(n, t) => drop(rig.station.present_token(
                c(n),
                IdToken::rfid(format!("T{}", t % 4)),
                rig.now,
            )),
            Step::Meter(n, wh, w) => drop(rig.station.meter(
                c(n),
                Reading {
                    energy_wh: wh,
                    power_w: w,
                },
                rig.now,
            )),
            Step::Fault(n, on) => drop(rig.station.fault(c(n), on, rig.now)),
            Step::Advance(ms) => {
                let end = rig.now.plus_millis(u64::from(ms) * 20);
                while let Some(at) = rig.station.poll_timeout().filter(|at| *at <= end) {
                    rig.now = rig.now.max(at);
                    rig.station.handle_timeout(rig.now);
                    if let Some(csms) = &mut rig.csms {
                        csms.handle_timeout(rig.now);
                    }
                    rig.settle();
                    let next = rig.station.poll_timeout();
                    assert!(
                        next.is_none_or(|n| n > rig.now || n >= at),
                        "timeout does not advance"
                    );
                    if next.is_some_and(|n| n <= rig.now) {
                        break;
                    }
                }
                rig.now = end;
                rig.station.handle_timeout(rig.now);
            }
            Step::Connect => {
                if rig.csms.is_none() {
                    rig.csms = Some(Session::new(Config::new(version, Role::Csms)));
                    rig.station.connected(rig.now);
                }
            }
            Step::Disconnect => {
                if rig.csms.take().is_some() {
                    rig.station.disconnected(rig.now);
                }
            }
            Step::Answers(mode) => rig.mode = mode,
            Step::CsmsCall(index, seed) => {
                if let (Some(csms), false) = (&mut rig.csms, csms_actions.is_empty()) {
                    let action = csms_actions[usize::from(index) % csms_actions.len()];
                    if let Some(request) = request(action, seed) {
                        let _ = csms.call_any(&request, rig.now);
                    }
                }
            }
            Step::Raw(bytes) => rig.station.receive(&bytes, rig.now),
            Step::CrashDuringWrite(writes, torn) => rig
                .store
                .fail_after(usize::from(writes % 8), usize::from(torn)),
            Step::FlipAndRestart(at, bit) => {
                let mut bytes = rig.store.bytes().to_vec();
                if !bytes.is_empty() {
                    let i = usize::from(at) % bytes.len();
                    bytes[i] ^= 1 << (bit % 8);
                }
                rig.store = MemoryStore::from_bytes(bytes);
                rig.restart();
            }
        }
        rig.settle();
    }
});
