//! A failed TLS handshake in plain words: which of the usual causes it was (a self-signed or
//! privately issued certificate, one marked as a CA, an expired one, one for other names, a
//! server that does not speak TLS), with the dates and names rustls reports, and what to do.

use rustls::pki_types::{ServerName, UnixTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsProblem {
    /// No certificate authority this machine trusts signed it: self-signed, or from a private CA.
    UnknownIssuer,
    /// The server's certificate is marked as a certificate authority (basicConstraints CA:TRUE).
    CaAsServerCert,
    /// `not_after` and the time it was checked at, as `2026-01-02 03:04 UTC`, when rustls said.
    Expired {
        not_after: Option<String>,
        now: Option<String>,
    },
    NotYetValid {
        not_before: Option<String>,
        now: Option<String>,
    },
    /// The certificate names `presented`, not `expected` (the host in the URL).
    WrongName {
        expected: String,
        presented: Vec<String>,
    },
    /// What came back is not TLS (a plain ws:// or HTTP server on that port, say).
    NotTls(String),
    /// The server ended the handshake with an alert.
    Alert(String),
    Other(String),
}

impl TlsProblem {
    /// The problem behind an I/O error from the TLS handshake (tokio-rustls wraps rustls's own).
    pub fn from_io(e: &std::io::Error) -> Self {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(r) => TlsProblem::from_rustls(r),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => TlsProblem::Other(
                "the server closed the connection during the TLS handshake".into(),
            ),
            None => TlsProblem::Other(e.to_string()),
        }
    }

    pub fn from_rustls(e: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                C::UnknownIssuer => TlsProblem::UnknownIssuer,
                C::Expired => TlsProblem::Expired {
                    not_after: None,
                    now: None,
                },
                C::ExpiredContext { time, not_after } => TlsProblem::Expired {
                    not_after: Some(when(*not_after)),
                    now: Some(when(*time)),
                },
                C::NotValidYet => TlsProblem::NotYetValid {
                    not_before: None,
                    now: None,
                },
                C::NotValidYetContext { time, not_before } => TlsProblem::NotYetValid {
                    not_before: Some(when(*not_before)),
                    now: Some(when(*time)),
                },
                C::NotValidForName => TlsProblem::WrongName {
                    expected: String::new(),
                    presented: Vec::new(),
                },
                C::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsProblem::WrongName {
                    expected: name(expected),
                    presented: presented.iter().map(|p| plain_name(p)).collect(),
                },
                C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                    TlsProblem::CaAsServerCert
                }
                other => TlsProblem::Other(format!("invalid peer certificate: {other:?}")),
            },
            rustls::Error::InvalidMessage(m) => TlsProblem::NotTls(format!("{m:?}")),
            rustls::Error::AlertReceived(a) => TlsProblem::Alert(format!("{a:?}")),
            other => TlsProblem::Other(other.to_string()),
        }
    }

    /// What to do about it, one step a line.
    pub fn advice(&self) -> Vec<String> {
        let v: &[&str] = match self {
            TlsProblem::UnknownIssuer => &[
                "if you trust this server, give its certificate (or the CA that signed it) as PEM: --ca-cert FILE",
                "to see the certificate it sends: openssl s_client -connect HOST:PORT -showcerts </dev/null",
                "behind a corporate proxy: --ca-cert FILE with the proxy's root certificate",
            ],
            TlsProblem::CaAsServerCert => &[
                "if you trust this server, give this exact certificate with --ca-cert FILE: wsdeck then trusts it as itself (pinned), its names and dates still checked",
                "or make a server certificate that is not a CA: openssl req -x509 … -addext basicConstraints=critical,CA:FALSE",
            ],
            TlsProblem::Expired { .. } | TlsProblem::NotYetValid { .. } => &[
                "renew the server's certificate (or check this machine's clock); --ca-cert does not waive dates",
            ],
            TlsProblem::WrongName { .. } => &[
                "connect with a name the certificate has (as in the URL's host), or make a certificate for this name (subjectAltName)",
            ],
            TlsProblem::NotTls(_) => &[
                "the server does not speak TLS on this port: a local agent speaks plain ws://, not wss://",
            ],
            TlsProblem::Alert(_) => &[
                "the server turned the handshake down: it may want a client certificate, another TLS version, or another host name (SNI)",
            ],
            TlsProblem::Other(_) => &[
                "the server's certificate is not trusted, has the wrong name, or the server does not speak TLS on this port",
                "behind a corporate proxy: --ca-cert FILE with its root certificate (PEM)",
                "a local agent speaks plain ws://, not wss://",
            ],
        };
        v.iter().map(|s| s.to_string()).collect()
    }
}

impl std::fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsProblem::UnknownIssuer => f.write_str(
                "the server's certificate is not signed by a certificate authority this machine trusts (it is self-signed, or from a private CA) [UnknownIssuer]",
            ),
            TlsProblem::CaAsServerCert => f.write_str(
                "the server's certificate is marked as a certificate authority (basicConstraints CA:TRUE, as `openssl req -x509` makes by default), which TLS does not accept as a server's own certificate [CaUsedAsEndEntity]",
            ),
            TlsProblem::Expired { not_after, now } => {
                f.write_str("the server's certificate has expired")?;
                if let Some(t) = not_after {
                    write!(f, ": it was valid until {t}")?;
                }
                if let Some(n) = now {
                    write!(f, " (it is now {n})")?;
                }
                Ok(())
            }
            TlsProblem::NotYetValid { not_before, now } => {
                f.write_str("the server's certificate is not valid yet")?;
                if let Some(t) = not_before {
                    write!(f, ": it is valid from {t}")?;
                }
                if let Some(n) = now {
                    write!(f, " (it is now {n})")?;
                }
                Ok(())
            }
            TlsProblem::WrongName {
                expected,
                presented,
            } => {
                f.write_str("the server's certificate is for ")?;
                if presented.is_empty() {
                    f.write_str("other names")?;
                } else {
                    f.write_str(&presented.join(", "))?;
                }
                if !expected.is_empty() {
                    write!(f, ", not for {expected}")?;
                }
                Ok(())
            }
            TlsProblem::NotTls(m) => write!(f, "the server's answer is not TLS ({m})"),
            TlsProblem::Alert(a) => write!(f, "the server sent the TLS alert {a}"),
            TlsProblem::Other(m) => f.write_str(m),
        }
    }
}

fn when(t: UnixTime) -> String {
    let secs = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| format!("{secs} seconds after 1970"))
}

fn name(n: &ServerName<'_>) -> String {
    n.to_str().into_owned()
}

/// webpki names what a certificate presents in Debug form (`DnsName("localhost")`,
/// `IpAddress(127.0.0.1)`): the bare name reads better.
fn plain_name(p: &str) -> String {
    p.strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
        .or_else(|| {
            p.strip_prefix("IpAddress(")
                .and_then(|r| r.strip_suffix(')'))
        })
        .unwrap_or(p)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    #[test]
    fn dates_and_names_are_said() {
        let e = rustls::Error::InvalidCertificate(C::ExpiredContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000)),
        });
        let p = TlsProblem::from_rustls(&e);
        assert_eq!(
            p.to_string(),
            "the server's certificate has expired: it was valid until 2023-11-14 22:13:20 UTC (it is now 2027-01-15 08:00:00 UTC)"
        );
        let e = rustls::Error::InvalidCertificate(C::NotValidForNameContext {
            expected: ServerName::try_from("wrong.test").expect("name"),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
            ],
        });
        let p = TlsProblem::from_rustls(&e);
        assert_eq!(
            p.to_string(),
            "the server's certificate is for localhost, 127.0.0.1, not for wrong.test"
        );
        assert!(p.advice()[0].contains("subjectAltName"));
    }

    #[test]
    fn a_self_signed_certificate_points_at_ca_cert() {
        let p = TlsProblem::from_rustls(&rustls::Error::InvalidCertificate(C::UnknownIssuer));
        assert!(p.to_string().contains("self-signed"));
        assert!(p.advice()[0].contains("--ca-cert FILE"));
    }
}
