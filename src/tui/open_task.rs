//! Opening a capture in the background: the file is indexed (payloads stay in it) and the
//! records go to the loop in batches, so the first screen is drawn at once and keys work while
//! the rest is read. A HAR file is read whole, as before (it has no lines to point at).

use crate::app::Event;
use crate::app::opening::IndexStep;
use crate::capture::index::{index_capture, is_har_file, is_har_refusal};
use crate::capture::source::CaptureSource;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;

/// Records per batch: enough that a million-frame capture is twenty events, few enough that
/// one is ingested within a frame's time.
const BATCH: usize = 50_000;

pub fn open_capture(
    ticket: u64,
    path: PathBuf,
    stop: Arc<AtomicBool>,
    to_loop: mpsc::Sender<Event>,
) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let step = |step| Event::CaptureIndexing {
        ticket,
        name: name.clone(),
        step,
    };
    let source = match CaptureSource::open(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let result = Err(format!("cannot read {}: {e}", path.display()));
            let _ = to_loop.blocking_send(Event::CaptureOpened { name, result });
            return;
        }
    };
    let total_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if is_har_file(&path).unwrap_or(false) {
        let result = crate::capture::read_capture(&path)
            .map(Box::new)
            .map_err(|e| e.to_string());
        let _ = to_loop.blocking_send(Event::CaptureOpened { name, result });
        return;
    }
    // The session shows at once, before the first batch: a cold disk takes a while for one.
    let mut started = false;
    let start = |started: &mut bool| {
        if !*started {
            *started = true;
            let source = source.clone();
            let _ = to_loop.blocking_send(step(IndexStep::Started {
                source,
                total_bytes,
            }));
        }
    };
    if first_byte_opens_a_record(&path) {
        start(&mut started);
    }
    let result = index_capture(&path, BATCH, |records, progress| {
        if stop.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        start(&mut started);
        match to_loop.blocking_send(step(IndexStep::Batch { records, progress })) {
            Ok(()) => ControlFlow::Continue(()),
            // The console is gone.
            Err(_) => ControlFlow::Break(()),
        }
    });
    match result {
        Err(e) if is_har_refusal(&e) => {
            let result = crate::capture::read_capture(&path)
                .map(Box::new)
                .map_err(|e| e.to_string());
            let _ = to_loop.blocking_send(Event::CaptureOpened { name, result });
        }
        // Nothing was shown yet: say it as a failed open.
        Err(e) if !started => {
            let _ = to_loop.blocking_send(Event::CaptureOpened {
                name,
                result: Err(e.to_string()),
            });
        }
        result => {
            start(&mut started);
            let _ = to_loop.blocking_send(step(IndexStep::Done(result.map_err(|e| e.to_string()))));
        }
    }
}

/// Whether the file starts like a capture (`{`): only then is its session shown before the
/// first batch; anything else is most likely no capture, and is said as a failed open.
fn first_byte_opens_a_record(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::{CaptureMeta, CaptureWriter};
    use crate::engine::{Direction, Frame, Opcode};
    use std::time::{Duration, SystemTime};

    fn write_capture(path: &std::path::Path, frames: u64) {
        let meta = CaptureMeta {
            session_name: Some("t".into()),
            target_kind: "url".into(),
            target: "ws://x/".into(),
            url: "ws://x/".into(),
            agent_session_id: None,
        };
        let mut w = CaptureWriter::create(path, &meta, SystemTime::UNIX_EPOCH).expect("create");
        for i in 0..frames {
            w.frame(&Frame {
                seq: i + 1,
                at: Duration::from_micros(i),
                dir: Direction::In,
                opcode: Opcode::Text,
                payload: bytes::Bytes::from(format!("{{\"n\":{i}}}")),
            })
            .expect("frame");
        }
        w.flush().expect("flush");
    }

    fn steps(rx: &mut mpsc::Receiver<Event>) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(ev) = rx.blocking_recv() {
            out.push(ev);
        }
        out
    }

    #[test]
    fn stopping_ends_the_reading_early_and_says_done() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.jsonl");
        write_capture(&path, (BATCH * 6) as u64);
        // Room for one event: the reader waits on the loop, as it does on a busy console.
        let (tx, mut rx) = mpsc::channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let stop = stop.clone();
            std::thread::spawn(move || open_capture(1, path, stop, tx))
        };
        let mut records = 0u64;
        let mut done = None;
        while let Some(ev) = rx.blocking_recv() {
            match ev {
                Event::CaptureIndexing {
                    ticket: 1, step, ..
                } => match step {
                    IndexStep::Started { total_bytes, .. } => assert!(total_bytes > 0),
                    IndexStep::Batch { records: r, .. } => {
                        records += r.len() as u64;
                        stop.store(true, Ordering::Relaxed);
                    }
                    IndexStep::Done(r) => done = Some(r),
                },
                other => panic!("unexpected {other:?}"),
            }
        }
        reader.join().expect("reader");
        let summary = done.expect("a Done step").expect("ok");
        assert!(records > 0 && records <= 2 * BATCH as u64, "{records}");
        assert!(summary.records < (BATCH * 6) as u64);
    }

    #[test]
    fn a_file_that_is_no_capture_fails_as_an_open_and_a_har_is_read_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let garbage = dir.path().join("x.bin");
        std::fs::write(&garbage, [0u8, 159, 146, 150, 10, 0xff]).expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        open_capture(1, garbage, Arc::new(AtomicBool::new(false)), tx);
        match steps(&mut rx).as_slice() {
            [Event::CaptureOpened { result: Err(e), .. }] => assert!(!e.is_empty()),
            other => panic!("{other:?}"),
        }
        let har = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/chrome-devtools.har");
        let (tx, mut rx) = mpsc::channel(16);
        open_capture(2, har, Arc::new(AtomicBool::new(false)), tx);
        match steps(&mut rx).as_slice() {
            [
                Event::CaptureOpened {
                    result: Ok(cap), ..
                },
            ] => assert!(cap.frames().count() > 0),
            other => panic!("{other:?}"),
        }
    }
}
