//! The binary decoders on bytes made by real encoders (Python's protobuf, msgpack, cbor2 and
//! wave, from tests/agents/make_samples.py in the test venv), directly and through
//! `wsdeck inspect --decode` and `wsdeck export --wav`. Protobuf with the user's `.proto` files
//! is in decode_proto.rs, on samples made here.

use crate::support::{assert_exit, json_lines, python, repo, wsdeck};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use wsdeck::decode::{DecoderKind, TreeLine, decode};

pub(crate) struct Samples {
    _dir: tempfile::TempDir,
    path: PathBuf,
    protobuf: Vec<u8>,
    msgpack: Vec<u8>,
    cbor: Vec<u8>,
    /// A voice.v1.Frame and a voice.v1.Ack of decode_proto.rs's `VOICE_PROTO`, and the fields
    /// Python's protobuf resolved for its mirror of that file.
    pub(crate) voice_frame: Vec<u8>,
    pub(crate) voice_ack: Vec<u8>,
    pub(crate) voice_descriptor: Value,
}

pub(crate) fn samples() -> Samples {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("samples");
    let o = Command::new(python())
        .arg(repo().join("tests/agents/make_samples.py"))
        .arg(&path)
        .output()
        .expect("make_samples.py");
    assert!(
        o.status.success(),
        "make_samples.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let read = |n: &str| std::fs::read(path.join(n)).expect(n);
    Samples {
        protobuf: read("sample.pb"),
        msgpack: read("sample.msgpack"),
        cbor: read("sample.cbor"),
        voice_frame: read("voice_frame.pb"),
        voice_ack: read("voice_ack.pb"),
        voice_descriptor: serde_json::from_slice(&read("voice_descriptor.json"))
            .expect("descriptor json"),
        path,
        _dir: dir,
    }
}

/// The 16-bit samples of a WAV that Python's `wave` wrote, as little-endian bytes.
fn wav_pcm(path: &Path) -> (hound::WavSpec, Vec<u8>) {
    let mut r = hound::WavReader::open(path).expect("wav");
    let bytes = r
        .samples::<i16>()
        .flat_map(|s| s.expect("sample").to_le_bytes())
        .collect();
    (r.spec(), bytes)
}

fn line<'a>(lines: &'a [TreeLine], depth: u16, label: &str) -> &'a TreeLine {
    lines
        .iter()
        .find(|l| l.depth == depth && l.label == label)
        .unwrap_or_else(|| panic!("no line {label} at depth {depth} in {lines:#?}"))
}

#[test]
fn each_decoder_claims_its_real_sample_and_auto_tells_them_apart() {
    let s = samples();

    let pb = decode(DecoderKind::Auto, &s.protobuf).expect("protobuf claimed");
    assert_eq!(pb.kind, DecoderKind::Protobuf);
    let l = &pb.lines;
    assert_eq!(line(l, 0, "1").value, "\"hello from protobuf\"");
    assert_eq!(line(l, 0, "2").value, "150");
    assert_eq!(line(l, 0, "3").value, "{");
    assert!(line(l, 0, "3").note.starts_with("message (guessed)"));
    assert_eq!(line(l, 1, "1").value, "\"nested label\"");
    assert_eq!(line(l, 1, "2").value, "0.25");
    assert_eq!(line(l, 0, "4").value, "[1, 2, 300]");
    assert!(line(l, 0, "4").note.starts_with("packed varints"));
    assert_eq!(line(l, 0, "5").value, "00 01 fe ff");
    assert!(line(l, 0, "5").note.starts_with("bytes"));
    assert!(line(l, 0, "6").note.contains("zigzag -42"), "{l:#?}");
    assert_eq!(line(l, 0, "7").value, "1.5");
    assert_eq!(line(l, 0, "8").value, "1");
    assert_eq!(l.len(), 10);

    let mp = decode(DecoderKind::Auto, &s.msgpack).expect("msgpack claimed");
    assert_eq!(mp.kind, DecoderKind::MsgPack);
    let l = &mp.lines;
    assert_eq!(line(l, 0, "type").value, "\"audio.chunk\"");
    assert_eq!(line(l, 0, "seq").value, "7");
    assert_eq!(line(l, 1, "rate").value, "24000");
    assert_eq!(line(l, 1, "codec").value, "\"pcm16\"");
    assert_eq!(line(l, 1, "[1]").value, "\"b\"");
    assert_eq!(line(l, 0, "raw").value, "01 02");
    assert_eq!(line(l, 0, "ext").note, "ext 5 · 2 bytes");
    assert_eq!(line(l, 0, "ts").value, "2023-11-14T22:13:20Z");
    assert_eq!(line(l, 0, "api_key").value, "<redacted, 17 chars>");

    let cb = decode(DecoderKind::Auto, &s.cbor).expect("cbor claimed");
    assert_eq!(cb.kind, DecoderKind::Cbor);
    let l = &cb.lines;
    assert_eq!(line(l, 0, "type").value, "\"session.update\"");
    assert_eq!(line(l, 0, "n").value, "-5");
    assert!(line(l, 0, "at").note.contains("2023-11-14T22:13:20Z"));
    assert_eq!(line(l, 0, "when").value, "\"2026-11-25T10:45:25Z\"");
    assert!(line(l, 0, "when").note.starts_with("tag 0 (date/time)"));
    assert_eq!(
        line(l, 0, "id").value,
        "12345678-1234-5678-1234-567812345678"
    );
    assert_eq!(line(l, 1, "[0]").value, "1.5");
    assert_eq!(line(l, 0, "blob").value, "00 ff");

    // Each sample is its own format only, even to the lenient explicit decoders.
    assert!(decode(DecoderKind::Cbor, &s.protobuf).is_none());
    assert!(decode(DecoderKind::MsgPack, &s.protobuf).is_none());
    assert!(decode(DecoderKind::Protobuf, &s.msgpack).is_none());
    assert!(decode(DecoderKind::Cbor, &s.msgpack).is_none());
    assert!(decode(DecoderKind::Protobuf, &s.cbor).is_none());
    assert!(decode(DecoderKind::MsgPack, &s.cbor).is_none());

    // Audio that `wave` wrote is not claimed by auto, in the chunk sizes agents send.
    for (name, chunk) in [
        ("tone.wav", 640),
        ("tone.wav", 480),
        ("tone_stereo.wav", 1280),
    ] {
        let (_, pcm) = wav_pcm(&s.path.join(name));
        for c in pcm.chunks_exact(chunk) {
            assert_eq!(decode(DecoderKind::Auto, c), None, "{name} {chunk}");
            assert!(decode(DecoderKind::Pcm, c).is_some());
        }
    }
}

/// A capture file of `frames` (direction, then a payload: `Ok` binary, `Err` text).
pub(crate) fn write_capture(path: &Path, frames: &[(&str, Result<&[u8], String>)]) {
    let mut text = json!({
        "wsdeck_capture": 1, "wsdeck_version": "0.1.0", "started": "2026-11-25T10:45:25.642Z",
        "session": null, "agent_session_id": null,
        "target": {"kind": "url", "describe": "url ws://127.0.0.1:1/", "url": "ws://127.0.0.1:1/"}
    })
    .to_string();
    text.push('\n');
    for (i, (dir, payload)) in frames.iter().enumerate() {
        let mut v = json!({"seq": i + 1, "ms": i as f64 * 10.0, "dir": dir});
        match payload {
            Ok(b) => {
                v["op"] = "binary".into();
                v["len"] = b.len().into();
                v["b64"] = base64_simd::STANDARD.encode_to_string(b).into();
            }
            Err(t) => {
                v["op"] = "text".into();
                v["len"] = t.len().into();
                v["text"] = t.as_str().into();
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).expect("capture");
}

#[test]
fn inspect_shows_binary_frames_through_the_decoders() {
    let s = samples();
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("cap.jsonl");
    let (_, tone) = wav_pcm(&s.path.join("tone.wav"));
    let chunk = &tone[..640];
    write_capture(
        &cap,
        &[
            ("out", Ok(&s.protobuf)),
            ("in", Ok(&s.msgpack)),
            ("in", Ok(&s.cbor)),
            ("in", Ok(chunk)),
            ("in", Ok(&[0x00, 0xff, 0x10])),
            ("in", Err(r#"{"type":"ping"}"#.into())),
        ],
    );
    let stdout = |args: &[&str]| {
        let mut c = wsdeck(home.path());
        c.arg("inspect").args(args).arg(&cap);
        let o = c.output().expect("inspect");
        assert_exit(&o, 0);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    // auto is the default: each sample in its own format, the PCM chunk and the odd bytes as hex.
    let text = stdout(&[]);
    assert_eq!(text, stdout(&["--decode", "auto"]));
    for want in [
        "B  protobuf\n",
        "    1: \"hello from protobuf\"  · string · 19 bytes\n",
        "    3: {  · message (guessed)",
        "      1: \"nested label\"",
        "B  msgpack\n",
        "    type: \"audio.chunk\"  · str\n",
        "      rate: 24000  · int\n",
        "    api_key: <redacted, 17 chars>",
        "B  cbor\n",
        "    id: 12345678-1234-5678-1234-567812345678  · tag 37 (UUID)",
        "00000000  00 ff 10",
        "\"type\": \"ping\"",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    assert!(!text.contains("sk-test-not-shown"), "{text}");
    // The PCM chunk stays a dump under auto: no decoder named on its line.
    assert!(
        text.contains("binary      640 B  \n    00000000  "),
        "{text}"
    );

    let text = stdout(&["--decode", "pcm"]);
    assert!(
        text.contains("    320 samples · 13.3 ms at s16le 24 kHz mono (assumed) · peak -10.5 dBFS"),
        "{text}"
    );
    assert!(
        text.contains("(not whole 16-bit samples; shown as hex)"),
        "{text}"
    );

    let text = stdout(&["--decode", "cbor"]);
    assert!(text.contains("(not one CBOR item; shown as hex)"), "{text}");
    assert!(text.contains("    type: \"session.update\""), "{text}");

    let text = stdout(&["--decode", "hex"]);
    assert!(!text.contains("hello from protobuf\""), "{text}");
    assert!(text.contains("|..hello from pro|"), "{text}");

    // --json: the capture's fields as they were, plus decoder and decoded where one claims.
    let lines = json_lines(stdout(&["--json"]).as_bytes());
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["decoder"], "protobuf");
    assert_eq!(
        lines[0]["b64"],
        base64_simd::STANDARD.encode_to_string(&s.protobuf)
    );
    assert_eq!(
        (&lines[0]["op"], &lines[0]["dir"]),
        (&json!("binary"), &json!("out"))
    );
    let decoded = lines[0]["decoded"].as_array().expect("decoded");
    assert_eq!(
        decoded[0],
        json!({"depth": 0, "label": "1", "value": "\"hello from protobuf\"", "note": "string · 19 bytes"})
    );
    assert!(
        decoded
            .iter()
            .any(|d| d["depth"] == 1 && d["value"] == "\"nested label\"")
    );
    assert_eq!(lines[1]["decoder"], "msgpack");
    assert_eq!(lines[2]["decoder"], "cbor");
    for l in &lines[3..] {
        assert!(
            l.get("decoder").is_none() && l.get("decoded").is_none(),
            "{l}"
        );
    }
    let pcm_lines = json_lines(stdout(&["--json", "--decode", "pcm"]).as_bytes());
    assert_eq!(pcm_lines[3]["decoder"], "pcm");
    assert_eq!(pcm_lines[3]["decoded"][1]["value"], "320");

    // A decoder that does not exist is bad usage.
    let mut c = wsdeck(home.path());
    c.args(["inspect", "--decode", "xml"]).arg(&cap);
    let o = c.output().expect("inspect");
    assert_exit(&o, 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unknown decoder \"xml\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Python's own reading of a WAV: rate, channels, sample width, frames, and the frames' bytes.
fn python_reads_wav(path: &Path) -> Value {
    let o = Command::new(python())
        .args([
            "-c",
            "import json, sys, wave\n\
             w = wave.open(sys.argv[1])\n\
             n = w.getnframes()\n\
             print(json.dumps([w.getframerate(), w.getnchannels(), w.getsampwidth(), n, w.readframes(n).hex()]))",
        ])
        .arg(path)
        .output()
        .expect("python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn export_wav_writes_what_python_reads_back() {
    let s = samples();
    let home = tempfile::tempdir().expect("home");
    let (spec, tone) = wav_pcm(&s.path.join("tone.wav"));
    assert_eq!((spec.sample_rate, spec.channels), (24_000, 1));
    // The tone as ten 480-byte binary frames, then one more chunk as base64 in a JSON delta,
    // with frames that are not audio around them.
    let (binary, extra) = tone.split_at(4800 - 480);
    let delta = json!({"type": "response.audio.delta", "delta": base64_simd::STANDARD.encode_to_string(extra)}).to_string();
    let mut frames: Vec<(&str, Result<&[u8], String>)> = vec![
        ("out", Ok(&s.protobuf)),
        (
            "in",
            Err(r#"{"type":"response.output_text.delta","delta":"word"}"#.into()),
        ),
        ("in", Ok(&[1, 2, 3])),
    ];
    frames.extend(binary.chunks(480).map(|c| ("in", Ok(c))));
    frames.push(("in", Err(delta)));
    let cap = home.path().join("voice.jsonl");
    write_capture(&cap, &frames);

    let out = home.path().join("voice.wav");
    let mut c = wsdeck(home.path());
    c.arg("export").arg(&cap).arg("--wav").arg(&out);
    let o = c.output().expect("export");
    assert_exit(&o, 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("10 frames, 2400 samples, 0.10 s at s16le 24 kHz mono (1 binary frames of other sizes left out)"),
        "{err}"
    );
    let got = python_reads_wav(&out);
    assert_eq!(
        got.as_array().expect("list")[..4],
        [json!(24000), json!(1), json!(2), json!(2400)]
    );
    assert_eq!(got[4].as_str(), Some(hex::encode(&tone).as_str()));

    // --dir out takes the sent frames: the protobuf message is 70 bytes, whole samples.
    let mut c = wsdeck(home.path());
    c.arg("export")
        .arg(&cap)
        .args(["--dir", "out", "--wav"])
        .arg(&out);
    assert_exit(&c.output().expect("export"), 0);
    assert_eq!(python_reads_wav(&out)[3], json!(35));

    // Stereo at 16 kHz, as --rate and --channels say.
    let (spec, stereo) = wav_pcm(&s.path.join("tone_stereo.wav"));
    assert_eq!((spec.sample_rate, spec.channels), (16_000, 2));
    let frames: Vec<(&str, Result<&[u8], String>)> =
        stereo.chunks(640).map(|c| ("in", Ok(c))).collect();
    let cap2 = home.path().join("stereo.jsonl");
    write_capture(&cap2, &frames);
    let mut c = wsdeck(home.path());
    c.arg("export")
        .arg(&cap2)
        .args(["--rate", "16000", "--channels", "2", "--wav"])
        .arg(&out);
    assert_exit(&c.output().expect("export"), 0);
    let got = python_reads_wav(&out);
    assert_eq!(
        got.as_array().expect("list")[..4],
        [json!(16000), json!(2), json!(2), json!(800)]
    );
    assert_eq!(got[4].as_str(), Some(hex::encode(&stereo).as_str()));

    // No audio at all: exit 2, said plainly, no file.
    let cap3 = home.path().join("chat.jsonl");
    write_capture(
        &cap3,
        &[
            ("out", Err(r#"{"type":"user.message"}"#.into())),
            ("in", Ok(&[1, 2, 3])),
        ],
    );
    let none = home.path().join("none.wav");
    let mut c = wsdeck(home.path());
    c.arg("export").arg(&cap3).arg("--wav").arg(&none);
    let o = c.output().expect("export");
    assert_exit(&o, 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no PCM audio in the in direction"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!none.exists());

    let mut c = wsdeck(home.path());
    c.arg("export")
        .arg(&cap)
        .args(["--dir", "sideways", "--wav"])
        .arg(&none);
    assert_exit(&c.output().expect("export"), 2);
}
