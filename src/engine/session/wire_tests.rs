use super::*;

const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n";

/// A server frame (unmasked) with this first byte and payload.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    match payload.len() {
        n if n < 126 => v.push(n as u8),
        n if n <= 0xffff => {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    v.extend_from_slice(payload);
    v
}

fn masked(b0: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut v = vec![b0, 0x80 | payload.len() as u8];
    v.extend_from_slice(&mask);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    v
}

fn wire(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut v = HEAD.to_vec();
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

/// The same bytes fed whole, one byte at a time, and in uneven pieces give the same log.
fn each_split(bytes: &[u8], check: impl Fn(&WireLog)) {
    let mut whole = WireLog::new();
    whole.feed(bytes);
    check(&whole);
    let mut bytewise = WireLog::new();
    for b in bytes {
        bytewise.feed(std::slice::from_ref(b));
    }
    check(&bytewise);
    let mut uneven = WireLog::new();
    let mut rest = bytes;
    let mut n = 1;
    while !rest.is_empty() {
        let (a, b) = rest.split_at(n.min(rest.len()));
        uneven.feed(a);
        rest = b;
        n = n * 3 % 17 + 1;
    }
    check(&uneven);
}

#[test]
fn a_close_code_tungstenite_rewrites_is_kept_as_sent() {
    let mut close = 999u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"odd");
    let bytes = wire(&[frame(0x81, b"{\"a\":1}"), frame(0x88, &close)]);
    each_split(&bytes, |log| {
        let c = log.first_close().expect("close");
        assert_eq!(c.code(), Some(999));
        assert_eq!(c.reason(), b"odd");
        assert_eq!(c.frame_no, 2);
        assert_eq!(log.bad_text(), None, "valid text is not reported");
    });
}

#[test]
fn the_first_close_stands_and_short_payloads_have_no_code() {
    let bytes = wire(&[frame(0x88, &[0x03]), frame(0x88, &1000u16.to_be_bytes())]);
    each_split(&bytes, |log| {
        let c = log.first_close().expect("close");
        assert_eq!(c.code(), None);
        assert_eq!(c.payload.as_ref(), &[0x03]);
    });
}

#[test]
fn an_invalid_text_is_found_behind_the_frames_read_after_it() {
    let bytes = wire(&[
        frame(0x81, "ok é".as_bytes()),
        frame(0x82, &[0xff, 0xfe]),
        frame(0x81, &[b'a', 0xc3, 0x28, b'b']),
        frame(0x81, b"later"),
        frame(0x88, &1000u16.to_be_bytes()),
    ]);
    each_split(&bytes, |log| {
        let bad = log.bad_text().expect("bad text");
        assert_eq!(bad.frame_no, 3);
        assert_eq!(bad.bytes.as_ref(), &[b'a', 0xc3, 0x28, b'b']);
        assert_eq!(bad.bad_at, Some(1));
        assert!(!bad.cut);
    });
}

#[test]
fn fragments_with_pings_between_make_one_message() {
    let bytes = wire(&[
        frame(0x01, "hé".as_bytes()[..2].as_ref()),
        frame(0x89, b"p1"),
        // The é is split across fragments: not invalid.
        frame(0x00, &"hé".as_bytes()[2..]),
        frame(0x8a, b"p2"),
        frame(0x00, &[0xed, 0xa0, 0x80]),
        frame(0x80, b"end"),
    ]);
    each_split(&bytes, |log| {
        let bad = log.bad_text().expect("bad");
        assert_eq!(bad.frame_no, 1, "named by its first fragment");
        assert_eq!(
            bad.bytes.as_ref(),
            ["hé".as_bytes(), &[0xed, 0xa0, 0x80], b"end"].concat()
        );
        assert_eq!(bad.bad_at, Some(3));
    });
}

#[test]
fn a_sequence_cut_by_a_fragment_boundary_is_not_yet_invalid() {
    let bytes = wire(&[frame(0x01, &[b'x', 0xe2, 0x82])]);
    each_split(&bytes, |log| assert_eq!(log.bad_text(), None));
    // ...but at the end of the message it is.
    let bytes = wire(&[frame(0x81, &[b'x', 0xe2, 0x82])]);
    each_split(&bytes, |log| {
        assert_eq!(log.bad_text().and_then(|b| b.bad_at), Some(1));
    });
}

#[test]
fn binary_continuations_are_not_text() {
    let bytes = wire(&[
        frame(0x02, &[0xff]),
        frame(0x89, b""),
        frame(0x80, &[0xfe]),
        frame(0x81, b"fine"),
    ]);
    each_split(&bytes, |log| assert_eq!(log.bad_text(), None));
}

#[test]
fn long_lengths_and_masks_are_followed() {
    let big = vec![b'a'; 70_000];
    let mut close = 4000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"masked");
    let bytes = wire(&[
        frame(0x82, &big),
        frame(0x81, &vec![b'b'; 300]),
        masked(0x88, &close, [1, 2, 3, 4]),
    ]);
    each_split(&bytes, |log| {
        let c = log.first_close().expect("close");
        assert_eq!((c.code(), c.reason()), (Some(4000), &b"masked"[..]));
        assert_eq!(c.frame_no, 3);
    });
}

#[test]
fn a_text_over_the_keep_is_cut_and_still_named() {
    let mut long = vec![b'a'; TEXT_KEEP + 10];
    long[TEXT_KEEP + 5] = 0xff;
    let bytes = wire(&[frame(0x81, &long)]);
    each_split(&bytes, |log| {
        let bad = log.bad_text().expect("bad");
        assert!(bad.cut);
        assert_eq!(bad.bytes.len(), TEXT_KEEP);
        assert_eq!(bad.len, long.len() as u64);
        assert_eq!(bad.bad_at, None, "past what was kept");
    });
}

#[test]
fn the_text_kept_stays_bounded() {
    let mut log = WireLog::new();
    log.feed(HEAD);
    let one = frame(0x81, &[b'x'; 1000]);
    for _ in 0..20_000 {
        log.feed(&one);
    }
    assert!(log.texts.bytes.len() <= 3 * TEXT_BUDGET + TEXT_KEEP);
    assert!(log.texts.entries.len() <= TEXT_ENTRIES);
    let tiny = frame(0x81, b"");
    for _ in 0..20_000 {
        log.feed(&tiny);
    }
    assert!(log.texts.entries.len() <= TEXT_ENTRIES);
    // An invalid one after all that is still found.
    log.feed(&frame(0x81, &[0xc0]));
    assert_eq!(log.bad_text().map(|b| b.bytes.to_vec()), Some(vec![0xc0]));
}

#[test]
fn garbage_never_panics() {
    let mut log = WireLog::new();
    let mut x: u32 = 12345;
    let mut bytes = HEAD.to_vec();
    for _ in 0..200_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.push((x >> 16) as u8);
    }
    log.feed(&bytes);
    let _ = log.bad_text();
    let _ = log.first_close();
}

#[test]
fn a_relays_tap_keeps_the_first_close_and_no_text() {
    // Text that is not UTF-8, fragmented, then a close: a relay's log keeps only the close.
    let mut close = 1005u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"r");
    let bytes = wire(&[
        frame(0x01, &[0xc3]),
        frame(0x80, &[0x28]),
        frame(0x82, &[1, 2, 3]),
        frame(0x88, &close),
    ]);
    let mut log = WireLog::closes_only();
    log.feed(&bytes);
    assert_eq!(log.bad_text(), None, "no text kept");
    let c = log.first_close().expect("close");
    assert_eq!(
        (c.code(), c.reason(), c.frame_no),
        (Some(1005), &b"r"[..], 4)
    );

    // Through the tap's reads, the close reaches the watch a relay holds.
    let watch = CloseWatch::default();
    let mut tap = Tap::new(&bytes[..], Follow::Closes(watch.clone()));
    let mut out = Vec::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use tokio::io::AsyncReadExt;
        tap.read_to_end(&mut out).await.expect("read");
    });
    assert_eq!(out, bytes, "the bytes pass unchanged");
    assert_eq!(
        watch.first_close().map(|c| c.payload),
        Some(Bytes::from(close))
    );
}
