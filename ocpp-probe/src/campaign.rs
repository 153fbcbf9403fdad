//! Running a campaign over a real connection: [`probe_csms`] connects to a CSMS as a station,
//! [`probe_station`] accepts a station's connection as a CSMS; both boot, run the cases one at
//! a time (one CALL in flight, at most `rate` cases a second), answer the peer's own calls,
//! reconnect after a lost connection and go on, and give a [`Report`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ocpp_rpc::AnyAction;
use ocpp_rpc::frame::{self, Frame, encode_call};
use ocpp_rpc::handshake::{self, basic_authorization};
use ocpp_rpc_tokio::ClientConfig;
use ocpp_rpc_tokio::raw::{self, Message, Offer, RawSocket};
use ocpp_types::{DateTime, OcppVersion};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::case::{Case, Credentials, Expect, Step, Target};
use crate::catalogue::{Plan, catalogue};
use crate::peer::{MAX_PEER_FINDINGS, Peer, boot_request};
use crate::report::{CaseResult, Report};
use crate::verdict::{Closed, Finding, Observed, Severity, Upgrade, judge};

/// The largest message the probe reads: far above any OCPP frame, so that a peer whose
/// CALLERROR echoes a big payload (the Python `ocpp` library puts it in the details) is not
/// cut off by the probe itself.
const MAX_MESSAGE_SIZE: usize = 16 << 20;

/// How a campaign runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to wait for each answer (and for a connection).
    pub timeout: Duration,
    /// How long to wait after the liveness answer for a late answer to the case.
    pub grace: Duration,
    /// At most this many cases a second (`None`: as fast as the peer answers).
    pub rate: Option<f64>,
    /// Run at most this many cases.
    pub max_cases: Option<usize>,
    /// Stop starting cases after this long.
    pub duration: Option<Duration>,
    /// Run only the cases with these ids (all when empty).
    pub only: Vec<String>,
    /// Called with each case's result as it is judged (for a live display).
    pub on_result: Option<fn(&CaseResult)>,
    /// How long the probe holds its answer to each of the peer's CALLs: a CALL of the peer's
    /// that comes meanwhile breaks the one-CALL-in-flight rule (OCPP-J §4.1.1).
    pub hold: Duration,
    /// TLS settings for a `wss://` CSMS (the CAs it may present a certificate of, a client
    /// certificate for security profile 3).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<ocpp_rpc_tokio::rustls::ClientConfig>>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timeout: Duration::from_secs(5),
            grace: Duration::from_millis(100),
            rate: None,
            max_cases: None,
            duration: None,
            only: Vec::new(),
            on_result: None,
            hold: Duration::from_millis(20),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Probes the CSMS at `url` (`ws://HOST/PATH/IDENTITY`) as a charging station, with
/// `password` for Basic auth if given. `Err` only when no connection could be made at all.
pub async fn probe_csms(
    url: &str,
    password: Option<&str>,
    plan: &Plan,
    settings: &Settings,
) -> Result<Report, String> {
    let identity = handshake::identity_from_path(url_path(url), None).map_err(|e| e.to_string())?;
    let mut link = CsmsLink {
        url: url.to_owned(),
        identity,
        password: password.map(str::to_owned),
        version: plan.version,
    };
    let mut runner = Runner::new(plan, settings);
    let first = link.connect(&mut runner).await?;
    runner.run(&mut link, first).await
}

/// Listens on `listen` as a CSMS and probes the first station that connects (with
/// `password`, its Basic-auth password is checked too). `Err` when no station connects
/// within `settings.timeout` × 12 or the address cannot be bound.
pub async fn probe_station(
    listen: SocketAddr,
    password: Option<&str>,
    plan: &Plan,
    settings: &Settings,
) -> Result<Report, String> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    probe_station_on(listener, password, plan, settings).await
}

/// [`probe_station`] on a listener already bound (tests bind port 0).
pub async fn probe_station_on(
    listener: TcpListener,
    password: Option<&str>,
    plan: &Plan,
    settings: &Settings,
) -> Result<Report, String> {
    let (sender, receiver) = mpsc::channel(4);
    let version = plan.version;
    let password = password.map(str::to_owned);
    let accept = tokio::spawn(accept_stations(listener, version, password, sender));
    let mut link = StationLink {
        receiver,
        wait: settings.timeout * 12,
    };
    let mut runner = Runner::new(plan, settings);
    let first = link.connect(&mut runner).await;
    let report = match first {
        Ok(first) => runner.run(&mut link, first).await,
        Err(error) => Err(error),
    };
    accept.abort();
    report
}

/// One connection and its peer.
struct Live {
    socket: RawSocket,
    peer: Peer,
    /// The answer to the peer's last CALL, held until its time comes: a CALL of the peer's
    /// that arrives meanwhile breaks the one-CALL-in-flight rule.
    held: Option<(tokio::time::Instant, String, String)>,
}

impl Live {
    fn new(socket: RawSocket, peer: Peer) -> Live {
        Live {
            socket,
            peer,
            held: None,
        }
    }

    /// The next message before `deadline` (`None`: the deadline passed; `Some(None)`: the
    /// connection is gone), sending the held answer when its time comes.
    async fn receive(&mut self, deadline: tokio::time::Instant) -> Option<Option<Message>> {
        loop {
            let wake = self
                .held
                .as_ref()
                .map_or(deadline, |(due, _, _)| (*due).min(deadline));
            match tokio::time::timeout_at(wake, self.socket.receive()).await {
                Ok(message) => return Some(message),
                Err(_) if self.held.is_some() && tokio::time::Instant::now() >= wake => {
                    self.release().await;
                    if tokio::time::Instant::now() >= deadline {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Sends the held answer now.
    async fn release(&mut self) {
        if let Some((_, _, reply)) = self.held.take() {
            let _ = self.socket.send_text(&reply).await;
        }
    }
}

/// How the runner gets a (new) connection.
trait Link {
    async fn connect(&mut self, runner: &mut Runner<'_>) -> Result<Live, String>;

    /// The CSMS link, when probing a CSMS (handshake cases need its URL and credentials).
    fn as_csms(&self) -> Option<&CsmsLink> {
        None
    }
}

struct CsmsLink {
    url: String,
    identity: String,
    password: Option<String>,
    version: OcppVersion,
}

impl CsmsLink {
    fn offer(&self, subprotocols: Option<String>, credentials: Credentials) -> Offer {
        let authorization = match credentials {
            Credentials::AsGiven => self
                .password
                .as_ref()
                .map(|p| basic_authorization(&self.identity, p)),
            Credentials::Omitted => None,
            Credentials::WrongPassword => Some(basic_authorization(
                &self.identity,
                "ocpp-rs-probe-wrong-password",
            )),
        };
        Offer {
            subprotocols,
            authorization,
        }
    }
}

impl Link for CsmsLink {
    fn as_csms(&self) -> Option<&CsmsLink> {
        Some(self)
    }

    async fn connect(&mut self, runner: &mut Runner<'_>) -> Result<Live, String> {
        let mut config = ClientConfig::new(self.url.clone(), vec![self.version]);
        config.connect_timeout = runner.settings.timeout;
        config.max_message_size = MAX_MESSAGE_SIZE;
        #[cfg(feature = "tls")]
        {
            config.tls = runner.settings.tls.clone();
        }
        let offer = self.offer(
            Some(self.version.subprotocol().to_owned()),
            Credentials::AsGiven,
        );
        let opened = raw::open(&config, &offer)
            .await
            .map_err(|e| e.to_string())?;
        let Some(socket) = opened.socket else {
            return Err(format!(
                "the CSMS refused the connection with HTTP {}",
                opened.status
            ));
        };
        let mut live = Live::new(
            socket,
            Peer::new(self.version, Target::Csms, runner.plan.seed),
        );
        // Boot first: a CSMS may refuse everything else until it has accepted the station.
        let id = runner.next_id("boot");
        let call = format!(
            "[2,\"{id}\",\"BootNotification\",{}]",
            boot_request(self.version)
        );
        let answer = runner.own_call(&mut live, &call, &id).await;
        match answer {
            Some(text) => {
                if let Some(action) = AnyAction::from_name(self.version, "BootNotification") {
                    live.peer.on_own_answer(action, &text);
                }
                runner.boot = Some(text);
                Ok(live)
            }
            None => Err("no answer to BootNotification".to_owned()),
        }
    }
}

struct StationLink {
    receiver: mpsc::Receiver<(RawSocket, Vec<Finding>)>,
    wait: Duration,
}

impl Link for StationLink {
    async fn connect(&mut self, runner: &mut Runner<'_>) -> Result<Live, String> {
        let next = tokio::time::timeout(self.wait, self.receiver.recv()).await;
        let Ok(Some((socket, findings))) = next else {
            return Err(format!("no station connected within {:?}", self.wait));
        };
        runner.absorb(findings);
        let mut live = Live::new(
            socket,
            Peer::new(runner.plan.version, Target::Station, runner.plan.seed),
        );
        // The station boots; its first messages are answered until it has been quiet a while.
        let until = Instant::now() + runner.settings.timeout;
        while Instant::now() < until {
            let quiet = if live.peer.booted {
                Duration::from_millis(500)
            } else {
                runner.settings.timeout
            };
            match live.receive(tokio::time::Instant::now() + quiet).await {
                None if live.peer.booted => break,
                None => return Err("the station sent no BootNotification".to_owned()),
                Some(None | Some(Message::Close { .. })) => {
                    return Err("the station closed the connection while booting".to_owned());
                }
                Some(Some(Message::Text(text))) => {
                    // Text that answers nothing the probe sent is passed over here.
                    runner.peer_message(&mut live, &text).await;
                }
                Some(Some(_)) => {}
            }
        }
        Ok(live)
    }
}

/// Accepts stations' connections: checks what the station offers, answers the upgrade with
/// the version, and hands each socket over.
async fn accept_stations(
    listener: TcpListener,
    version: OcppVersion,
    password: Option<String>,
    sockets: mpsc::Sender<(RawSocket, Vec<Finding>)>,
) {
    use hyper::service::service_fn;
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            // Out of file descriptors (or a connection reset before it was taken): retrying at
            // once would spin; a short pause lets descriptors free up.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let sockets = sockets.clone();
        let password = password.clone();
        tokio::spawn(async move {
            let service = service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
                let sockets = sockets.clone();
                let password = password.clone();
                async move {
                    let findings = station_handshake(&request, version, password.as_deref());
                    let offered = request
                        .headers()
                        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect::<Vec<_>>()
                        .join(",");
                    let chosen = handshake::choose_subprotocol(&offered, &[version])
                        .map(|v| v.subprotocol());
                    let response = match raw::accept(&mut request, chosen, MAX_MESSAGE_SIZE) {
                        Ok((response, accepting)) => {
                            tokio::spawn(async move {
                                if let Ok(socket) = accepting.socket().await {
                                    let _ = sockets.send((socket, findings)).await;
                                }
                            });
                            response
                        }
                        Err(reason) => {
                            let mut response = http::Response::new(reason);
                            *response.status_mut() = http::StatusCode::BAD_REQUEST;
                            response
                        }
                    };
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .with_upgrades();
            let _ = connection.await;
        });
    }
}

/// What a station's upgrade request shows: the version offered, its identity, its
/// credentials.
fn station_handshake<B>(
    request: &http::Request<B>,
    version: OcppVersion,
    password: Option<&str>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut finding = |severity, summary: String, clause: String| {
        findings.push(Finding {
            case: "handshake.station".to_owned(),
            severity,
            summary,
            clause,
        });
    };
    let offered: Vec<String> = request
        .headers()
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_owned()))
        .collect();
    if !offered.iter().any(|o| o == version.subprotocol()) {
        finding(
            Severity::Error,
            format!(
                "the station did not offer {} (offered {offered:?})",
                version.subprotocol()
            ),
            crate::case::ocpp_j(version, "§3.1.2", "§3.1.2"),
        );
    }
    let path = request.uri().path();
    if let Err(error) = handshake::identity_from_path(path, None) {
        finding(
            if version == OcppVersion::V16 {
                Severity::Warning
            } else {
                Severity::Error
            },
            format!("the station's identity in {path:?} is not an identifierString[48]: {error}"),
            crate::case::ocpp_j(version, "§3.1.1", "§3.1.1"),
        );
    }
    if let Some(expected) = password {
        let identity = handshake::identity_from_path(path, None).unwrap_or_default();
        let given = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(handshake::parse_basic_authorization);
        let right = given.is_some_and(|c| c.user == identity && c.password == expected);
        if !right {
            finding(
                Severity::Error,
                "the station's Authorization is not Basic with its identity and password"
                    .to_owned(),
                format!("OCPP {version} security profile 1 (HTTP Basic authentication)"),
            );
        }
    }
    findings
}

/// The path of a `ws://` URL.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// The campaign's state.
struct Runner<'a> {
    plan: &'a Plan,
    settings: &'a Settings,
    ids: u64,
    results: Vec<CaseResult>,
    peer_findings: Vec<Finding>,
    /// Ids of cases whose answer did not come in time: a later answer is late, not foreign.
    late: Vec<String>,
    /// The answer to the probe's BootNotification (probing a CSMS).
    boot: Option<String>,
    reconnects: u32,
}

impl<'a> Runner<'a> {
    fn new(plan: &'a Plan, settings: &'a Settings) -> Runner<'a> {
        Runner {
            plan,
            settings,
            ids: 0,
            results: Vec::new(),
            peer_findings: Vec::new(),
            late: Vec::new(),
            boot: None,
            reconnects: 0,
        }
    }

    fn next_id(&mut self, what: &str) -> String {
        self.ids += 1;
        format!("probe-{what}-{}", self.ids)
    }

    fn cases(&self) -> Vec<Case> {
        let mut cases = catalogue(self.plan);
        if !self.settings.only.is_empty() {
            cases.retain(|c| self.settings.only.contains(&c.id));
        }
        if let Some(max) = self.settings.max_cases {
            cases.truncate(max);
        }
        cases
    }

    async fn run(mut self, link: &mut impl Link, first: Live) -> Result<Report, String> {
        let started = Instant::now();
        let cases = self.cases();
        if cases.is_empty() {
            return Err("no case to run (is the --case id one of this plan's?)".to_owned());
        }
        let mut live = Some(first);
        let mut closed_on_purpose = false;
        for (n, case) in cases.into_iter().enumerate() {
            if let Some(rate) = self.settings.rate.filter(|r| *r > 0.0) {
                let slot = started + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(slot.into()).await;
            }
            if self
                .settings
                .duration
                .is_some_and(|d| started.elapsed() >= d)
            {
                break;
            }
            let case_started = Instant::now();
            let observed = match (&case.step, link.as_csms()) {
                (Step::Handshake(_), Some(csms)) => {
                    // A connection of the same identity beside the main one would replace it
                    // (or be refused as a duplicate): the main one closes first.
                    if let Some(mut main) = live.take() {
                        let _ = main.socket.close(1000, "").await;
                        self.absorb(main.peer.findings);
                        closed_on_purpose = true;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    self.handshake_case(csms, &case).await
                }
                (Step::Handshake(_), None) => continue,
                _ => {
                    if live.is_none() {
                        if !std::mem::take(&mut closed_on_purpose) {
                            self.reconnects += 1;
                        }
                        live = self.reconnect(link).await;
                    }
                    let Some(connection) = live.as_mut() else {
                        break;
                    };
                    let observed = self.exchange(connection, &case).await;
                    if observed.closed.is_some() || observed.alive == Some(false) {
                        if let Some(old) = live.take() {
                            self.absorb(old.peer.findings);
                        }
                    }
                    observed
                }
            };
            let findings = judge(&case, self.plan.version, &observed);
            let result = CaseResult {
                case,
                observed,
                findings,
                millis: case_started.elapsed().as_millis() as u64,
            };
            if let Some(on_result) = self.settings.on_result {
                on_result(&result);
            }
            self.results.push(result);
        }
        if let Some(mut last) = live.take() {
            last.release().await;
            let _ = last.socket.close(1000, "").await;
            let _ = tokio::time::timeout(self.settings.grace, async {
                while last.socket.receive().await.is_some() {}
            })
            .await;
            self.absorb(last.peer.findings);
        }
        Ok(Report::new(
            self.plan,
            self.results,
            self.peer_findings,
            self.boot,
            self.reconnects,
            started.elapsed(),
        ))
    }

    /// Keeps findings on the peer's own messages, the first [`MAX_PEER_FINDINGS`] of them: a
    /// peer that sends broken messages without end does not grow the report without end.
    fn absorb(&mut self, findings: impl IntoIterator<Item = Finding>) {
        let room = MAX_PEER_FINDINGS.saturating_sub(self.peer_findings.len());
        self.peer_findings.extend(findings.into_iter().take(room));
    }

    async fn reconnect(&mut self, link: &mut impl Link) -> Option<Live> {
        for _ in 0..3 {
            match link.connect(self).await {
                Ok(live) => return Some(live),
                Err(error) => {
                    tracing::warn!(%error, "reconnect failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        None
    }

    /// Handles one text message from the peer that may be its own CALL or SEND: `true` when
    /// it was one (and was answered).
    async fn peer_message(&mut self, live: &mut Live, text: &str) -> bool {
        let (id, action, payload, send) = match frame::parse(text.as_bytes(), self.plan.version) {
            Ok(Frame::Call {
                id,
                action,
                payload,
            }) => (id, action, payload, false),
            Ok(Frame::Send {
                id,
                action,
                payload,
            }) => (id, action, payload, true),
            _ => return false,
        };
        if !send {
            if let Some((_, held_id, _)) = &live.held {
                live.peer.crossed(held_id, &id);
                live.release().await;
            }
        }
        let now = DateTime::now().to_string();
        if let Some(reply) = live.peer.on_call(&id, &action, payload.get(), send, &now) {
            let due = tokio::time::Instant::now() + self.settings.hold;
            live.held = Some((due, id.into_owned(), reply));
            if self.settings.hold.is_zero() {
                live.release().await;
            }
        }
        true
    }

    /// Sends one of the probe's own valid calls and waits for its answer.
    async fn own_call(&mut self, live: &mut Live, call: &str, id: &str) -> Option<String> {
        live.socket.send_text(call).await.ok()?;
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        loop {
            let message = live.receive(deadline).await??;
            let Message::Text(text) = message else {
                if matches!(message, Message::Close { .. }) {
                    return None;
                }
                continue;
            };
            if self.peer_message(live, &text).await {
                continue;
            }
            if answer_id(&text, self.plan.version).as_deref() == Some(id) {
                return Some(text);
            }
        }
    }

    /// A liveness CALL: its id and frame.
    fn liveness(&mut self) -> Option<(String, String)> {
        let id = self.next_id("live");
        let action = self.plan.target.liveness_action();
        let call = encode_call(&id, action, &crate::catalogue::empty()).ok()?;
        let call = String::from_utf8(call).ok()?;
        Some((id, call))
    }

    /// Runs one case on the connection: sends it, waits for its answer if it asks for one,
    /// then sends a liveness CALL and waits for that (so every case ends with proof that the
    /// connection still serves, and a peer that closes after many invalid messages in a row
    /// sees a valid one between any two).
    async fn exchange(&mut self, live: &mut Live, case: &Case) -> Observed {
        let mut observed = Observed::default();
        let sent = match &case.step {
            Step::Text(text) => live.socket.send_text(text).await,
            Step::Ping(payload) => live.socket.ping(payload.as_bytes()).await,
            Step::Handshake(_) => Ok(()),
        };
        if sent.is_err() {
            observed.closed = Some(Closed {
                code: None,
                reason: "the connection was gone before the case was sent".to_owned(),
            });
            return observed;
        }
        let expected_id = match &case.expect {
            Expect::CallError { id, .. } | Expect::Answer { id, .. } => Some(id.clone()),
            _ => None,
        };
        let awaited = match &case.expect {
            Expect::Pong => Awaited::Pong,
            _ => expected_id
                .clone()
                .map_or(Awaited::Nothing, Awaited::Answer),
        };
        // Phase 1: the case's own answer (one CALL in flight: the liveness CALL waits for it).
        let answered = match awaited {
            Awaited::Nothing => true,
            awaited => {
                let deadline = tokio::time::Instant::now() + self.settings.timeout;
                self.collect(live, &mut observed, &awaited, None, deadline)
                    .await
            }
        };
        if observed.closed.is_some() {
            return observed;
        }
        if let (false, Some(id)) = (answered, &expected_id) {
            self.late.push(id.clone());
        }
        // Phase 2: the liveness CALL, and a short grace for a late or unexpected answer.
        let Some((live_id, call)) = self.liveness() else {
            return observed;
        };
        if live.socket.send_text(&call).await.is_err() {
            observed.closed = Some(Closed {
                code: None,
                reason: String::new(),
            });
            return observed;
        }
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        // A case answered already needs no grace; one that gets no answer of its own may
        // still draw one from a peer that handles messages concurrently.
        let grace = if answered && expected_id.is_some() {
            Duration::ZERO
        } else {
            self.settings.grace
        };
        let alive = self
            .collect(
                live,
                &mut observed,
                &Awaited::Nothing,
                Some((&live_id, grace)),
                deadline,
            )
            .await;
        if observed.closed.is_none() {
            observed.alive = Some(alive);
        }
        observed
    }

    /// Reads until `awaited` comes (then `true`), or the answer to the liveness CALL `live`
    /// (its id) came and the grace after it (its duration) passed (`true`), or `deadline`
    /// (`false`); answers go to `observed`, the peer's own calls are answered.
    async fn collect(
        &mut self,
        connection: &mut Live,
        observed: &mut Observed,
        awaited: &Awaited,
        live: Option<(&str, Duration)>,
        mut deadline: tokio::time::Instant,
    ) -> bool {
        let mut arrived = false;
        loop {
            let Some(message) = connection.receive(deadline).await else {
                return arrived;
            };
            match message {
                None => {
                    observed.closed = Some(Closed {
                        code: None,
                        reason: String::new(),
                    });
                    return false;
                }
                Some(Message::Close { code, reason }) => {
                    observed.closed = Some(Closed { code, reason });
                    return false;
                }
                Some(Message::Pong(payload)) => {
                    observed.pong = Some(String::from_utf8_lossy(&payload).into_owned());
                    if matches!(awaited, Awaited::Pong) {
                        return true;
                    }
                }
                Some(Message::Ping(_)) => {}
                Some(Message::Text(text)) => {
                    if self.peer_message(connection, &text).await {
                        continue;
                    }
                    let id = answer_id(&text, self.plan.version);
                    if let Some((live_id, grace)) =
                        live.filter(|(live_id, _)| id.as_deref() == Some(*live_id))
                    {
                        let _ = live_id;
                        arrived = true;
                        deadline = deadline.min(tokio::time::Instant::now() + grace);
                    } else if id.as_ref().is_some_and(|id| self.late.contains(id)) {
                        self.absorb([Finding {
                            case: id.unwrap_or_default(),
                            severity: Severity::Warning,
                            summary: format!(
                                "answered after the probe's timeout of {:?}",
                                self.settings.timeout
                            ),
                            clause: crate::case::ocpp_j(self.plan.version, "§4.1.1", "§4.1.1"),
                        }]);
                    } else {
                        let done = matches!(awaited, Awaited::Answer(expected) if id.as_ref() == Some(expected));
                        observed.answers.push(text);
                        if done {
                            return true;
                        }
                    }
                }
                Some(Message::InvalidText(bytes) | Message::Binary(bytes)) => {
                    observed
                        .answers
                        .push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
    }

    /// A handshake case: a connection of its own.
    async fn handshake_case(&mut self, link: &CsmsLink, case: &Case) -> Observed {
        let mut observed = Observed::default();
        let Step::Handshake(step) = &case.step else {
            return observed;
        };
        let url = match &step.identity {
            Some(identity) => match link.url.rfind('/') {
                Some(i) => format!("{}/{identity}", &link.url[..i]),
                None => link.url.clone(),
            },
            None => link.url.clone(),
        };
        let mut config = ClientConfig::new(url, vec![self.plan.version]);
        config.connect_timeout = self.settings.timeout;
        config.max_message_size = MAX_MESSAGE_SIZE;
        #[cfg(feature = "tls")]
        {
            config.tls = self.settings.tls.clone();
        }
        let offer = link.offer(step.subprotocols.clone(), step.credentials);
        let opened = match raw::open(&config, &offer).await {
            Ok(opened) => opened,
            Err(error) => {
                tracing::info!(%error, case = %case.id, "handshake failed");
                observed.upgrade = Some(Upgrade {
                    status: 0,
                    subprotocol: None,
                    closed_by_server: true,
                });
                return observed;
            }
        };
        let mut closed_by_server = false;
        if let Some(mut socket) = opened.socket {
            // Does the server close it by itself? A short wait: it must do so "immediately".
            let wait = self.settings.timeout.min(Duration::from_secs(1));
            let until = tokio::time::Instant::now() + wait;
            loop {
                match tokio::time::timeout_at(until, socket.receive()).await {
                    Err(_) => break,
                    Ok(None | Some(Message::Close { .. })) => {
                        closed_by_server = true;
                        break;
                    }
                    Ok(Some(_)) => {}
                }
            }
            if !closed_by_server {
                let _ = socket.close(1000, "").await;
            }
        }
        observed.upgrade = Some(Upgrade {
            status: opened.status,
            subprotocol: opened.subprotocol,
            closed_by_server,
        });
        observed
    }
}

/// What phase 1 of a case waits for.
enum Awaited {
    /// Nothing: the case gets no answer of its own.
    Nothing,
    /// The answer with this message id.
    Answer(String),
    /// A pong.
    Pong,
}

/// The message id of an answer frame (CALLRESULT, CALLERROR, CALLRESULTERROR).
fn answer_id(text: &str, version: OcppVersion) -> Option<String> {
    match frame::parse(text.as_bytes(), version).ok()? {
        Frame::CallResult { id, .. } => Some(id.into_owned()),
        Frame::CallError(error) | Frame::CallResultError(error) => Some(error.id.into_owned()),
        _ => None,
    }
}
