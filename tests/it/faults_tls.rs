//! wss:// against certificates made in the test (rcgen) and served with tokio-rustls: refused in
//! plain words (self-signed, marked as a CA, expired with its date, for other names, not TLS at
//! all), and trusted with `--ca-cert`, the CA-marked one too (pinned). The table is in
//! `faults_peer.rs`.

use crate::faults_support::{raw_server, stderr};
use crate::support::{assert_exit, json_lines, run, wsdeck};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// A certificate for `names`, marked as a CA or not, expired or not; its DER, key and PEM.
struct Made {
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    pem: String,
}

fn make(names: &[&str], ca: bool, expired: bool) -> Made {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    if ca {
        // What `openssl req -x509` makes by default: basicConstraints CA:TRUE.
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    Made {
        der: cert.der().clone(),
        key: PrivateKeyDer::try_from(key.serialize_der()).expect("key der"),
        pem: cert.pem(),
    }
}

/// A wss:// echo server presenting `cert`; its port.
async fn serve_tls(cert: &Made) -> (u16, tokio::task::JoinHandle<()>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], cert.key.clone_key())
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                use futures_util::{SinkExt, StreamExt};
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, task)
}

fn pem_file(dir: &Path, name: &str, made: &Made) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, &made.pem).expect("write pem");
    p
}

/// `wsdeck send URL --text over-tls --expect 1` with an optional `--ca-cert`.
async fn send(url: &str, ca: Option<&Path>) -> std::process::Output {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", url, "--text", "over-tls", "--expect", "1"]);
    if let Some(ca) = ca {
        c.arg("--ca-cert").arg(ca);
    }
    run(c).await
}

fn says(o: &std::process::Output, what: &str) {
    assert!(
        stderr(o).contains(what),
        "{what:?} missing from:\n{}",
        stderr(o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_and_ca_marked_certificates_are_refused_then_trusted_with_ca_cert() {
    let dir = tempfile::tempdir().expect("dir");
    for (ca, file) in [(false, "plain.pem"), (true, "ca-marked.pem")] {
        let cert = make(&["localhost", "127.0.0.1"], ca, false);
        let (port, server) = serve_tls(&cert).await;
        let url = format!("wss://localhost:{port}/ws");
        let o = send(&url, None).await;
        assert_exit(&o, 4);
        if ca {
            says(
                &o,
                "the server's certificate is marked as a certificate authority (basicConstraints CA:TRUE, as `openssl req -x509` makes by default)",
            );
            says(
                &o,
                "give this exact certificate with --ca-cert FILE: wsdeck then trusts it as itself (pinned)",
            );
        } else {
            says(
                &o,
                "not signed by a certificate authority this machine trusts (it is self-signed, or from a private CA)",
            );
            says(
                &o,
                "give its certificate (or the CA that signed it) as PEM: --ca-cert FILE",
            );
        }
        let lines = json_lines(&o.stdout);
        assert!(
            lines
                .iter()
                .any(|l| l["event"] == "error" && l["kind"] == "tls")
        );

        let pem = pem_file(dir.path(), file, &cert);
        let o = send(&url, Some(&pem)).await;
        assert_exit(&o, 0);
        let lines = json_lines(&o.stdout);
        assert!(
            lines
                .iter()
                .any(|l| l["dir"] == "in" && l["text"] == "over-tls"),
            "ca={ca}: {lines:?}"
        );
        // By address too: the certificate names 127.0.0.1.
        let o = send(&format!("wss://127.0.0.1:{port}/ws"), Some(&pem)).await;
        assert_exit(&o, 0);
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_certificate_still_needs_the_right_name() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = make(&["localhost"], true, false);
    let (port, server) = serve_tls(&cert).await;
    let pem = pem_file(dir.path(), "ca-marked.pem", &cert);
    let o = send(&format!("wss://127.0.0.1:{port}/ws"), Some(&pem)).await;
    assert_exit(&o, 4);
    says(
        &o,
        "the server's certificate is for localhost, not for 127.0.0.1",
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_is_refused_with_its_date() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = make(&["localhost"], false, true);
    let (port, server) = serve_tls(&cert).await;
    let url = format!("wss://localhost:{port}/ws");
    let pem = pem_file(dir.path(), "expired.pem", &cert);
    for ca in [None, Some(pem.as_path())] {
        let o = send(&url, ca).await;
        assert_exit(&o, 4);
        says(
            &o,
            "the server's certificate has expired: it was valid until 2020-01-01 00:00:00 UTC (it is now ",
        );
        says(&o, "--ca-cert does not waive dates");
    }
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_another_host_names_its_names() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = make(&["other.example", "*.other.example"], false, false);
    let (port, server) = serve_tls(&cert).await;
    let pem = pem_file(dir.path(), "other.pem", &cert);
    let o = send(&format!("wss://localhost:{port}/ws"), Some(&pem)).await;
    assert_exit(&o, 4);
    says(
        &o,
        "the server's certificate is for other.example, *.other.example, not for localhost",
    );
    says(&o, "make a certificate for this name (subjectAltName)");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn wss_to_a_plain_server_says_it_is_not_tls() {
    let server = raw_server(|mut s, _| async move {
        let mut buf = [0u8; 512];
        let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
    })
    .await;
    let o = send(&format!("wss://{}/ws", server.addr), None).await;
    assert_exit(&o, 4);
    says(&o, "the server's answer is not TLS");
    says(&o, "a local agent speaks plain ws://, not wss://");
}
