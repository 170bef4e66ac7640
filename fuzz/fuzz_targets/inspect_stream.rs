//! `inspect`'s streams against their references on any file: `--json` with spans read ahead by
//! worker threads against the reading in order (spans of 1 to 256 bytes, so boundaries fall
//! everywhere), and the readable stream against the whole-file read. Besides not panicking or
//! hanging, any difference in stdout, stderr or the exit code is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::cli::inspect::{readable_both, stream_json_planned};
use wsdeck::decode::DecoderKind;

fuzz_target!(|data: &[u8]| {
    let Some((&knob, body)) = data.split_first() else {
        return;
    };
    let path = wsdeck_fuzz::scratch_file("inspect.jsonl", body);
    let decode = if knob & 0x80 == 0 {
        DecoderKind::Hex
    } else {
        DecoderKind::Auto
    };
    let span = 1 + (knob & 0x7f) as u64 * 2;
    let run = |workers| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = stream_json_planned(&path, decode, span, workers, &mut out, &mut err)
            .map_err(|e| e.to_string());
        (out, err, code)
    };
    let in_order = run(0);
    if in_order.2.as_ref().is_err_and(|e| e == "a HAR") {
        return;
    }
    for workers in [1, 2] {
        let ahead = run(workers);
        assert_eq!(ahead.2, in_order.2, "exit, span {span}, {workers} workers");
        assert_eq!(
            String::from_utf8_lossy(&ahead.1),
            String::from_utf8_lossy(&in_order.1),
            "stderr, span {span}, {workers} workers"
        );
        assert!(ahead.0 == in_order.0, "stdout differs, span {span}, {workers} workers");
    }
    if let Ok([streamed, whole]) = readable_both(&path) {
        assert_eq!(streamed.2, whole.2, "readable exit");
        assert_eq!(
            String::from_utf8_lossy(&streamed.1),
            String::from_utf8_lossy(&whole.1),
            "readable stderr"
        );
        assert!(streamed.0 == whole.0, "readable stdout differs");
    }
});
