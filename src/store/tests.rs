use super::*;

/// A reproducible payload for frame `i`: sizes from 0 up to past `BIG`, contents from `i`.
fn payload(i: u64) -> Bytes {
    let len = match i % 7 {
        0 => 0,
        1 => 3,
        2 => 64,
        3 => 1000,
        4 => 5000,
        5 => 70_000,
        _ => 200,
    };
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn frame(i: u64) -> Frame {
    Frame {
        seq: i + 1,
        at: Duration::from_micros(i * 17 + 3),
        dir: if i.is_multiple_of(3) {
            Direction::In
        } else {
            Direction::Out
        },
        opcode: [Opcode::Text, Opcode::Binary, Opcode::Ping, Opcode::Close][(i % 4) as usize],
        payload: payload(i),
    }
}

/// Frames with an event every 50 rows, pushed into `log`; the rows as they went in.
fn fill(log: &mut FrameLog, n: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    for i in 0..n {
        let row = if i % 50 == 25 {
            Row {
                at: Duration::from_micros(i * 17),
                kind: RowKind::Event {
                    kind: EventKind::Warning,
                    text: format!("event {i}"),
                },
            }
        } else {
            Row {
                at: frame(i).at,
                kind: RowKind::Frame(frame(i)),
            }
        };
        log.push(row.clone());
        rows.push(row);
    }
    rows
}

#[test]
fn rows_read_back_as_they_went_in_without_a_budget() {
    let mut log = FrameLog::default();
    let rows = fill(&mut log, 3000);
    assert_eq!(log.len(), rows.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(log.get(i).as_ref(), Some(r), "row {i}");
    }
    assert!(log.get(rows.len()).is_none());
    assert_eq!(log.window(2990, 50).len(), 10);
    assert_eq!(log.window(5000, 10), vec![]);
    assert_eq!(log.memory().spilled, 0);
    assert!(log.spill_path().is_none());
}

#[test]
fn past_the_budget_order_count_and_bytes_are_kept_and_the_spill_file_goes_with_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let budget = Budget::new(256 << 10, Some(dir.path().to_path_buf()));
    let mut log = FrameLog::new(budget.clone());
    let rows = fill(&mut log, 4000);
    let m = log.memory();
    assert!(m.spilled > 0, "{m:?}");
    assert!(
        budget.used() <= budget.limit() + (1 << 20),
        "in memory {} for a budget of {}",
        budget.used(),
        budget.limit()
    );
    assert_eq!(log.len(), rows.len());
    // Every row, spilled or not, in order and byte for byte.
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(log.get(i).as_ref(), Some(r), "row {i}");
    }
    let spill = log.spill_path().expect("a spill file").to_path_buf();
    assert!(spill.starts_with(dir.path()) && spill.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spill)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "payloads spilled are the owner's only");
    }
    drop(log);
    assert!(!spill.exists(), "the spill file is removed with its log");
    assert_eq!(budget.used(), 0, "the budget is given back");
}

#[test]
fn a_budget_smaller_than_one_frame_still_works() {
    let dir = tempfile::tempdir().expect("dir");
    let mut log = FrameLog::new(Budget::new(10, Some(dir.path().to_path_buf())));
    let rows = fill(&mut log, 300);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(log.get(i).as_ref(), Some(r), "row {i}");
    }
    assert!(log.memory().spilled > 0);
}

#[test]
fn two_logs_share_one_budget() {
    let dir = tempfile::tempdir().expect("dir");
    let budget = Budget::new(512 << 10, Some(dir.path().to_path_buf()));
    let mut a = FrameLog::new(budget.clone());
    let mut b = FrameLog::new(budget.clone());
    let ra = fill(&mut a, 1500);
    let rb = fill(&mut b, 1500);
    assert!(a.memory().spilled + b.memory().spilled > 0);
    for (i, r) in ra.iter().enumerate() {
        assert_eq!(a.get(i).as_ref(), Some(r));
    }
    for (i, r) in rb.iter().enumerate() {
        assert_eq!(b.get(i).as_ref(), Some(r));
    }
    drop(a);
    drop(b);
    assert_eq!(budget.used(), 0);
}

#[test]
fn nowhere_to_spill_keeps_everything_in_memory_and_says_so_once() {
    let dir = tempfile::tempdir().expect("dir");
    // A file where the spill directory should be: creating it fails.
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").expect("write");
    let mut log = FrameLog::new(Budget::new(64 << 10, Some(not_a_dir.join("spill"))));
    let rows = fill(&mut log, 500);
    let said = log.take_problem().expect("the failure is said");
    assert!(said.contains("stay in memory"), "{said}");
    assert_eq!(log.take_problem(), None, "once");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(log.get(i).as_ref(), Some(r), "nothing is lost: row {i}");
    }
}

struct Lines(Vec<Bytes>);

impl PayloadSource for Lines {
    fn read(&self, loc: u64, extra: u32) -> Result<Bytes, String> {
        let b = self.0.get(loc as usize).ok_or("no such line")?;
        if b.len() != extra as usize {
            return Err("the file changed".into());
        }
        Ok(b.clone())
    }
}

#[test]
fn rows_from_a_source_read_their_payload_from_it_and_say_when_they_cannot() {
    let lines: Vec<Bytes> = (0..10).map(payload).collect();
    let source = Arc::new(Lines(lines.clone()));
    let mut log = FrameLog::with_source(Budget::default(), source);
    for i in 0..10u64 {
        let f = frame(i);
        let info = FrameInfo {
            seq: f.seq,
            at: f.at,
            dir: f.dir,
            opcode: f.opcode,
            len: f.payload.len(),
        };
        // Row 9 claims a length its line does not have, as if the file had been edited.
        let extra = if i == 9 {
            1
        } else {
            lines[i as usize].len() as u32
        };
        log.push_from_source(info, i, extra);
    }
    for i in 0..9 {
        assert_eq!(
            log.get(i).map(|r| r.kind),
            Some(RowKind::Frame(frame(i as u64)))
        );
        assert_eq!(
            log.frame_info(i).map(|f| f.len),
            Some(payload(i as u64).len())
        );
    }
    match log.get(9).map(|r| r.kind) {
        Some(RowKind::Event { kind, text }) => {
            assert_eq!(kind, EventKind::Warning);
            assert!(
                text.contains("frame #10") && text.contains("the file changed"),
                "{text}"
            );
        }
        other => panic!("expected a warning row, got {other:?}"),
    }
    assert_eq!(log.memory().payloads, 0, "no payload held in memory");
}

#[test]
fn a_row_costs_its_fields_not_an_allocation() {
    let mut log = FrameLog::default();
    let n = 1u64 << 18;
    for i in 0..n {
        log.push_frame(Frame {
            seq: i + 1,
            at: Duration::from_micros(i),
            dir: Direction::In,
            opcode: Opcode::Binary,
            payload: Bytes::from_static(&[7u8; 64]),
        });
    }
    let m = log.memory();
    let index_per_row = m.index as f64 / n as f64;
    let payload_overhead = (m.payloads as f64 - (n * 64) as f64) / n as f64;
    assert!(index_per_row <= 40.0, "{index_per_row} B of fields a row");
    assert!(
        payload_overhead <= 8.0,
        "{payload_overhead} B a row beyond the payload in blocks"
    );
}
