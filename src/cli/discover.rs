//! `wsdeck discover TARGET`: the agent's AsyncAPI document, or a plain word that it has none.

use crate::cli::target::Resolved;
use anyhow::Result;

pub async fn run(resolved: Resolved) -> Result<i32> {
    anyhow::bail!(
        "discover {}: not built yet",
        resolved.spec.target.describe()
    )
}
