//! TARGET on the command line, in the `:` command line and in the session form: one clap
//! definition, so every place that names a target validates it the same way.

use clap::Args;
use std::path::PathBuf;

/// TARGET: a ws:// or wss:// URL; --endpoint/--account+--project with --agent (Foundry);
/// --local [--port P]; or --session NAME.
#[derive(Debug, Args, Clone, Default, PartialEq)]
pub struct TargetArgs {
    /// A ws:// or wss:// URL.
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Foundry project endpoint (https://{account}.services.ai.azure.com/api/projects/{project});
    /// with --agent and no endpoint, $FOUNDRY_PROJECT_ENDPOINT.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Foundry account (instead of --endpoint, with --project).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Foundry project (with --account).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// Hosted agent name.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Foundry route form.
    #[arg(long, value_name = "ga|preview", default_value = "ga")]
    pub route: String,
    /// Where the preview route's HostedAgents=V1Preview flag goes.
    #[arg(long, value_name = "query|header", default_value = "query")]
    pub preview_flag: String,
    /// A local agentserver container: ws://localhost:PORT/invocations_ws.
    #[arg(long)]
    pub local: bool,
    /// Port of the local agent (default 8088, the SDK's).
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// A saved session.
    #[arg(long = "session", value_name = "NAME")]
    pub session: Option<String>,
    /// The agent_session_id (Foundry: generated when absent).
    #[arg(long, value_name = "ID")]
    pub session_id: Option<String>,
    /// Use a fresh agent_session_id, even for a saved session.
    #[arg(long)]
    pub new_session_id: bool,
    /// An extra request header, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "K: V")]
    pub headers: Vec<String>,
    /// Offer a subprotocol (repeatable; none by default: agentserver agents answer none).
    #[arg(long = "subprotocol", value_name = "P")]
    pub subprotocols: Vec<String>,
    /// Token source: auto|az|azd|mi|workload|env:VAR|cmd:COMMAND|none.
    #[arg(long, value_name = "SOURCE")]
    pub auth: Option<String>,
    /// Extra root certificates (PEM) for wss://.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Seconds allowed for DNS, TCP, TLS and the upgrade, each.
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<f64>,
    /// Send a keepalive ping every SECS while open (round-trip times in the pong rows; a
    /// ping with no pong by the next one is reported).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub ping_interval: Option<f64>,
    /// Largest message accepted, in bytes (default 64 MiB; 0 = no limit).
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
}
