//! [`Handlers`]: one async handler per action, each taking and returning concrete types.

use std::boxed::Box;
use std::collections::HashMap;
use std::fmt;
use std::format;
use std::future::Future;
use std::pin::Pin;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use ocpp_types::{OcppVersion, Request};

use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode, RpcError};

use crate::connection::Connection;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler =
    Arc<dyn Fn(Connection, AnyRequest) -> BoxFuture<Result<AnyResponse, RpcError>> + Send + Sync>;

/// The application's answers to incoming calls (and 2.1 SEND messages), one async handler per
/// action. Each runs in a task of its own with a [`Connection`] to call the peer back.
///
/// Cloning is cheap (the table is shared); registering a handler on a clone that shares its
/// table copies the table first, so a server already running never sees it change.
///
/// A call of an action without a handler goes to the fallback if one is set, else it is
/// answered `NotSupported` (an action the version does not know is answered `NotImplemented`
/// before it gets here).
///
/// ```
/// use ocpp_rpc_tokio::Handlers;
/// use ocpp_types::{DateTime, v201};
///
/// let mut handlers = Handlers::new();
/// handlers.on(|_connection, _: v201::HeartbeatRequest| async move {
///     Ok(v201::HeartbeatResponse::new(DateTime::now()))
/// });
/// ```
#[derive(Clone, Default)]
pub struct Handlers {
    table: Arc<Table>,
}

#[derive(Clone, Default)]
struct Table {
    by_action: HashMap<(OcppVersion, &'static str), Handler>,
    fallback: Option<Handler>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("actions", &self.table.by_action.keys().collect::<Vec<_>>())
            .field("fallback", &self.table.fallback.is_some())
            .finish()
    }
}

impl Handlers {
    /// No handlers: every call is answered `NotSupported`.
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Sets the handler of `R`'s action (replacing an earlier one).
    pub fn on<R, F, Fut>(&mut self, handler: F) -> &mut Handlers
    where
        R: Request + 'static,
        F: Fn(Connection, R) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R::Response, RpcError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let boxed: Handler = Arc::new(move |connection, request: AnyRequest| {
            let handler = handler.clone();
            Box::pin(async move {
                let request = request.into_message::<R>().map_err(|other| {
                    internal(format!("{} routed to {}", other.action(), R::ACTION))
                })?;
                let response = handler(connection, request).await?;
                Ok(AnyResponse::from_message(response))
            })
        });
        Arc::make_mut(&mut self.table)
            .by_action
            .insert((R::VERSION, R::ACTION), boxed);
        self
    }

    /// Sets the handler of `action`, chosen at run time (a router or a cluster node handing
    /// some actions elsewhere), taking and returning messages of any version; a response of
    /// another action is answered `InternalError`, as from any handler.
    pub fn on_action<F, Fut>(&mut self, action: AnyAction, handler: F) -> &mut Handlers
    where
        F: Fn(Connection, AnyRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<AnyResponse, RpcError>> + Send + 'static,
    {
        let boxed: Handler =
            Arc::new(move |connection, request| Box::pin(handler(connection, request)));
        Arc::make_mut(&mut self.table)
            .by_action
            .insert((action.version(), action.as_str()), boxed);
        self
    }

    /// Sets the handler of every action without one of its own.
    pub fn fallback<F, Fut>(&mut self, handler: F) -> &mut Handlers
    where
        F: Fn(Connection, AnyRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<AnyResponse, RpcError>> + Send + 'static,
    {
        Arc::make_mut(&mut self.table).fallback = Some(Arc::new(move |connection, request| {
            Box::pin(handler(connection, request))
        }));
        self
    }

    /// Runs the handler for `request`.
    pub(crate) async fn handle(
        &self,
        connection: Connection,
        request: AnyRequest,
    ) -> Result<AnyResponse, RpcError> {
        let action = request.action();
        let key = (action.version(), action.as_str());
        match self
            .table
            .by_action
            .get(&key)
            .or(self.table.fallback.as_ref())
        {
            Some(handler) => handler(connection, request).await,
            None => Err(RpcError::new(
                ErrorCode::NotSupported,
                format!("{} is not supported", action.as_str()),
            )),
        }
    }
}

fn internal(description: String) -> RpcError {
    RpcError::new(ErrorCode::InternalError, description)
}
