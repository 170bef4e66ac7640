//! What the benches share: loopback sources on a thread and runtime of their own (as a peer in
//! another process would be), a bare tokio-tungstenite reader, a console `App` full of frames,
//! and medians. Each bench uses part of it.
#![allow(dead_code)]

use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsdeck::app::{App, Event, Session, update};
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};

pub const BINARY: u8 = 0x2;
pub const TEXT: u8 = 0x1;

/// One unmasked server frame's header (FIN set).
pub fn frame_head(opcode: u8, size: usize) -> Vec<u8> {
    let mut head = vec![0x80 | opcode];
    if size < 126 {
        head.push(size as u8);
    } else if size < 65536 {
        head.push(126);
        head.extend_from_slice(&(size as u16).to_be_bytes());
    } else {
        head.push(127);
        head.extend_from_slice(&(size as u64).to_be_bytes());
    }
    head
}

/// `n` pre-encoded frames of `size` bytes: binary bytes vary per frame, text is ASCII letters.
pub fn encode_frames(opcode: u8, size: usize, n: usize) -> Vec<u8> {
    let head = frame_head(opcode, size);
    let mut out = Vec::with_capacity((head.len() + size) * n);
    for i in 0..n {
        out.extend_from_slice(&head);
        let fill = if opcode == TEXT {
            b'a' + (i % 26) as u8
        } else {
            (i % 251) as u8
        };
        out.extend(std::iter::repeat_n(fill, size));
    }
    out
}

/// A close frame with code 1000.
pub const CLOSE_1000: [u8; 4] = [0x88, 0x02, 0x03, 0xe8];

/// A server for one connection on its own thread and runtime; `serve` gets the upgraded socket's
/// TCP stream and returns what the bench wants to know (frames sent, say).
pub struct Source<T> {
    pub url: String,
    thread: Option<std::thread::JoinHandle<T>>,
}

impl<T: Send + 'static> Source<T> {
    pub fn start<F, Fut>(serve: F) -> Source<T>
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + 'static,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("ws://{}/flood", std_listener.local_addr().expect("addr"));
        let thread = std::thread::Builder::new()
            .name("bench-source".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("source runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("listener");
                    let (tcp, _) = listener.accept().await.expect("accept");
                    let _ = tcp.set_nodelay(true);
                    let ws = tokio_tungstenite::accept_async(tcp)
                        .await
                        .expect("handshake");
                    serve(ws.into_inner()).await
                })
            })
            .expect("source thread");
        Source {
            url,
            thread: Some(thread),
        }
    }

    /// Wait for the source to finish (it ends after its close is answered, or 5 s).
    pub fn join(mut self) -> T {
        self.thread
            .take()
            .expect("joined once")
            .join()
            .expect("source thread")
    }
}

/// After our close frame: wait (at most 5 s) for the peer's answer, then drop the socket.
pub async fn await_close_answer(raw: &mut TcpStream) {
    let mut sink = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut sink)).await;
}

/// Pre-encoded frames as fast as the socket takes them, then a close (1000).
pub async fn flood(mut raw: TcpStream, opcode: u8, size: usize, count: usize) {
    let per_chunk = ((1 << 20) / (size + 10) + 1).min(count);
    let chunk = encode_frames(opcode, size, per_chunk);
    let mut left = count;
    while left >= per_chunk {
        if raw.write_all(&chunk).await.is_err() {
            return;
        }
        left -= per_chunk;
    }
    if left > 0
        && raw
            .write_all(&encode_frames(opcode, size, left))
            .await
            .is_err()
    {
        return;
    }
    let _ = raw.write_all(&CLOSE_1000).await;
    await_close_answer(&mut raw).await;
}

pub fn flood_source(opcode: u8, size: usize, count: usize) -> Source<()> {
    Source::start(move |tcp| flood(tcp, opcode, size, count))
}

pub fn ws_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

/// The peer to beat at reading: tokio-tungstenite reading every message and dropping it. Time
/// from connect to the close; panics when a frame is missing.
pub async fn bare_reader(url: &str, count: usize) -> Duration {
    use futures_util::StreamExt;
    let t0 = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true)
        .await
        .expect("connect");
    let mut n = 0usize;
    while let Some(Ok(m)) = ws.next().await {
        if m.is_close() {
            break;
        }
        if m.is_binary() || m.is_text() {
            n += 1;
        }
    }
    let dt = t0.elapsed();
    assert_eq!(n, count, "the bare reader lost frames");
    dt
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The `p` quantile (0..=1) of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A console at 160x48 over one session.
pub fn console_app(session: Session) -> App {
    let mut app = App::new(vec![session]);
    update(
        &mut app,
        Event::Resize {
            width: 160,
            height: 48,
        },
    );
    app
}

pub fn offline_session(name: &str) -> Session {
    Session::new(
        name,
        ConnectSpec::new(Target::url("ws://127.0.0.1:1/x").expect("url")),
    )
}

/// A console holding `n` frames, a mix of JSON deltas and 640 B PCM, following the tail.
pub fn app_with(n: usize) -> App {
    let mut app = console_app(offline_session("bench"));
    let frames = bench_frames(n);
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    app
}

/// `app_with`'s frames: JSON deltas, and 640 B PCM every fourth.
pub fn bench_frames(n: usize) -> Vec<Frame> {
    let json = Bytes::from_static(br#"{"type":"response.output_text.delta","id":"m_1","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#);
    let pcm = Bytes::from(vec![7u8; 640]);
    (0..n as u64)
        .map(|i| Frame {
            seq: i + 1,
            at: Duration::from_micros(i * 50),
            dir: if i % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            opcode: if i % 4 == 0 {
                Opcode::Binary
            } else {
                Opcode::Text
            },
            payload: if i % 4 == 0 {
                pcm.clone()
            } else {
                json.clone()
            },
        })
        .collect()
}

/// Microseconds per draw of `app`'s screen at 160x48, over `draws` draws.
pub fn draw_us(app: &App, draws: usize) -> f64 {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let theme = wsdeck::ui::theme::Theme::load("dark", None).expect("theme");
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let t0 = Instant::now();
    for _ in 0..draws {
        term.draw(|c| wsdeck::ui::draw(c, app, &theme))
            .expect("draw");
    }
    t0.elapsed().as_secs_f64() * 1e6 / draws as f64
}

pub struct Draws {
    pub small_us: f64,
    pub big_us: f64,
    pub ratio: f64,
}

/// One screen drawn with a small and a big log: medians over `runs` of 200 draws each, and
/// the ratio big/small within each run.
pub fn draw_ratio(runs: usize, small: &App, big: &App) -> Draws {
    let (mut s, mut b, mut r) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let a = draw_us(small, 200);
        let c = draw_us(big, 200);
        s.push(a);
        b.push(c);
        r.push(c / a);
    }
    Draws {
        small_us: median(&mut s),
        big_us: median(&mut b),
        ratio: median(&mut r),
    }
}

/// Runs given on the command line (`cargo bench --bench NAME -- 5`), or `default`.
pub fn runs_arg(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(default)
}
