use super::*;
use bytes::Bytes;

const OUT: Direction = Direction::Out;
const IN: Direction = Direction::In;

fn text(seq: u64, ms: u64, dir: Direction, s: &str) -> Frame {
    Frame {
        seq,
        at: Duration::from_millis(ms),
        dir,
        opcode: Opcode::Text,
        payload: Bytes::from(s.to_string()),
    }
}

/// The kind the tests pass: the `type` field.
fn kind(f: &Frame) -> Option<String> {
    let v: Value = serde_json::from_slice(&f.payload).ok()?;
    v.get("type").and_then(Value::as_str).map(str::to_string)
}

fn run(frames: &[Frame]) -> Correlator {
    let mut c = Correlator::new();
    for f in frames {
        c.observe(f, kind(f).as_deref());
    }
    c
}

fn voice() -> Vec<Frame> {
    vec![
        text(
            1,
            0,
            OUT,
            r#"{"type":"session.start","id":"m_1","ts":"2026-11-25T09:37:47.240Z","protocol_version":"1.0","reconnect":false,"response_timeouts":{"first_output_ms":5000,"idle_ms":3000,"max_duration_ms":60000}}"#,
        ),
        text(
            2,
            4,
            IN,
            r#"{"type":"session.ready","id":"m_e16c","ts":"2026-11-25T09:37:47.244Z"}"#,
        ),
        text(
            3,
            1000,
            OUT,
            r#"{"type":"user.message","id":"m_2","ts":"2026-11-25T09:37:48.246Z","item_id":"in_0001","content":[{"type":"input_text","text":"hello"}]}"#,
        ),
        text(
            4,
            1004,
            IN,
            r#"{"type":"response.created","id":"m_a1","ts":"2026-11-25T09:37:48.250Z","response_id":"r_be3c","in_reply_to":["in_0001"]}"#,
        ),
        text(
            5,
            1010,
            IN,
            r#"{"type":"response.output_text.delta","id":"m_b2","ts":"2026-11-25T09:37:48.251Z","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#,
        ),
        // Not a reply: it names nothing of the request, however soon it comes.
        text(
            6,
            1011,
            IN,
            r#"{"type":"server.notice","id":"m_zz","text":"maintenance at noon"}"#,
        ),
        text(
            7,
            1015,
            IN,
            r#"{"type":"response.output_text.delta","id":"m_c3","ts":"2026-11-25T09:37:48.252Z","response_id":"r_be3c","item_id":"it_068e","delta":"said: hello"}"#,
        ),
        text(
            8,
            1020,
            IN,
            r#"{"type":"response.output_text.done","id":"m_d4","ts":"2026-11-25T09:37:48.253Z","item_id":"it_068e","text":"you said: hello"}"#,
        ),
        text(
            9,
            1030,
            IN,
            r#"{"type":"response.done","id":"m_e5","ts":"2026-11-25T09:37:48.254Z","response_id":"r_be3c"}"#,
        ),
    ]
}

#[test]
fn voice_replies_by_list_and_transitive_ids() {
    let c = run(&voice());
    // session.ready names nothing of session.start: no reply.
    assert_eq!(c.replies(1), None);
    let r = c.replies(3).expect("user.message has replies");
    assert_eq!(r.first, Duration::from_millis(4));
    assert_eq!(
        r.last,
        Duration::from_millis(30),
        "the last reply is response.done"
    );
    // created, delta, delta, done (by item_id, introduced by a reply), response.done; not the notice.
    assert_eq!(r.count, 5);
    let lat = c.latencies();
    assert_eq!(lat.len(), 1);
    assert_eq!(
        (
            lat[0].request_type.as_str(),
            lat[0].n,
            lat[0].p50_ms,
            lat[0].max_ms
        ),
        ("user.message", 1, 4.0, 4.0)
    );
    let links = c.links();
    assert!(
        links.contains(&"item_id → in_reply_to".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&"response_id → response_id (via a reply)".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&"item_id → item_id (via a reply)".to_string()),
        "{links:?}"
    );
    // Incoming frames are not requests.
    assert_eq!(c.replies(4), None);
}

#[test]
fn json_rpc_integer_ids_and_reused_ids() {
    let c = run(&[
        text(
            1,
            0,
            OUT,
            r#"{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}"#,
        ),
        text(
            2,
            0,
            OUT,
            r#"{"jsonrpc":"2.0","method":"sum","params":[3,4],"id":2}"#,
        ),
        // A count of 1 in a result is not a reference to id 1.
        text(3, 7, IN, r#"{"jsonrpc":"2.0","result":{"count":1},"id":2}"#),
        text(4, 9, IN, r#"{"jsonrpc":"2.0","result":3,"id":1}"#),
        // id 1 again: a new request takes it over.
        text(
            5,
            20,
            OUT,
            r#"{"jsonrpc":"2.0","method":"sum","params":[5],"id":1}"#,
        ),
        text(6, 23, IN, r#"{"jsonrpc":"2.0","result":5,"id":1}"#),
    ]);
    assert_eq!(
        c.replies(1).map(|r| (r.first, r.count)),
        Some((Duration::from_millis(9), 1))
    );
    assert_eq!(
        c.replies(2).map(|r| (r.first, r.count)),
        Some((Duration::from_millis(7), 1))
    );
    assert_eq!(
        c.replies(5).map(|r| r.first),
        Some(Duration::from_millis(3))
    );
    let lat = c.latencies();
    assert_eq!(lat[0].request_type, NO_TYPE_NAME);
    assert_eq!(lat[0].n, 3);
    assert_eq!(c.links(), ["id → id"]);
}

const NO_TYPE_NAME: &str = crate::vocab::infer::NO_TYPE;

#[test]
fn short_values_name_ids_only_in_id_like_fields() {
    let c = run(&[
        text(1, 0, OUT, r#"{"type":"get","id":"ab"}"#),
        text(2, 5, IN, r#"{"type":"chat","text":"ab"}"#),
        text(3, 8, IN, r#"{"type":"got","request":"ab"}"#),
    ]);
    assert_eq!(
        c.replies(1).map(|r| (r.first, r.count)),
        Some((Duration::from_millis(8), 1))
    );
}

#[test]
fn references_to_an_earlier_response_do_not_open_a_request() {
    // wsdeck plays the bridge: it acknowledges the agent's response by its id.
    let mut frames = voice();
    frames.push(text(10, 1040, OUT, r#"{"type":"response.accepted","id":"m_3","ts":"2026-11-25T09:37:48.300Z","response_id":"r_be3c"}"#));
    frames.push(text(
        11,
        1050,
        IN,
        r#"{"type":"response.done","id":"m_f6","response_id":"r_be3c"}"#,
    ));
    let c = run(&frames);
    // The later frame naming r_be3c is still user.message's reply, not the acknowledgement's.
    assert_eq!(
        c.replies(3).map(|r| (r.count, r.last)),
        Some((6, Duration::from_millis(50)))
    );
    assert_eq!(c.replies(10), None);
}

#[test]
fn latency_percentiles_on_known_timings() {
    let mut frames = Vec::new();
    let mut seq = 0;
    for i in 1..=20u64 {
        let at = i * 1000;
        seq += 1;
        frames.push(text(
            seq,
            at,
            OUT,
            &format!(r#"{{"type":"q","id":"req-{i}"}}"#),
        ));
        seq += 1;
        frames.push(text(
            seq,
            at + i,
            IN,
            &format!(r#"{{"type":"a","reply_to":"req-{i}"}}"#),
        ));
        seq += 1;
        frames.push(text(
            seq,
            at + 100,
            IN,
            &format!(r#"{{"type":"a","reply_to":"req-{i}"}}"#),
        ));
    }
    let c = run(&frames);
    let l = &c.latencies()[0];
    assert_eq!((l.request_type.as_str(), l.n), ("q", 20));
    // Nearest rank: the 10th and the 19th of 1..=20 ms.
    assert_eq!((l.p50_ms, l.p95_ms, l.max_ms), (10.0, 19.0, 20.0));
    assert_eq!(
        c.replies(1).map(|r| (r.first, r.last, r.count)),
        Some((Duration::from_millis(1), Duration::from_millis(100), 2))
    );
    assert_eq!(percentile(&[], 50.0), 0.0);
    assert_eq!(percentile(&[5.0], 95.0), 5.0);
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
}

#[test]
fn open_requests_are_bounded_oldest_dropped() {
    let mut c = Correlator::new();
    let n = MAX_OPEN as u64 + 10;
    for i in 1..=n {
        c.observe(
            &text(i, i, OUT, &format!(r#"{{"id":"q{i:07}"}}"#)),
            Some("q"),
        );
    }
    c.observe(&text(n + 1, n + 5, IN, r#"{"ref":"q0000001"}"#), None);
    c.observe(&text(n + 2, n + 6, IN, r#"{"ref":"q0000011"}"#), None);
    c.observe(
        &text(n + 3, n + 7, IN, &format!(r#"{{"ref":"q{n:07}"}}"#)),
        None,
    );
    assert_eq!(c.replies(1), None, "dropped");
    assert!(c.replies(11).is_some() && c.replies(n).is_some());
    assert_eq!(c.open.len(), MAX_OPEN);
    assert!(c.ids.len() <= MAX_OPEN * MAX_IDS_PER_REQUEST);
    assert!(!c.ids.contains_key("q0000001"));
}

#[test]
fn non_json_binary_and_control_frames_are_ignored() {
    let mut c = Correlator::new();
    c.observe(&text(1, 0, OUT, r#"{"id":"abcdef"}"#), Some("x"));
    for (op, p) in [
        (Opcode::Binary, "abcdef"),
        (Opcode::Ping, "abcdef"),
        (Opcode::Text, "abcdef not json"),
    ] {
        c.observe(
            &Frame {
                seq: 2,
                at: Duration::from_millis(3),
                dir: IN,
                opcode: op,
                payload: Bytes::from(p),
            },
            None,
        );
    }
    assert_eq!(c.replies(1), None);
}
