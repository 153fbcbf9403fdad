//! A real `nats-server` for tests (feature `testing`): started with JetStream on a free
//! loopback port, storage in a temporary directory, killed and removed on drop. For this
//! crate's tests, the `ocpp` command's, and applications that test their own cluster code
//! against NATS rather than a mock.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `nats-server` binary: `$NATS_SERVER`, else the one `ocpp-cluster/nats-server.sh`
/// unpacked into the workspace's `.ci/tools/bin`, else `nats-server` on PATH.
pub fn nats_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return path.into();
    }
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/tools/bin/nats-server");
    if installed.exists() {
        return installed;
    }
    PathBuf::from("nats-server")
}

/// A nats-server with JetStream, for as long as the value lives.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    dir: PathBuf,
    url: String,
    addr: SocketAddr,
}

impl NatsServer {
    /// Starts one and waits until it accepts connections (10 s at most).
    pub async fn start() -> std::io::Result<NatsServer> {
        let addr = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "ocpp-cluster-nats-{}-{}",
            std::process::id(),
            addr.port()
        ));
        let binary = nats_server_binary();
        let child = Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", &addr.port().to_string(), "-js", "-sd"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot run {} ({e}): run `bash ocpp-cluster/nats-server.sh`, or set NATS_SERVER",
                        binary.display()
                    ),
                )
            })?;
        let server = NatsServer {
            child,
            dir,
            url: format!("nats://{addr}"),
            addr,
        };
        let ready = wait_until(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(addr).await.is_ok()
        });
        if ready.await {
            Ok(server)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "nats-server did not start listening within 10 s",
            ))
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback address with a port nobody listened on a moment ago.
pub fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Polls `check` every 20 ms until it holds (`true`) or `limit` has passed (`false`).
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
