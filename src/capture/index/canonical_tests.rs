use super::*;
use crate::capture::line::LineEncoder;
use crate::engine::frame::{Frame, close_payload};
use bytes::Bytes;
use std::time::SystemTime;

fn line_of(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    LineEncoder::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800))
        .frame(&mut out, f);
    assert_eq!(out.pop(), Some(b'\n'));
    out
}

fn frame(seq: u64, at_us: u64, dir: Direction, opcode: Opcode, payload: &[u8]) -> Frame {
    Frame {
        seq,
        at: Duration::from_micros(at_us),
        dir,
        opcode,
        payload: Bytes::copy_from_slice(payload),
    }
}

/// The payload as the line carries it, decoded.
fn payload(line: &[u8], c: &Canonical) -> Vec<u8> {
    let mut out = Vec::new();
    decode_into(line, c, &mut out).expect("payload");
    out
}

#[test]
fn the_writers_lines_are_canonical_for_every_opcode() {
    let cases = [
        frame(1, 0, Direction::Out, Opcode::Text, b"{\"type\":\"ping\"}"),
        frame(
            2,
            6_315,
            Direction::In,
            Opcode::Text,
            "tab\there \"q\" \\ é 😀\n\r\u{8}\u{c}".as_bytes(),
        ),
        frame(3, 1_000_001, Direction::In, Opcode::Binary, &[0, 1, 2, 255]),
        frame(4, 7, Direction::In, Opcode::Binary, b""),
        frame(5, 8, Direction::Out, Opcode::Ping, b"p"),
        frame(6, 9, Direction::In, Opcode::Pong, b"po"),
        frame(
            7,
            10,
            Direction::In,
            Opcode::Close,
            &close_payload(1011, "Internal \"error\""),
        ),
        frame(8, 11, Direction::Out, Opcode::Close, b""),
        frame(
            u64::MAX,
            3_600_000_000_123,
            Direction::Out,
            Opcode::Text,
            b"",
        ),
    ];
    for f in &cases {
        let line = line_of(f);
        let c = parse(&line).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&line)));
        assert_eq!(
            (c.seq, c.at, c.dir, c.opcode),
            (f.seq, f.at, f.dir, f.opcode)
        );
        assert_eq!(c.len as usize, f.payload.len());
        assert_eq!(payload(&line, &c), f.payload.as_ref());
        assert!(!c.injected);
        assert!(line[c.times.clone()].starts_with(b"\"t\":\""));
        assert_eq!(c.bare, f.opcode != Opcode::Close || f.payload.len() < 2);
    }
}

#[test]
fn text_that_is_not_utf8_goes_as_base64_and_still_reads() {
    let f = frame(1, 5, Direction::In, Opcode::Text, &[0xff, 0xfe]);
    let line = line_of(&f);
    let c = parse(&line).expect("canonical");
    assert_eq!(c.carried, Carried::B64);
    assert_eq!(payload(&line, &c), vec![0xff, 0xfe]);
}

#[test]
fn times_are_what_the_reader_makes_of_ms() {
    // The reader: serde's f64 of "ms", divided by 1000, as a Duration from seconds.
    for us in
        (0..3_000_000u64)
            .step_by(997)
            .chain([1, 999, 1_000, 123_456_789_123, 999_999_999_999_999])
    {
        let text = format!("{}.{:03}", us / 1000, us % 1000);
        let v: f64 = serde_json::from_str(&text).expect("f64");
        let want = if v > 0.0 {
            Duration::from_secs_f64(v / 1000.0)
        } else {
            Duration::ZERO
        };
        let line = format!(
            "{{\"seq\":1,\"t\":\"x\",\"ms\":{text},\"dir\":\"in\",\"op\":\"text\",\"len\":0,\"text\":\"\"}}"
        );
        assert_eq!(
            parse(line.as_bytes()).expect("canonical").at,
            want,
            "{text}"
        );
    }
}

#[test]
fn whole_microseconds_below_the_bound_are_what_the_f64_path_gives() {
    // The reader's path (serde's f64 of the decimal, /1000, from_secs_f64) against the exact
    // microsecond, on random values up to the bound and every edge near it.
    let reader = |us: u64| {
        let ms = us as f64 / 1000.0;
        if ms > 0.0 {
            Duration::from_secs_f64(ms / 1000.0)
        } else {
            Duration::ZERO
        }
    };
    let mut x = 0x1234_5678_9abc_def1u64;
    let bound = 1_000_000_000_000u64;
    let edges = (0..2000).flat_map(|d| [d, bound - 1 - d, bound / 2 + d, (1u64 << 32) + d]);
    let random = (0..300_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % bound
    });
    for us in edges.chain(random) {
        assert_eq!(at_of_us(us), Some(reader(us)), "{us}");
    }
    assert_eq!(at_of_us(bound + 5), Some(reader(bound + 5)));
}

#[test]
fn proxy_and_console_fields_after_the_payload() {
    let base = "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":1,\"b64\":\"AA==\"";
    for (tail, injected) in [
        ("}", false),
        (",\"client\":3}", false),
        (",\"injected\":true}", true),
        (",\"client\":12,\"injected\":true}", true),
        (",\"injected\":false}", false),
        (",\"injected\":true,\"injected\":false}", false),
        (",\"code\":1000,\"reason\":\"bye\"}", false),
        (",\"decoder\":\"cbor\",\"decoded\":[{\"depth\":0}]}", false),
    ] {
        let line = format!("{base}{tail}");
        let c = parse(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(c.injected, injected, "{line}");
    }
}

#[test]
fn anything_else_is_left_to_serde() {
    let ok = "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}";
    assert!(parse(ok.as_bytes()).is_some());
    let not = [
        // Other field orders, spacing, number forms.
        "{\"t\":\"x\",\"seq\":1,\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{ \"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":01,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.5,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.0000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000e3,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":99999999999999999999,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"up\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"texts\",\"len\":2,\"text\":\"hi\"}",
        // A length that is not the payload's.
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":3,\"text\":\"hi\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":3,\"b64\":\"AA==\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":1,\"b64\":\"AAA=\"}",
        // Escapes serde_json never writes, raw control characters, bad UTF-8, bad base64.
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"\\u0041\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"\\/\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"\t\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":1,\"b64\":\"A*==\"}",
        // A key the reader looks at, repeated; a trailing comma; anything after the object.
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"dir\":\"out\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"event\":\"x\"}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"wsdeck_capture\":1}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}}",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi",
        "{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":1,\"b64\":\"AA",
        "{\"seq\":1",
        "",
    ];
    for line in not {
        assert_eq!(parse(line.as_bytes()), None, "{line}");
    }
    // Bytes that are not UTF-8 inside a text string.
    let mut bad =
        b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\""
            .to_vec();
    bad.extend_from_slice(&[0xff, b'"', b'}']);
    assert_eq!(parse(&bad), None);
}

#[test]
fn base64_is_accepted_exactly_when_the_reader_decodes_it() {
    // The reader decodes with the same engine; what `check` passes, `decode` takes, and the
    // other way round (padding, and bits past the end that are not zero).
    for b64 in [
        "AA==", "AB==", "AAA=", "AAB=", "AAAA", "A===", "====", "AA=A", "QUJD",
    ] {
        assert_eq!(
            base64_simd::STANDARD.check(b64.as_bytes()).is_ok(),
            base64_simd::STANDARD.decode_to_vec(b64).is_ok(),
            "{b64}"
        );
    }
}

#[test]
fn base64_is_canonical_so_reencoding_gives_the_same_text() {
    // Bits past the payload's end that are not zero would re-encode differently.
    for b64 in ["AB==", "AAB=", "AP9="] {
        assert!(base64_simd::STANDARD.decode_to_vec(b64).is_err(), "{b64}");
    }
}

#[test]
fn hostile_lines_never_panic() {
    let seeds: [&[u8]; 4] = [
        b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"h\\\\\"}",
        b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":4294967295,\"b64\":\"\"}",
        b"{\"seq\":1,\"t\":\"x\",\"ms\":999999999999.999,\"dir\":\"in\",\"op\":\"ping\",\"len\":0,\"b64\":\"\",\"client\":",
        b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"\\",
    ];
    for s in seeds {
        for cut in 0..=s.len() {
            let _ = parse(&s[..cut]);
        }
    }
}

#[test]
fn text_scanning_agrees_with_serde_on_random_strings() {
    // Bytes drawn from what matters to a JSON string, at every offset of the 8-byte steps.
    let alphabet: &[&[u8]] = &[
        b"a",
        b"Z",
        b"0",
        b" ",
        b"\"",
        b"\\",
        b"\\\"",
        b"\\\\",
        b"\\n",
        b"\\t",
        b"\\b",
        b"\\/",
        b"\\u0041",
        b"\\x",
        b"\n",
        b"\x01",
        b"\x1f",
        b"\x7f",
        "é".as_bytes(),
        "😀".as_bytes(),
        &[0xff],
        &[0xc3],
        &[0x80],
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for _ in 0..200_000 {
        let mut s = b"\"".to_vec();
        for _ in 0..rand(40) {
            // Mostly plain text, so the 8-byte steps get exercised.
            let piece = if rand(4) == 0 {
                alphabet[rand(alphabet.len())]
            } else {
                b"x"
            };
            s.extend_from_slice(piece);
        }
        s.extend_from_slice(b"\"}");
        // serde reading one string from the start, and where it ended.
        let mut stream = serde_json::Deserializer::from_slice(&s).into_iter::<String>();
        let serde_says = stream.next().expect("a value");
        let serde_end = stream.byte_offset();
        let shown = String::from_utf8_lossy(&s).into_owned();
        match scan_text(&s, 1) {
            Some((close, n)) => {
                let text = serde_says
                    .unwrap_or_else(|e| panic!("scan took what serde refuses ({e}): {shown}"));
                assert_eq!(close + 1, serde_end, "{shown}");
                assert_eq!(n, text.len(), "{shown}");
                let mut out = Vec::new();
                unescape_into(&s[1..close], &mut out);
                assert_eq!(out, text.as_bytes(), "{shown}");
            }
            None => {
                // What scan leaves to serde: anything serde refuses, and \u and \/.
                if let Ok(text) = serde_says {
                    assert!(
                        s[..serde_end]
                            .windows(2)
                            .any(|w| w == b"\\u" || w == b"\\/"),
                        "scan refused what serde reads as {text:?}: {shown}"
                    );
                }
            }
        }
    }
}

/// Decoding a binary payload while parsing reads every line as `parse` does, and gives the
/// payload `decode_into` gives; lines `parse` refuses (bad base64 among them) it refuses too.
#[test]
fn parsing_while_decoding_reads_as_parse_does() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut lines = Vec::new();
    for n in 0..300usize {
        let payload: Vec<u8> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        for op in [Opcode::Binary, Opcode::Ping, Opcode::Text, Opcode::Close] {
            let line = line_of(&frame(
                n as u64 + 1,
                n as u64 * 7,
                Direction::In,
                op,
                &payload,
            ));
            lines.push(line.clone());
            // The same line with one base64 character or the length broken.
            if let Some(b64) = line.windows(7).position(|w| w == b"\"b64\":\"") {
                let mut bad = line.clone();
                if bad[b64 + 7] != b'"' {
                    bad[b64 + 7] = b'*';
                    lines.push(bad);
                }
                let mut bad = line.clone();
                if let Some(end) = bad.iter().rposition(|b| *b == b'=') {
                    bad[end] = b'A';
                    lines.push(bad);
                }
            }
        }
    }
    let mut scratch = vec![b'!'; 10];
    for line in &lines {
        let want = parse(line);
        let got = parse_decoding(line, &mut scratch);
        assert_eq!(got, want, "{}", String::from_utf8_lossy(line));
        if let Some(c) = got
            && c.opcode == Opcode::Binary
            && c.carried == Carried::B64
        {
            assert_eq!(scratch, payload(line, &c));
        }
    }
}

/// Integers as `str::parse` reads them, within the digit bound and without leading zeros, at
/// every length around 19 and 20 digits (where a u64 can overflow) and before other bytes.
#[test]
fn integers_are_read_as_str_parse_reads_them() {
    let mut cases: Vec<String> = vec![
        "".into(),
        "0".into(),
        "00".into(),
        "01".into(),
        "18446744073709551615".into(),
        "18446744073709551616".into(),
        "99999999999999999999".into(),
        "9999999999999999999".into(),
        "123456789012345678901".into(),
    ];
    for len in 1..=22 {
        cases.push("9".repeat(len));
        cases.push(format!("1{}", "0".repeat(len - 1)));
        cases.push(format!("{}7", "3".repeat(len - 1)));
    }
    for max in [10, 12, 19, 20, 25] {
        for digits in &cases {
            for after in ["", ",", "x9"] {
                let text = format!("{digits}{after}");
                let mut c = Cur {
                    b: text.as_bytes(),
                    i: 0,
                };
                let want = (!digits.is_empty()
                    && digits.len() <= max
                    && !(digits.len() > 1 && digits.starts_with('0')))
                .then(|| digits.parse::<u64>().ok())
                .flatten();
                assert_eq!(c.uint(max), want, "{text:?} max {max}");
                if want.is_some() {
                    assert_eq!(c.i, digits.len());
                }
            }
        }
    }
}

/// A line read where it starts in a buffer of lines is the line `parse` reads (trimmed, as the
/// reader reads it), found to end at its `\n`, with or without fields after the payload and
/// trailing `\r` or blanks; a cut buffer or a `\n` inside the line is left to the usual way.
#[test]
fn a_line_read_at_its_start_in_a_buffer_is_the_line_parse_reads() {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let texts = [
        "",
        "a",
        "é \" \\ \n \t",
        "{\"k\":\"v\\\\\"}",
        &"x".repeat(200),
    ];
    for (i, t) in texts.iter().enumerate() {
        lines.push(line_of(&frame(
            i as u64 + 1,
            17,
            Direction::In,
            Opcode::Text,
            t.as_bytes(),
        )));
    }
    for n in [0usize, 1, 2, 3, 64, 100] {
        let payload: Vec<u8> = (0..n as u8).collect();
        for op in [Opcode::Binary, Opcode::Pong, Opcode::Close] {
            lines.push(line_of(&frame(9, 1_000_001, Direction::Out, op, &payload)));
        }
    }
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"client\":3}".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"client\":3,\"injected\":true}".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"other\":[1,{\"a\":2}]}".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\",\"dir\":\"out\"}".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"} ".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"text\",\"len\":3,\"text\":\"h\ni\"}".to_vec());
    lines.push(b"{\"seq\":1,\"t\":\"x\",\"ms\":1.000,\"dir\":\"in\",\"op\":\"binary\",\"len\":3,\"b64\":\"AAE\nC\"}".to_vec());
    let next = b"{\"seq\":2,\"t\":\"y\",\"ms\":2.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"z\"}\n";
    let mut found = 0;
    for line in &lines {
        for end in [&b"\n"[..], b"\r\n", b" \t\n", b""] {
            let buf = [&line[..], end, next].concat();
            // What the reader's way makes of it: the line up to the first `\n`, trimmed.
            let nl = buf.iter().position(|b| *b == b'\n').expect("a newline");
            let expect = parse(trim_line(&buf[..nl])).map(|c| (c, nl));
            let mut payload = Vec::new();
            let got = parse_line_start(&buf, Some(&mut payload));
            assert_eq!(got, expect, "{}", String::from_utf8_lossy(&buf));
            if let Some((c, len)) = got {
                found += 1;
                assert_eq!(buf[len], b'\n');
                assert!(!buf[..len].contains(&b'\n'));
                if c.opcode == Opcode::Binary {
                    assert_eq!(payload, self::payload(line, &c));
                }
            }
            // Cut anywhere before the `\n`: nothing.
            for cut in 0..nl.min(line.len() + 1) {
                assert_eq!(parse_line_start(&buf[..cut], None), None);
            }
        }
    }
    assert!(found > 10, "{found}");
}
