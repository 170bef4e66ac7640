"""Sample encodings made by the real encoders, for wsdeck's decoder tests (tests/it/decode.rs).

Usage: python make_samples.py DIR

Writes into DIR:
  sample.pb        a protobuf message (google.protobuf, the message type built at run time from
                   a FileDescriptorProto: no protoc, no generated code)
  voice_frame.pb   a voice.v1.Frame and a voice.v1.Ack, the messages of VOICE_PROTO in
  voice_ack.pb     tests/it/decode.rs (the test writes that .proto to disk; the descriptor here
                   is built by hand to mirror it)
  voice_descriptor.json  the messages' fields and the enum's values as google.protobuf
                   resolved them, so the test can check that the mirror is faithful
  sample.msgpack   a MessagePack map (msgpack), with bin, ext and timestamp values
  sample.cbor      a CBOR map (cbor2), with tags (epoch time, date/time, UUID)
  tone.wav         0.1 s of a 440 Hz tone, 24 kHz mono 16-bit (wave)
  tone_stereo.wav  0.05 s of 440/880 Hz, 16 kHz stereo 16-bit (wave)
The values are the ones the Rust test asserts on; keep the two in step.
"""

import datetime
import math
import struct
import sys
import uuid
import wave
from pathlib import Path

import json

import cbor2
import msgpack
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor


def protobuf_sample() -> bytes:
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="wsdeck_sample.proto", package="wsdeck.sample", syntax="proto3"
    )
    inner = fdp.message_type.add(name="Inner")
    inner.field.add(name="label", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    inner.field.add(name="score", number=2, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    msg = fdp.message_type.add(name="Sample")
    msg.field.add(name="name", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    msg.field.add(name="count", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    msg.field.add(
        name="inner",
        number=3,
        type=F.TYPE_MESSAGE,
        type_name=".wsdeck.sample.Inner",
        label=F.LABEL_OPTIONAL,
    )
    # proto3 packs repeated scalars by default.
    msg.field.add(name="nums", number=4, type=F.TYPE_INT32, label=F.LABEL_REPEATED)
    msg.field.add(name="blob", number=5, type=F.TYPE_BYTES, label=F.LABEL_OPTIONAL)
    msg.field.add(name="delta", number=6, type=F.TYPE_SINT64, label=F.LABEL_OPTIONAL)
    msg.field.add(name="ratio", number=7, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    msg.field.add(name="flag", number=8, type=F.TYPE_BOOL, label=F.LABEL_OPTIONAL)

    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    Sample = message_factory.GetMessageClass(pool.FindMessageTypeByName("wsdeck.sample.Sample"))
    m = Sample()
    m.name = "hello from protobuf"
    m.count = 150
    m.inner.label = "nested label"
    m.inner.score = 0.25
    m.nums.extend([1, 2, 300])
    m.blob = b"\x00\x01\xfe\xff"
    m.delta = -42
    m.ratio = 1.5
    m.flag = True
    return m.SerializeToString()


def voice_pool() -> descriptor_pool.DescriptorPool:
    """VOICE_PROTO of tests/it/decode.rs as a FileDescriptorProto, field by field."""
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="voice.proto",
        package="voice.v1",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )

    def add(msg, name, number, type_, type_name=None, repeated=False, packed=False, oneof=None):
        f = msg.field.add(
            name=name,
            number=number,
            type=type_,
            label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL,
        )
        if type_name:
            f.type_name = type_name
        if packed:
            f.options.packed = True
        if oneof is not None:
            f.oneof_index = oneof

    frame = fdp.message_type.add(name="Frame")
    kind = frame.enum_type.add(name="Kind")
    for i, n in enumerate(["KIND_UNSPECIFIED", "AUDIO", "TEXT", "CONTROL"]):
        kind.value.add(name=n, number=i)
    meta = frame.nested_type.add(name="Meta")
    add(meta, "codec", 1, F.TYPE_STRING)
    add(meta, "rate", 2, F.TYPE_UINT32)
    add(meta, "offset_ms", 3, F.TYPE_SINT32)
    # A map<K, V> is a repeated nested entry message with key = 1, value = 2.
    for entry, vtype, vname in [
        ("AttrsEntry", F.TYPE_STRING, None),
        ("TracksEntry", F.TYPE_MESSAGE, ".voice.v1.Frame.Meta"),
    ]:
        e = frame.nested_type.add(name=entry)
        e.options.map_entry = True
        add(e, "key", 1, F.TYPE_STRING)
        add(e, "value", 2, vtype, vname)
    frame.oneof_decl.add(name="payload")
    add(frame, "kind", 1, F.TYPE_ENUM, ".voice.v1.Frame.Kind")
    add(frame, "text", 2, F.TYPE_STRING)
    add(frame, "meta", 3, F.TYPE_MESSAGE, ".voice.v1.Frame.Meta")
    add(frame, "levels", 4, F.TYPE_INT32, repeated=True, packed=True)
    add(frame, "attrs", 5, F.TYPE_MESSAGE, ".voice.v1.Frame.AttrsEntry", repeated=True)
    add(frame, "audio", 6, F.TYPE_BYTES, oneof=0)
    add(frame, "control", 7, F.TYPE_STRING, oneof=0)
    add(frame, "seq", 8, F.TYPE_FIXED64)
    add(frame, "gain", 9, F.TYPE_DOUBLE)
    add(frame, "tracks", 10, F.TYPE_MESSAGE, ".voice.v1.Frame.TracksEntry", repeated=True)
    add(frame, "sent_at", 11, F.TYPE_MESSAGE, ".google.protobuf.Timestamp")
    add(frame, "api_key", 12, F.TYPE_STRING)
    add(frame, "history", 14, F.TYPE_ENUM, ".voice.v1.Frame.Kind", repeated=True)
    frame.reserved_range.add(start=13, end=14)
    ack = fdp.message_type.add(name="Ack")
    add(ack, "id", 1, F.TYPE_STRING)
    add(ack, "latency_ms", 2, F.TYPE_FLOAT)

    pool = descriptor_pool.DescriptorPool()
    ts = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(ts)
    pool.Add(ts)
    pool.Add(fdp)
    return pool


def voice_samples(pool) -> tuple[bytes, bytes]:
    Frame = message_factory.GetMessageClass(pool.FindMessageTypeByName("voice.v1.Frame"))
    Ack = message_factory.GetMessageClass(pool.FindMessageTypeByName("voice.v1.Ack"))
    f = Frame()
    f.kind = 2  # TEXT
    f.text = "hello from the bridge"
    f.meta.codec = "opus"
    f.meta.rate = 48000
    f.meta.offset_ms = -20
    f.levels.extend([3, 1, 4, 1, 5, 900])
    f.attrs["lang"] = "en-US"
    f.attrs["voice"] = "alloy"
    f.audio = b"\x00\x01\x02\xff"
    f.seq = 7
    f.gain = 0.5
    f.tracks["mic"].codec = "pcm16"
    f.tracks["mic"].rate = 24000
    f.sent_at.seconds = 1700000000
    f.sent_at.nanos = 250000000
    f.api_key = "sk-live-not-shown"
    f.history.extend([1, 2, 3])
    a = Ack(id="ack-1", latency_ms=12.5)
    return f.SerializeToString(), a.SerializeToString()


_TYPE_NAMES = {
    getattr(FieldDescriptor, "TYPE_" + n.upper()): n
    for n in [
        "double", "float", "int64", "uint64", "int32", "fixed64", "fixed32", "bool", "string",
        "bytes", "uint32", "sfixed32", "sfixed64", "sint32", "sint64",
    ]
}


def voice_descriptor(pool) -> dict:
    """Fields as [name, number, type, label, oneof], in wsdeck's spelling of types."""

    def type_of(f):
        if f.message_type is not None:
            return f.message_type.full_name
        if f.enum_type is not None:
            return f.enum_type.full_name
        return _TYPE_NAMES[f.type]

    def describe(f):
        m = f.message_type
        if m is not None and m.GetOptions().map_entry:
            k, v = m.fields_by_name["key"], m.fields_by_name["value"]
            kind, label = f"map<{type_of(k)}, {type_of(v)}>", "map"
        else:
            kind, label = type_of(f), "repeated" if f.is_repeated else "singular"
        oneof = f.containing_oneof.name if f.containing_oneof is not None else None
        return [f.name, f.number, kind, label, oneof]

    def walk(d):
        yield d
        for n in d.nested_types:
            if not n.GetOptions().map_entry:
                yield from walk(n)

    file = pool.FindFileByName("voice.proto")
    messages = {}
    for top in file.message_types_by_name.values():
        for d in walk(top):
            messages[d.full_name] = [describe(f) for f in d.fields]
    kind = pool.FindEnumTypeByName("voice.v1.Frame.Kind")
    return {
        "messages": messages,
        "enums": {kind.full_name: [[v.name, v.number] for v in kind.values]},
    }


def msgpack_sample() -> bytes:
    return msgpack.packb(
        {
            "type": "audio.chunk",
            "seq": 7,
            "meta": {"rate": 24000, "codec": "pcm16"},
            "tags": ["a", "b"],
            "raw": b"\x01\x02",
            "ext": msgpack.ExtType(5, b"xy"),
            "ts": msgpack.Timestamp(1700000000, 0),
            "api_key": "sk-test-not-shown",
        },
        use_bin_type=True,
    )


def cbor_sample() -> bytes:
    return cbor2.dumps(
        {
            "type": "session.update",
            "n": -5,
            "at": cbor2.CBORTag(1, 1700000000),
            "when": datetime.datetime(2026, 11, 25, 10, 45, 25, tzinfo=datetime.timezone.utc),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "items": [1.5, None, True],
            "blob": b"\x00\xff",
        }
    )


def write_wav(path: Path, rate: int, channels: int, seconds: float, freqs) -> None:
    n = int(rate * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(n):
            for c in range(channels):
                v = int(0.3 * 32767 * math.sin(2 * math.pi * freqs[c] * i / rate))
                frames += struct.pack("<h", v)
        w.writeframes(bytes(frames))


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "sample.pb").write_bytes(protobuf_sample())
    pool = voice_pool()
    frame, ack = voice_samples(pool)
    (out / "voice_frame.pb").write_bytes(frame)
    (out / "voice_ack.pb").write_bytes(ack)
    (out / "voice_descriptor.json").write_text(json.dumps(voice_descriptor(pool), indent=1))
    (out / "sample.msgpack").write_bytes(msgpack_sample())
    (out / "sample.cbor").write_bytes(cbor_sample())
    write_wav(out / "tone.wav", 24000, 1, 0.1, [440.0])
    write_wav(out / "tone_stereo.wav", 16000, 2, 0.05, [440.0, 880.0])


if __name__ == "__main__":
    main()
