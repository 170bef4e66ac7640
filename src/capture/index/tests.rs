use super::*;

fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, bytes).expect("write");
    (dir, path)
}

fn index(path: &Path, max_line: usize) -> (Result<IndexSummary, CaptureError>, Vec<Indexed>) {
    let mut got = Vec::new();
    let r = index_with(path, max_line, 16, &mut |b, _| {
        got.extend(b);
        ControlFlow::Continue(())
    });
    (r, got)
}

const OK: &str = "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}\n";

#[test]
fn a_line_past_the_bound_is_a_warning_naming_it_and_the_rest_loads() {
    let long = format!(
        "{{\"seq\":2,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":5000,\"text\":\"{}\"}}\n",
        "a".repeat(5000)
    );
    let (_d, path) = file_with(format!("{OK}{long}{OK}").as_bytes());
    let (r, got) = index(&path, 1024);
    let s = r.expect("summary");
    assert_eq!(got.len(), 2);
    assert_eq!(
        s.warnings,
        vec![format!(
            "line 2: {} bytes long, more than the 1024 bytes a line may have; skipped",
            long.len() - 1
        )]
    );
    // With the bound above it, the same line loads.
    let (r, got) = index(&path, 1 << 20);
    assert!(r.expect("summary").warnings.is_empty());
    assert_eq!(got.len(), 3);
}

#[test]
fn an_ms_no_duration_holds_is_a_bad_line_not_a_panic() {
    let (_d, path) = file_with(
        format!("{OK}{{\"dir\":\"in\",\"op\":\"text\",\"text\":\"x\",\"ms\":1e300}}\n{{\"event\":\"e\",\"ms\":1e300}}\n{OK}")
            .as_bytes(),
    );
    let (r, got) = index(&path, MAX_LINE);
    let s = r.expect("summary");
    assert_eq!(got.len(), 2);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(s.warnings[0].starts_with("line 2: \"ms\" of 1e300 is out of range"));
    assert!(
        payload_from_line(b"{\"dir\":\"in\",\"op\":\"text\",\"text\":\"x\",\"ms\":1e300}").is_err()
    );
}

#[test]
fn warnings_are_kept_up_to_a_bound_then_counted() {
    let mut text = String::from(OK);
    for _ in 0..MAX_WARNINGS + 250 {
        text.push_str("junk\n");
    }
    let (_d, path) = file_with(text.as_bytes());
    let (r, got) = index(&path, MAX_LINE);
    let s = r.expect("summary");
    assert_eq!(got.len(), 1);
    assert_eq!(s.warnings.len(), MAX_WARNINGS + 1);
    assert_eq!(
        s.warnings.last().map(String::as_str),
        Some("… and 250 more lines that could not be read")
    );
}

#[test]
fn payloads_from_lines_of_either_shape() {
    assert_eq!(payload_from_line(OK.as_bytes()).expect("canonical"), "hi");
    assert_eq!(
        payload_from_line(br#"{"b64":"AAEC","op":"binary","dir":"in"}"#).expect("any order"),
        &[0u8, 1, 2][..]
    );
    assert_eq!(
        payload_from_line(br#"{"dir":"in","op":"text","text":"\u00e9\n"}"#).expect("escapes"),
        "é\n"
    );
    for bad in [
        &b"{\"wsdeck_capture\":1}"[..],
        b"{\"event\":\"open\"}",
        b"[]",
        b"",
        b"{\"dir\":\"in\",\"op\":\"binary\",\"len\":9,\"b64\":\"AA==\"}",
    ] {
        assert!(
            payload_from_line(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn progress_moves_over_a_file_of_few_long_lines() {
    // Records far apart in bytes still report progress before the batch fills.
    let line = format!(
        "{{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":{n},\"text\":\"{}\"}}\n",
        "b".repeat(40 << 20),
        n = 40 << 20
    );
    let (_d, path) = file_with(line.repeat(3).as_bytes());
    let mut calls = Vec::new();
    index_with(&path, MAX_LINE, 1000, &mut |b, p| {
        calls.push((b.len(), p.bytes_read));
        ControlFlow::Continue(())
    })
    .expect("summary");
    let len = line.len() as u64;
    assert_eq!(calls, vec![(2, 2 * len), (1, 3 * len)]);
}

#[test]
fn a_file_with_no_record_is_refused_with_the_readers_words() {
    for text in [
        &b"{\"a\":1}\n[1]\n"[..],
        b"{\"seq\":1,\"text\":\"cut",
        b"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
    ] {
        let (_d, path) = file_with(text);
        let (r, _) = index(&path, MAX_LINE);
        let e = r.expect_err("no record").to_string();
        let want = crate::capture::read_capture(&path)
            .expect_err("no record")
            .to_string();
        assert_eq!(e, want);
        assert!(e.contains("could not be read; line 1: "), "{e}");
    }
}
