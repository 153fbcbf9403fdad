//! A real `nats-server` with JetStream for each test (never a mock), and small helpers.

#![allow(dead_code)]

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `nats-server` binary: `$NATS_SERVER`, else what `ocpp-cluster/nats-server.sh`
/// installed, else the one on PATH.
pub fn nats_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return path.into();
    }
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/tools/bin/nats-server");
    if installed.exists() {
        return installed;
    }
    let on_path = Command::new("nats-server").arg("--version").output();
    assert!(
        on_path.is_ok(),
        "no nats-server: run `bash ocpp-cluster/nats-server.sh` (Debian's package, unpacked into .ci/tools)"
    );
    PathBuf::from("nats-server")
}

/// A nats-server with JetStream on a free loopback port, its storage in a temporary
/// directory; killed and removed on drop.
pub struct Nats {
    child: Child,
    dir: PathBuf,
    pub url: String,
    pub addr: SocketAddr,
}

impl Nats {
    pub async fn start() -> Nats {
        let addr = free_port();
        let dir = std::env::temp_dir().join(format!(
            "ocpp-cluster-test-{}-{}",
            std::process::id(),
            addr.port()
        ));
        let child = Command::new(nats_server_binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &addr.port().to_string(),
                "-js",
                "-sd",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        wait_for(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(addr).await.is_ok()
        })
        .await;
        Nats {
            child,
            dir,
            url: format!("nats://{addr}"),
            addr,
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on (yet).
pub fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// Polls `check` until it holds; panics after `limit`.
pub async fn wait_for<F, Fut>(limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
