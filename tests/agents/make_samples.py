"""Sample encodings made by the real encoders, for wsdeck's decoder tests (tests/it/decode.rs).

Usage: python make_samples.py DIR

Writes into DIR:
  sample.pb        a protobuf message (google.protobuf, the message type built at run time from
                   a FileDescriptorProto: no protoc, no generated code)
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

import cbor2
import msgpack
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


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
    (out / "sample.msgpack").write_bytes(msgpack_sample())
    (out / "sample.cbor").write_bytes(cbor_sample())
    write_wav(out / "tone.wav", 24000, 1, 0.1, [440.0])
    write_wav(out / "tone_stereo.wav", 16000, 2, 0.05, [440.0, 880.0])


if __name__ == "__main__":
    main()
