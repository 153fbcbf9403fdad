#![no_main]
//! Arbitrary frames, clock ticks, calls, answers and closes against one OCPP-J session.
//!
//! The session must never panic, every frame it writes must parse as a valid frame of its
//! version, and the fast frame parser must agree with the general one on every input.

use libfuzzer_sys::fuzz_target;
use ocpp_rpc::{Config, ErrorCode, Event, Millis, Role, RpcError, Session, frame};
use ocpp_types::{OcppVersion, v16, v21, v201};

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let version = OcppVersion::ALL[setup as usize % 3];
    let role = if setup & 4 == 0 {
        Role::ChargingStation
    } else {
        Role::Csms
    };
    let mut session = Session::new(Config::new(version, role));
    let mut now = 0u64;
    let mut incoming = Vec::new();

    while let Some((&op, tail)) = rest.split_first() {
        // Each step: an op byte, a length byte, then that many bytes of input.
        let Some((&len, tail)) = tail.split_first() else {
            break;
        };
        let (chunk, tail) = tail.split_at((len as usize).min(tail.len()));
        rest = tail;
        match op % 6 {
            0 | 1 => {
                assert_eq!(
                    format!("{:?}", frame::parse(chunk, version)),
                    format!("{:?}", frame::parse_general(chunk, version)),
                    "the fast and the general frame parser disagree"
                );
                session.receive(chunk, Millis(now));
            }
            2 => {
                now += u64::from(len) * 1_000;
                session.handle_timeout(Millis(now));
            }
            3 => {
                // A call this role may send; back-pressure errors are fine.
                let _ = match (version, role) {
                    (OcppVersion::V16, Role::ChargingStation) => {
                        session.call(&v16::HeartbeatRequest {}, Millis(now))
                    }
                    (OcppVersion::V16, Role::Csms) => {
                        session.call(&v16::ClearCacheRequest {}, Millis(now))
                    }
                    (OcppVersion::V201, Role::ChargingStation) => {
                        session.call(&v201::HeartbeatRequest::default(), Millis(now))
                    }
                    (OcppVersion::V201, Role::Csms) => {
                        session.call(&v201::ClearCacheRequest::default(), Millis(now))
                    }
                    (OcppVersion::V21, Role::ChargingStation) => {
                        session.call(&v21::HeartbeatRequest::default(), Millis(now))
                    }
                    (OcppVersion::V21, Role::Csms) => {
                        session.call(&v21::ClearCacheRequest::default(), Millis(now))
                    }
                };
            }
            4 => {
                if let Some(id) = incoming.pop() {
                    let error = RpcError::new(ErrorCode::NotSupported, "fuzz");
                    let _ = session.respond_error(id, &error);
                }
            }
            _ => session.close(),
        }
        while let Some(out) = session.poll_transmit() {
            assert!(
                frame::parse(&out, version).is_ok(),
                "the session wrote an invalid frame"
            );
        }
        while let Some(event) = session.poll_event() {
            if let Event::IncomingCall(call) = event {
                incoming.push(call.id);
            }
        }
    }
});
