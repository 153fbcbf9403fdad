//! Every message of every version goes into the cross-version union and comes back out as the
//! same value, and asking for the wrong type gives the union back unchanged. The messages come
//! from each version's generated `__visit_messages`, so no list here can fall behind.

use ocpp_types::__rt::VisitMessages;
use ocpp_types::random::{Generate, from_seed};
use ocpp_types::{AnyAction, AnyRequest, AnyResponse, Message, Request, SendMessage};

/// A request and a response of another version than every message it is asked about (so they
/// are of another type), to hand to `into_message` of each.
struct Foreign {
    request: AnyRequest,
    response: AnyResponse,
}

/// Visits every message of one version, remembering the previous one to hold it against the
/// next (which is of another type: every action has its own).
struct RoundTrip {
    seed: u64,
    foreign: Foreign,
    previous: Option<(AnyRequest, Option<AnyResponse>)>,
    seen: Vec<AnyAction>,
}

impl RoundTrip {
    fn new(foreign: Foreign) -> Self {
        RoundTrip {
            seed: 0,
            foreign,
            previous: None,
            seen: Vec::new(),
        }
    }

    /// Checks the request side of `M`, and returns its value in the union.
    fn message<M: Message + Generate>(&mut self) -> AnyRequest {
        self.seed += 1;
        let value: M = from_seed(self.seed);
        let any = AnyRequest::from_message(value.clone());
        assert_eq!(any.action(), M::ANY_ACTION, "{}", M::ACTION);
        assert_eq!(any.action().as_str(), M::ACTION);
        assert_eq!(any.version(), M::VERSION);
        assert_eq!(any.action().senders(), M::SENT_BY, "{}", M::ACTION);
        assert_eq!(any, value.clone().into(), "From for {}", M::ACTION);
        assert_eq!(any.message::<M>(), Some(&value), "{}", M::ACTION);
        assert_eq!(any.clone().into_message::<M>(), Ok(value), "{}", M::ACTION);

        // Another message of this version, and one of another version, are not an `M`.
        let others = self.previous.iter().map(|(r, _)| r);
        for other in others.chain([&self.foreign.request]) {
            assert_eq!(
                other.message::<M>(),
                None,
                "{} as {}",
                other.action(),
                M::ACTION
            );
            let back = other.clone().into_message::<M>();
            assert_eq!(back.as_ref().err(), Some(other), "{}", M::ACTION);
        }
        self.seen.push(any.action());
        any
    }
}

impl VisitMessages for RoundTrip {
    fn request<R>(&mut self)
    where
        R: Request + Generate,
        R::Response: Generate,
    {
        let request = self.message::<R>();
        assert!(R::ANY_ACTION.has_response());
        let value: R::Response = from_seed(self.seed);
        let any = AnyResponse::from_message(value.clone());
        assert_eq!(any.action(), R::ANY_ACTION, "{}", R::ACTION);
        assert_eq!(any, value.clone().into(), "From for {}Response", R::ACTION);
        assert_eq!(any.message::<R::Response>(), Some(&value));
        assert_eq!(any.clone().into_message::<R::Response>(), Ok(value));
        let previous = self.previous.iter().filter_map(|(_, r)| r.as_ref());
        for other in previous.chain([&self.foreign.response]) {
            assert_eq!(other.message::<R::Response>(), None, "{}", R::ACTION);
            let back = other.clone().into_message::<R::Response>();
            assert_eq!(back.as_ref().err(), Some(other), "{}", R::ACTION);
        }
        self.previous = Some((request, Some(any)));
    }

    fn send<S: SendMessage + Generate>(&mut self) {
        let request = self.message::<S>();
        assert!(!S::ANY_ACTION.has_response());
        self.previous = Some((request, None));
    }
}

fn foreign_v16() -> Foreign {
    use ocpp_types::v16::{HeartbeatRequest, HeartbeatResponse};
    Foreign {
        request: HeartbeatRequest::default().into(),
        response: from_seed::<HeartbeatResponse>(1).into(),
    }
}

fn foreign_v201() -> Foreign {
    use ocpp_types::v201::{HeartbeatRequest, HeartbeatResponse};
    Foreign {
        request: HeartbeatRequest::default().into(),
        response: from_seed::<HeartbeatResponse>(1).into(),
    }
}

#[test]
fn every_v16_message_round_trips_through_the_union() {
    let mut visit = RoundTrip::new(foreign_v201());
    ocpp_types::v16::__visit_messages(&mut visit);
    let all: Vec<AnyAction> = ocpp_types::v16::Action::ALL
        .iter()
        .map(|&a| a.into())
        .collect();
    assert_eq!(visit.seen, all);
}

#[test]
fn every_v201_message_round_trips_through_the_union() {
    let mut visit = RoundTrip::new(foreign_v16());
    ocpp_types::v201::__visit_messages(&mut visit);
    let all: Vec<AnyAction> = ocpp_types::v201::Action::ALL
        .iter()
        .map(|&a| a.into())
        .collect();
    assert_eq!(visit.seen, all);
}

#[test]
fn every_v21_message_round_trips_through_the_union() {
    let mut visit = RoundTrip::new(foreign_v201());
    ocpp_types::v21::__visit_messages(&mut visit);
    let all: Vec<AnyAction> = ocpp_types::v21::Action::ALL
        .iter()
        .map(|&a| a.into())
        .collect();
    assert_eq!(visit.seen, all);
    assert!(
        visit.seen.iter().any(|a| !a.has_response()),
        "2.1 has a SEND"
    );
}

#[test]
fn any_request_decodes_and_serializes_as_its_version() {
    let action = AnyAction::from_name(ocpp_types::OcppVersion::V21, "Heartbeat").unwrap();
    let any = AnyRequest::decode(action, r#"{"customData":{"vendorId":"V"}}"#).unwrap();
    assert_eq!(any.action(), action);
    assert_eq!(
        serde_json::to_string(&any).unwrap(),
        r#"{"customData":{"vendorId":"V"}}"#
    );
    let send = AnyAction::from_name(ocpp_types::OcppVersion::V21, "NotifyPeriodicEventStream");
    let err = AnyResponse::decode(send.unwrap(), "{}").unwrap_err();
    assert!(matches!(
        err,
        ocpp_types::MessageError::UnknownAction { .. }
    ));
}

#[test]
fn senders_follow_the_specification() {
    use ocpp_types::{OcppVersion, Role};
    let action = |version, name| AnyAction::from_name(version, name).unwrap();
    for version in OcppVersion::ALL {
        let boot = action(version, "BootNotification");
        assert_eq!(boot.senders(), &[Role::ChargingStation]);
        assert!(boot.sent_by(Role::ChargingStation) && !boot.sent_by(Role::Csms));
        let reset = action(version, "Reset");
        assert_eq!(reset.senders(), &[Role::Csms]);
        assert!(reset.sent_by(Role::ChargingStation.peer()));
        let data_transfer = action(version, "DataTransfer");
        assert!(Role::ALL.iter().all(|&role| data_transfer.sent_by(role)));
    }
    use ocpp_types::v16::{RemoteStartTransactionRequest, StartTransactionRequest};
    assert!(<StartTransactionRequest as Message>::sent_by(
        Role::ChargingStation
    ));
    assert!(!<RemoteStartTransactionRequest as Message>::sent_by(
        Role::ChargingStation
    ));
}

#[test]
fn every_action_is_found_by_its_exact_name_only() {
    use ocpp_types::OcppVersion;
    for version in OcppVersion::ALL {
        let all = AnyAction::all(version);
        assert!(all.len() > 20, "{version:?}");
        for action in &all {
            let name = action.as_str();
            assert_eq!(AnyAction::from_name(version, name), Some(*action));
            for near in [
                name.to_lowercase(),
                format!("{name} "),
                format!(" {name}"),
                name[..name.len() - 1].to_string(),
                format!("{name}s"),
            ] {
                assert_eq!(AnyAction::from_name(version, &near), None, "{near:?}");
            }
        }
        for other in ["", "A", "Zz", "\u{0}", "BootNotification\u{0}"] {
            assert_eq!(AnyAction::from_name(version, other), None, "{other:?}");
        }
    }
}
