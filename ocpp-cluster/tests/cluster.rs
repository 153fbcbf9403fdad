//! The cluster layer against a real nats-server, nodes in this process: presence, routed
//! calls, the duplicate-identity policy across nodes, calls to a node that is gone, and
//! station calls handed to workers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Nats, wait_for};
use ocpp_cluster::{CallError, Cluster, ClusterConfig, Job, Node, NodeConfig, Worker};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, CallFailure, ErrorCode, RpcError};
use ocpp_rpc_tokio::{
    ClientConfig, ConnectError, Connection, DuplicateIdentity, Handlers, RunningServer, Server,
    ServerConfig, connect,
};
use ocpp_types::{OcppVersion, v201};

const LIMIT: Duration = Duration::from_secs(10);

fn config() -> ClusterConfig {
    let mut config = ClusterConfig::default();
    config.presence_ttl = Duration::from_secs(3);
    config.call_timeout = Duration::from_secs(5);
    config.handoff_timeout = Duration::from_secs(10);
    config.worker_ack_wait = Duration::from_secs(1);
    config
}

struct TestNode {
    node: Node,
    server: RunningServer,
}

impl TestNode {
    async fn start(nats: &Nats, node: NodeConfig, cluster: ClusterConfig) -> TestNode {
        let cluster = Cluster::connect(nats.url(), cluster)
            .await
            .expect("cluster");
        let duplicates = node.duplicate_identity;
        let node = Node::join(&cluster, node).await.expect("node joins");
        let mut config = ServerConfig::default();
        config.duplicate_identity = duplicates;
        config.session.call_timeout_ms = 1_000;
        let server = Server::bind("127.0.0.1:0", config, node.handlers(Handlers::new()))
            .await
            .expect("bind");
        let server = node.attach(server).start().expect("start");
        TestNode { node, server }
    }

    fn url(&self, identity: &str) -> String {
        format!("ws://{}/{identity}", self.server.local_addr())
    }
}

fn named(name: &str) -> NodeConfig {
    NodeConfig::new(name).expect("a valid name")
}

/// A node that refuses a station another node holds.
fn refusing(name: &str) -> NodeConfig {
    let mut node = named(name);
    node.duplicate_identity = DuplicateIdentity::RefuseNew;
    node
}

/// A station answering ClearCache with `status`, after `delay`, counting how many of its
/// calls run at once (the highest in `busiest`).
fn station_handlers(
    status: v201::ClearCacheStatusEnumType,
    delay: Duration,
    busiest: Arc<AtomicUsize>,
) -> Handlers {
    let running = Arc::new(AtomicUsize::new(0));
    let mut handlers = Handlers::new();
    handlers.on(move |_, _: v201::ClearCacheRequest| {
        let running = running.clone();
        let busiest = busiest.clone();
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            busiest.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(v201::ClearCacheResponse::new(status))
        }
    });
    handlers.on(|_, _: v201::ResetRequest| async {
        // Never answers in time.
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(v201::ResetResponse::new(
            v201::ResetStatusEnumType::Accepted,
        ))
    });
    handlers
}

async fn station(
    url: &str,
    status: v201::ClearCacheStatusEnumType,
) -> Result<Connection, ConnectError> {
    let handlers = station_handlers(status, Duration::ZERO, Arc::default());
    connect(&ClientConfig::new(url, [OcppVersion::V201]), handlers).await
}

async fn located(cluster: &Cluster, identity: &str, node: Option<&str>) {
    wait_for(LIMIT, || async {
        cluster
            .locate(identity)
            .await
            .expect("presence readable")
            .as_deref()
            == node
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_follows_a_station_and_calls_reach_it_from_a_process_holding_none() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, named("a"), config()).await;
    // The application: a NATS connection of its own, no station.
    let app = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");

    let cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    // Case-insensitive, as the server's registry.
    located(&app, "cp-1", Some("a")).await;
    // Held before its presence shows: a call routed at once finds the connection.
    assert_eq!(a.node.stations(), 1);

    let answer = app
        .call("CP-1", v201::ClearCacheRequest::default())
        .await
        .expect("answered");
    assert_eq!(answer.status, v201::ClearCacheStatusEnumType::Accepted);
    // The node itself calls its own station directly.
    let any = a
        .node
        .call_any(
            "CP-1",
            AnyRequest::from_message(v201::ClearCacheRequest::default()),
        )
        .await
        .expect("answered");
    assert!(any.message::<v201::ClearCacheResponse>().is_some());

    // A station nobody holds fails at once.
    let started = tokio::time::Instant::now();
    let unknown = app.call("CP-404", v201::ClearCacheRequest::default()).await;
    assert_eq!(unknown, Err(CallError::NotConnected("CP-404".into())));
    assert!(started.elapsed() < Duration::from_secs(1));

    // Identities that are no NATS token travel as they are (`identifierString` allows
    // `* - _ = + | @ .`, of which NATS keys take only `-` and `_`).
    let odd = "CP.2*=+|@";
    let encoded = "CP.2*=+%7C@";
    let _odd = station(&a.url(encoded), v201::ClearCacheStatusEnumType::Rejected)
        .await
        .expect("connects");
    located(&app, odd, Some("a")).await;
    let answer = app.call(odd, v201::ClearCacheRequest::default()).await;
    assert_eq!(
        answer.map(|r| r.status),
        Ok(v201::ClearCacheStatusEnumType::Rejected)
    );

    // Closed: the entry goes at once (not at the TTL).
    cp.close().await;
    wait_for(Duration::from_secs(2), || async {
        app.locate("CP-1").await.expect("readable").is_none()
    })
    .await;
    assert_eq!(
        app.call("CP-1", v201::ClearCacheRequest::default()).await,
        Err(CallError::NotConnected("CP-1".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_that_connects_to_another_node_is_closed_on_the_first() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, named("a"), config()).await;
    let b = TestNode::start(&nats, named("b"), config()).await;
    let app = a.node.cluster().clone();

    let first = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    located(&app, "CP-1", Some("a")).await;
    // The application's handle remembers that node a held CP-1.
    let caller = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");
    let answer = caller
        .call("CP-1", v201::ClearCacheRequest::default())
        .await;
    assert_eq!(
        answer.map(|r| r.status),
        Ok(v201::ClearCacheStatusEnumType::Accepted)
    );
    let second = station(&b.url("CP-1"), v201::ClearCacheStatusEnumType::Rejected)
        .await
        .expect("connects");
    tokio::time::timeout(LIMIT, first.closed())
        .await
        .expect("the older connection is closed on node a");
    located(&app, "CP-1", Some("b")).await;
    wait_for(LIMIT, || async { a.node.stations() == 0 }).await;
    // Calls go to the newer connection, from node a too.
    let answer = a
        .node
        .call_any(
            "CP-1",
            AnyRequest::from_message(v201::ClearCacheRequest::default()),
        )
        .await
        .expect("answered through b");
    assert_eq!(
        answer
            .message::<v201::ClearCacheResponse>()
            .map(|r| r.status),
        Some(v201::ClearCacheStatusEnumType::Rejected)
    );
    // The remembered route is wrong now; the call finds the station on b.
    let answer = caller
        .call("CP-1", v201::ClearCacheRequest::default())
        .await;
    assert_eq!(
        answer.map(|r| r.status),
        Ok(v201::ClearCacheStatusEnumType::Rejected)
    );
    // Node a's closing of the old connection did not remove b's entry.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.locate("CP-1").await.expect("readable").as_deref(),
        Some("b")
    );
    assert!(!second.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_new_refuses_a_station_connected_to_another_node() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, refusing("a"), config()).await;
    let b = TestNode::start(&nats, refusing("b"), config()).await;

    let first = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    located(a.node.cluster(), "CP-1", Some("a")).await;
    match station(&b.url("CP-1"), v201::ClearCacheStatusEnumType::Rejected).await {
        Err(ConnectError::Refused(status)) => assert_eq!(status, 409),
        other => panic!(
            "expected a 409 refusal, got {:?}",
            other.map(|c| c.identity().to_owned())
        ),
    }
    assert!(!first.is_closed());
    assert_eq!(b.node.stations(), 0);
    // Once the first is gone, the station may connect to b.
    first.close().await;
    located(a.node.cluster(), "CP-1", None).await;
    let _second = station(&b.url("CP-1"), v201::ClearCacheStatusEnumType::Rejected)
        .await
        .expect("connects");
    located(a.node.cluster(), "CP-1", Some("b")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routed_calls_keep_the_sessions_rules_one_in_flight_and_its_timeout() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, named("a"), config()).await;
    let app = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");
    let busiest = Arc::new(AtomicUsize::new(0));
    let handlers = station_handlers(
        v201::ClearCacheStatusEnumType::Accepted,
        Duration::from_millis(100),
        busiest.clone(),
    );
    let _cp = connect(
        &ClientConfig::new(a.url("CP-1"), [OcppVersion::V201]),
        handlers,
    )
    .await
    .expect("connects");
    located(&app, "CP-1", Some("a")).await;

    let calls = (0..5).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.call("CP-1", v201::ClearCacheRequest::default()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        let answer = call.await.expect("task");
        assert_eq!(
            answer.map(|r| r.status),
            Ok(v201::ClearCacheStatusEnumType::Accepted)
        );
    }
    assert_eq!(
        busiest.load(Ordering::SeqCst),
        1,
        "the station saw one call at a time"
    );

    // The node's session times the call out (1 s here), and the caller hears it as such.
    let started = tokio::time::Instant::now();
    let reset = v201::ResetRequest::new(v201::ResetEnumType::Immediate);
    assert_eq!(app.call("CP-1", reset).await, Err(CallError::Timeout));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_node_that_is_gone_fails_at_once_and_its_presence_expires() {
    let nats = Nats::start().await.expect("nats-server");
    let app = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");
    // What a node that died leaves: its entry, and nobody on its subject.
    let jetstream = async_nats::jetstream::new(app.client().clone());
    let presence = jetstream
        .get_key_value("ocpp-presence")
        .await
        .expect("bucket");
    presence
        .put("cp-9", "dead dead-1-0".into())
        .await
        .expect("written");
    assert_eq!(
        app.locate("CP-9").await.expect("readable").as_deref(),
        Some("dead")
    );

    let started = tokio::time::Instant::now();
    match app.call("CP-9", v201::ClearCacheRequest::default()).await {
        Err(CallError::Unreachable { node, .. }) => assert_eq!(node, "dead"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    // Nobody refreshes it: gone after the TTL (3 s).
    located(&app, "CP-9", None).await;
    assert_eq!(
        app.call("CP-9", v201::ClearCacheRequest::default()).await,
        Err(CallError::NotConnected("CP-9".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refreshes_its_presence_past_the_ttl() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, named("a"), config()).await;
    let _cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    located(a.node.cluster(), "CP-1", Some("a")).await;
    // Two TTLs later the entry is still there (refreshed every second).
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(
        a.node
            .cluster()
            .locate("CP-1")
            .await
            .expect("readable")
            .as_deref(),
        Some("a")
    );
}

fn transaction_event(id: &str) -> v201::TransactionEventRequest {
    let action = AnyAction::from_name(OcppVersion::V201, "TransactionEvent").expect("2.0.1");
    let json = format!(
        r#"{{"eventType":"Started","timestamp":"2026-12-02T10:00:00Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{{"transactionId":"{id}"}}}}"#
    );
    AnyRequest::decode(action, &json)
        .expect("valid")
        .into_message()
        .expect("a TransactionEvent")
}

/// The worker's next job, which must come within the limit and be readable.
async fn next_job(worker: &mut Worker) -> Job {
    tokio::time::timeout(LIMIT, worker.next())
        .await
        .expect("a job in time")
        .expect("the stream goes on")
        .expect("readable")
}

async fn handoff_node(nats: &Nats, cluster: ClusterConfig) -> TestNode {
    let action = AnyAction::from_name(OcppVersion::V201, "TransactionEvent").expect("2.0.1");
    TestNode::start(nats, named("a").handoff([action]), cluster).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_off_call_is_answered_by_a_worker_and_survives_one_that_dies() {
    let nats = Nats::start().await.expect("nats-server");
    let a = handoff_node(&nats, config()).await;
    let cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");

    // No worker yet: the call waits, stored.
    let call = tokio::spawn({
        let cp = cp.clone();
        async move { cp.call(transaction_event("tx-1")).await }
    });
    let workers = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");
    let stream = async_nats::jetstream::new(workers.client().clone());
    wait_for(LIMIT, || async {
        let mut stream = stream.get_stream("ocpp-calls").await.expect("stream");
        stream.info().await.map(|i| i.state.messages).unwrap_or(0) == 1
    })
    .await;
    assert!(!call.is_finished());

    // A worker takes it and dies without answering.
    let mut doomed = Worker::join(&workers, "tx").await.expect("worker");
    let job = next_job(&mut doomed).await;
    assert_eq!(job.identity(), "CP-1");
    assert_eq!(job.node(), "a");
    assert_eq!(job.deliveries(), 1);
    drop(job);
    drop(doomed);

    // Another gets it again after the ack wait (1 s) and answers.
    let mut worker = Worker::join(&workers, "tx").await.expect("worker");
    let job = next_job(&mut worker).await;
    assert_eq!(job.deliveries(), 2);
    let event = job
        .request()
        .message::<v201::TransactionEventRequest>()
        .expect("the station's call");
    assert_eq!(event.transaction_info.transaction_id.as_str(), "tx-1");
    let response = v201::TransactionEventResponse {
        total_cost: Some(1.5),
        ..Default::default()
    };
    job.answer(AnyResponse::from_message(response))
        .await
        .expect("answered");
    let answer = call.await.expect("task").expect("the station is answered");
    assert_eq!(answer.total_cost, Some(1.5));

    // A worker's CALLERROR reaches the station as one.
    let call = tokio::spawn({
        let cp = cp.clone();
        async move { cp.call(transaction_event("tx-2")).await }
    });
    let job = next_job(&mut worker).await;
    job.fail(RpcError::new(
        ErrorCode::PropertyConstraintViolation,
        "unknown EVSE",
    ))
    .await
    .expect("failed");
    match call.await.expect("task") {
        Err(CallFailure::CallError(error)) => {
            assert_eq!(error.code, ErrorCode::PropertyConstraintViolation);
            assert_eq!(error.description, "unknown EVSE");
        }
        other => panic!("expected a CALLERROR, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_worker_the_station_hears_an_error_and_the_call_stays_stored() {
    let nats = Nats::start().await.expect("nats-server");
    let mut cluster = config();
    cluster.handoff_timeout = Duration::from_millis(500);
    let a = handoff_node(&nats, cluster).await;
    let cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    match cp.call(transaction_event("tx-1")).await {
        Err(CallFailure::CallError(error)) => assert_eq!(error.code, ErrorCode::InternalError),
        other => panic!("expected InternalError, got {other:?}"),
    }
    // It is in the stream, for a worker that comes later.
    let mut worker = Worker::join(a.node.cluster(), "late")
        .await
        .expect("worker");
    let job = next_job(&mut worker).await;
    assert_eq!(
        job.request()
            .message::<v201::TransactionEventRequest>()
            .map(|e| e.transaction_info.transaction_id.as_str()),
        Some("tx-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_are_not_nats_tokens_are_refused() {
    assert!(NodeConfig::new("a.b").is_err());
    assert!(NodeConfig::new("").is_err());
    let nats = Nats::start().await.expect("nats-server");
    let mut bad = config();
    bad.prefix = "oc pp".into();
    assert!(Cluster::connect(nats.url(), bad).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_new_lets_a_station_reconnect_to_the_same_node_at_once() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, refusing("a"), config()).await;
    for _ in 0..5 {
        let cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
            .await
            .expect("connects");
        located(a.node.cluster(), "CP-1", Some("a")).await;
        cp.close().await;
    }
    // The last connection, made right after a close, is kept and present.
    let cp = station(&a.url("CP-1"), v201::ClearCacheStatusEnumType::Accepted)
        .await
        .expect("connects");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!cp.is_closed());
    located(a.node.cluster(), "CP-1", Some("a")).await;
    let answer = a
        .node
        .cluster()
        .call("CP-1", v201::ClearCacheRequest::default())
        .await;
    assert!(answer.is_ok(), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_takes_the_presence_ttl_of_the_bucket_that_exists() {
    let nats = Nats::start().await.expect("nats-server");
    let first = Cluster::connect(nats.url(), config())
        .await
        .expect("cluster");
    assert_eq!(first.config().presence_ttl, Duration::from_secs(3));
    // A node configured for 15 s would refresh every 5 s and let 3-second entries lapse.
    let second = Cluster::connect(nats.url(), ClusterConfig::default())
        .await
        .expect("cluster");
    assert_eq!(second.config().presence_ttl, Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_new_keeps_exactly_one_of_two_simultaneous_connections() {
    let nats = Nats::start().await.expect("nats-server");
    let a = TestNode::start(&nats, refusing("a"), config()).await;
    let b = TestNode::start(&nats, refusing("b"), config()).await;
    for round in 0..5 {
        let id = format!("CP-{round}");
        let (url_a, url_b) = (a.url(&id), b.url(&id));
        let (on_a, on_b) = tokio::join!(
            station(&url_a, v201::ClearCacheStatusEnumType::Accepted),
            station(&url_b, v201::ClearCacheStatusEnumType::Rejected),
        );
        // Refused in the handshake, or admitted by both and closed by the node that lost the
        // presence entry: one stays.
        wait_for(LIMIT, || async {
            let open = [&on_a, &on_b]
                .iter()
                .filter(|c| c.as_ref().is_ok_and(|c| !c.is_closed()))
                .count();
            open == 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let a_open = on_a.as_ref().is_ok_and(|c| !c.is_closed());
        let b_open = on_b.as_ref().is_ok_and(|c| !c.is_closed());
        assert!(a_open != b_open, "round {round}: a {a_open}, b {b_open}");
        let holder = if a_open { "a" } else { "b" };
        located(a.node.cluster(), &id, Some(holder)).await;
        let expected = if a_open {
            v201::ClearCacheStatusEnumType::Accepted
        } else {
            v201::ClearCacheStatusEnumType::Rejected
        };
        let answer = a
            .node
            .cluster()
            .call(&id, v201::ClearCacheRequest::default())
            .await;
        assert_eq!(answer.map(|r| r.status), Ok(expected), "round {round}");
    }
}
