//! [`Router`]: one typed handler per action, without a hand-written match over the request enum.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use ocpp_types::{OcppVersion, Request};

use crate::ErrorCode;
use crate::id::IdGenerator;
use crate::session::{IncomingCall, RespondError, RpcError, Session};
use ocpp_types::{AnyRequest, AnyResponse};

type Handler = Box<dyn FnMut(AnyRequest) -> Result<AnyResponse, RpcError> + Send>;

/// Handlers for incoming calls, one per action, each taking and returning concrete types.
///
/// A call for an action without a handler is answered `NotSupported` (the session itself
/// answers `NotImplemented` for an action the version does not know). A handler answers with
/// its response, or with an [`RpcError`] that becomes a CALLERROR.
///
/// ```
/// use ocpp_rpc::{Config, Event, Millis, Role, Router, Session};
/// use ocpp_types::{OcppVersion, v201};
///
/// let mut router = Router::new();
/// router.on(|_: v201::HeartbeatRequest| {
///     Ok(v201::HeartbeatResponse::new("2024-01-01T00:00:00Z".parse().unwrap()))
/// });
/// router.on(|boot: v201::BootNotificationRequest| {
///     let _ = boot.charging_station.model;
///     Ok(v201::BootNotificationResponse::new(
///         "2024-01-01T00:00:00Z".parse().unwrap(), 300, v201::RegistrationStatusEnumType::Accepted))
/// });
///
/// let mut csms = Session::new(Config::new(OcppVersion::V201, Role::Csms));
/// csms.receive(br#"[2,"1","Heartbeat",{}]"#, Millis(0));
/// while let Some(event) = csms.poll_event() {
///     if let Event::IncomingCall(call) = event {
///         router.handle(&mut csms, call)?;
///     }
/// }
/// let frame = csms.poll_transmit().unwrap();
/// assert_eq!(frame, br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#);
/// # Ok::<(), ocpp_rpc::RespondError>(())
/// ```
#[derive(Default)]
pub struct Router {
    handlers: Vec<(OcppVersion, &'static str, Handler)>,
}

impl core::fmt::Debug for Router {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(self.handlers.iter().map(|(v, a, _)| (v, a)))
            .finish()
    }
}

impl Router {
    /// A router without handlers.
    pub fn new() -> Router {
        Router::default()
    }

    /// Sets the handler for `R`'s action (replacing an earlier one).
    pub fn on<R, F>(&mut self, mut handler: F) -> &mut Router
    where
        R: Request,
        F: FnMut(R) -> Result<R::Response, RpcError> + Send + 'static,
    {
        let boxed: Handler = Box::new(move |request: AnyRequest| {
            let action = request.action().as_str();
            let request = request.into_message::<R>().map_err(|_| {
                RpcError::new(
                    ErrorCode::InternalError,
                    format!("{action} routed to the handler of {}", R::ACTION),
                )
            })?;
            Ok(AnyResponse::from_message(handler(request)?))
        });
        self.handlers
            .retain(|(v, a, _)| (*v, *a) != (R::VERSION, R::ACTION));
        self.handlers.push((R::VERSION, R::ACTION, boxed));
        self
    }

    /// Whether a handler is set for the action.
    pub fn handles(&self, version: OcppVersion, action: &str) -> bool {
        self.handlers
            .iter()
            .any(|(v, a, _)| *v == version && *a == action)
    }

    /// Runs the handler for `request` (`NotSupported` without one).
    pub fn dispatch(&mut self, request: AnyRequest) -> Result<AnyResponse, RpcError> {
        let action = request.action();
        let (version, name) = (action.version(), action.as_str());
        match self
            .handlers
            .iter_mut()
            .find(|(v, a, _)| *v == version && *a == name)
        {
            Some((_, _, handler)) => handler(request),
            None => Err(RpcError::new(
                ErrorCode::NotSupported,
                format!("{name} is not supported"),
            )),
        }
    }

    /// Runs the handler for an incoming call and answers it on `session`.
    pub fn handle<G: IdGenerator, D: crate::Decoders>(
        &mut self,
        session: &mut Session<G, D>,
        call: IncomingCall,
    ) -> Result<(), RespondError> {
        match self.dispatch(call.request) {
            Ok(response) => session.respond_any(call.id, &response),
            Err(error) => session.respond_error(call.id, &error),
        }
    }
}
