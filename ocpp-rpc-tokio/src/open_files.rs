//! The process's open-file limit: every connection holds a file descriptor, so the limit bounds
//! how many stations one process can serve.

/// Descriptors a server process needs besides its connections' (the listener, the runtime's,
/// logs, a store, a few connections being refused).
const SPARE: u64 = 64;

/// Raises the soft open-file limit so that `connections` connections fit (up to the hard
/// limit, which an unprivileged process cannot raise), and returns the limit now in effect.
///
/// [`Server::start`](crate::Server::start) calls it with
/// [`Limits::max_connections`](crate::Limits::max_connections); call it yourself when you run
/// connections through [`Acceptor::serve`](crate::Acceptor::serve). Logs a warning when the
/// hard limit is too low, with how many connections fit: raise the hard limit (`ulimit -Hn`,
/// `LimitNOFILE=` in a systemd unit) or run more processes on one port (`SO_REUSEPORT`, see
/// [`Server::from_listener`](crate::Server::from_listener)).
pub fn raise_open_file_limit(connections: usize) -> std::io::Result<u64> {
    let wanted = u64::try_from(connections)
        .unwrap_or(u64::MAX)
        .saturating_add(SPARE);
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) => {
            if limit < wanted {
                tracing::warn!(
                    open_file_limit = limit,
                    max_connections = connections,
                    "the open-file limit is {limit}, so this process can hold about {} \
                     connections: raise its hard limit or run more server processes on one \
                     port (SO_REUSEPORT)",
                    limit.saturating_sub(SPARE)
                );
            } else {
                tracing::debug!(open_file_limit = limit, "open-file limit");
            }
            Ok(limit)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit");
            Err(error)
        }
    }
}
