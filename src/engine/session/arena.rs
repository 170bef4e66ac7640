//! The payload copy buffer, so frames kept by the consumer do not pin the socket's read buffer.

use bytes::Bytes;

/// Payloads up to this size are copied into a shared arena instead of keeping a slice of
/// tungstenite's read buffer alive: while any slice lives, that buffer cannot be reused, and every
/// refill then costs a fresh, zero-filled, cache-cold allocation. Larger payloads fill a buffer on
/// their own, so sharing them is cheaper than copying.
const ARENA_COPY_MAX: usize = 16 * 1024;
/// 64 KiB, not more: the allocator keeps a 256 KiB block in room for nearly twice that, which
/// cost 46 B more per stored frame of 64 B (`cargo bench --bench suite -- memory`: 165 B over
/// the payload with 256 KiB chunks, 119 B with 64 KiB, as with one allocation per payload).
const ARENA_CHUNK: usize = 64 * 1024;

/// Many small payloads in one allocation (no per-frame allocation).
pub(super) struct Arena(bytes::BytesMut);

impl Arena {
    pub(super) fn new() -> Self {
        Arena(bytes::BytesMut::new())
    }

    pub(super) fn keep(&mut self, payload: Bytes) -> Bytes {
        if payload.len() > ARENA_COPY_MAX || payload.is_empty() {
            return payload;
        }
        if self.0.capacity() < payload.len() {
            self.0 = bytes::BytesMut::with_capacity(ARENA_CHUNK);
        }
        self.0.extend_from_slice(&payload);
        self.0.split().freeze()
    }
}
