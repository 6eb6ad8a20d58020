//! The connection a [`RedisLock`](crate::RedisLock) talks through: one
//! server behind a self-reconnecting [`ConnectionManager`], or a Redis
//! Cluster behind the cluster client, chosen by the URL.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::config::RedisLockConfig;

/// Where the lock's keys live.
#[derive(Clone)]
pub(crate) enum Connection {
    /// One server (or a primary with replicas).
    Single(ConnectionManager),
    /// A Redis Cluster: every command is routed to the node serving its
    /// key's slot.
    Cluster(ClusterConnection),
}

/// What a `REDIS_URL`-style string names: one server, or the seed nodes of
/// a cluster (two or more URLs separated by commas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Single(&'a str),
    Cluster(Vec<&'a str>),
}

/// An empty entry in a comma-separated list of node URLs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("empty entry in the list of redis node URLs {0:?}")]
pub struct EmptyNodeUrl(pub String);

impl<'a> Target<'a> {
    /// `redis://a:1` is one server; `redis://a:1,redis://b:2,...` a cluster.
    pub(crate) fn parse(url: &'a str) -> Result<Self, EmptyNodeUrl> {
        let nodes: Vec<&str> = url.split(',').map(str::trim).collect();
        if nodes.iter().any(|node| node.is_empty()) {
            return Err(EmptyNodeUrl(url.to_owned()));
        }
        Ok(match nodes.as_slice() {
            [single] => Target::Single(single),
            _ => Target::Cluster(nodes),
        })
    }
}

impl Connection {
    /// A connection that connects in the background: on the first command
    /// for one server, at once (without waiting) for a cluster. Fails only
    /// on an invalid URL. Needs a Tokio runtime.
    pub(crate) fn lazy(url: &str, config: &RedisLockConfig) -> RedisResult<Self> {
        Ok(match Target::parse(url).map_err(invalid_url)? {
            Target::Single(url) => {
                let client = redis::Client::open(url)?;
                Connection::Single(ConnectionManager::new_lazy_with_config(
                    client,
                    config.manager_config(),
                )?)
            }
            Target::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes).build()?;
                Connection::Cluster(
                    client.get_pending_async_connection_with_config(config.cluster_config()),
                )
            }
        })
    }

    /// Whether this is a cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Connection::Cluster(_))
    }
}

fn invalid_url(error: EmptyNodeUrl) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::InvalidClientConfig,
        "invalid redis URL",
        error.to_string(),
    ))
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(conn) => conn.req_packed_command(cmd),
            Connection::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(conn) => conn.get_db(),
            Connection::Cluster(conn) => conn.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_is_one_server_and_a_list_is_a_cluster() {
        assert_eq!(
            Target::parse("redis://127.0.0.1:6379/0"),
            Ok(Target::Single("redis://127.0.0.1:6379/0"))
        );
        assert_eq!(
            Target::parse("redis://127.0.0.1:7101, redis://127.0.0.1:7102,redis://127.0.0.1:7103"),
            Ok(Target::Cluster(vec![
                "redis://127.0.0.1:7101",
                "redis://127.0.0.1:7102",
                "redis://127.0.0.1:7103"
            ]))
        );
        assert!(Target::parse("redis://127.0.0.1:7101,").is_err());
        assert!(Target::parse("").is_err());
    }
}
