//! `wsdeck discover TARGET`: the agent's AsyncAPI document, or a plain word that it has none.

use crate::cli::target::Resolved;
use crate::engine::auth::{AuthSource, TokenProvider};
use crate::vocab::asyncapi::{self, Discovery, Document, Message};
use crate::{engine::Direction, exit};
use anyhow::Result;
use std::io::Write;
use std::sync::Arc;

pub async fn run(resolved: Resolved) -> Result<i32> {
    let spec = &resolved.spec;
    let tokens =
        (spec.auth != AuthSource::None).then(|| Arc::new(TokenProvider::new(spec.auth.clone())));
    let found = asyncapi::discover(spec, tokens).await;
    let mut out = std::io::stdout().lock();
    match found {
        Ok(Discovery::Found { url, document }) => {
            print_document(&mut out, &url, &document)?;
            Ok(exit::OK)
        }
        Ok(Discovery::None { url }) => {
            writeln!(
                out,
                "this agent publishes no AsyncAPI document (GET {url}: 404)"
            )?;
            if spec.target.is_foundry() {
                writeln!(
                    out,
                    "  (for Foundry this URL is inferred from the WebSocket route: a 404 may also mean the platform does not route it)"
                )?;
            }
            Ok(exit::OK)
        }
        Err(e) => {
            let mut err = std::io::stderr().lock();
            writeln!(err, "wsdeck: discover: {e}")?;
            if let asyncapi::AsyncApiError::Refused { body, .. } = &e
                && !body.is_empty()
            {
                writeln!(err, "  body: {body}")?;
            }
            let advice = e.advice();
            if !advice.is_empty() {
                writeln!(err, "  what to do:")?;
                for a in advice {
                    writeln!(err, "  - {a}")?;
                }
            }
            Ok(e.exit_code())
        }
    }
}

fn print_document(out: &mut impl Write, url: &str, doc: &Document) -> std::io::Result<()> {
    let title = if doc.title.is_empty() {
        "(untitled)"
    } else {
        doc.title.as_str()
    };
    if doc.version.is_empty() {
        writeln!(out, "{title}")?;
    } else {
        writeln!(out, "{title} {}", doc.version)?;
    }
    if let Some(d) = doc
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        for line in d.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out, "  AsyncAPI {} from {url}", doc.asyncapi)?;
    writeln!(out)?;
    writeln!(out, "channels ({})", doc.channels.len())?;
    for c in &doc.channels {
        match &c.address {
            Some(a) if a != &c.name => writeln!(out, "  {}  {a}", c.name)?,
            _ => writeln!(out, "  {}", c.name)?,
        }
    }
    writeln!(out)?;
    let groups = group(&doc.messages);
    writeln!(out, "messages ({})", groups.len())?;
    let name_w = groups.iter().map(|g| g.0.name.len()).max().unwrap_or(0);
    for (m, dirs) in &groups {
        let dirs = if dirs.is_empty() {
            "?".to_string()
        } else {
            dirs.iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = format!("  {:<name_w$}  {dirs:<7}", m.name);
        if let Some(ct) = &m.content_type {
            line.push_str(&format!("  {ct}"));
        }
        if let Some(c) = &m.channel
            && doc.channels.len() > 1
        {
            line.push_str(&format!("  on {c}"));
        }
        writeln!(out, "{}", line.trim_end())?;
        let fields = m.fields();
        if fields.is_empty() {
            writeln!(out, "      payload: {}", m.payload_types())?;
            continue;
        }
        let field_w = fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for f in fields {
            let req = if f.required { "  required" } else { "" };
            writeln!(out, "      {:<field_w$}  {}{req}", f.name, f.types)?;
        }
    }
    Ok(())
}

/// A message the document uses both ways is one entry per direction; shown once, `out, in`.
fn group(messages: &[Message]) -> Vec<(&Message, Vec<Direction>)> {
    let mut groups: Vec<(&Message, Vec<Direction>)> = Vec::new();
    for m in messages {
        let same = groups.iter_mut().find(|(g, _)| {
            g.name == m.name
                && g.channel == m.channel
                && g.payload == m.payload
                && g.content_type == m.content_type
        });
        match same {
            Some((_, dirs)) => dirs.extend(m.direction),
            None => groups.push((m, m.direction.into_iter().collect())),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_prints_its_title_channels_and_grouped_messages() {
        let doc = asyncapi::parse_json(
            r##"{"asyncapi":"3.0.0","info":{"title":"T","version":"2","description":"D"},
            "channels":{"c":{"address":"/c","messages":{"m":{"contentType":"application/json",
              "payload":{"type":"object","required":["type"],"properties":{"type":{"const":"m"},"n":{"type":"integer"}}}},
              "s":{"payload":{"type":"string"}}}}},
            "operations":{"a":{"action":"receive","channel":{"$ref":"#/channels/c"}},
              "b":{"action":"send","channel":{"$ref":"#/channels/c"},"messages":[{"$ref":"#/channels/c/messages/m"}]}}}"##,
        )
        .expect("doc");
        let mut out = Vec::new();
        print_document(&mut out, "http://h/x", &doc).expect("print");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(
            text,
            "T 2\n  D\n  AsyncAPI 3.0.0 from http://h/x\n\nchannels (1)\n  c  /c\n\nmessages (2)\n  m  out, in  application/json\n      type  const \"m\"  required\n      n     integer\n  s  out\n      payload: string\n"
        );
    }
}
