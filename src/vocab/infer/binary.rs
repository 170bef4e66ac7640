//! Binary frames grouped by their first bytes (a format's magic: `RIFF`, `OggS`, a protobuf
//! tag), with their sizes in power-of-two classes.

use super::{BinaryShape, MAX_MAGICS_PER_DIRECTION};
use crate::engine::Frame;

fn size_class(len: usize) -> usize {
    if len == 0 { 0 } else { len.next_power_of_two() }
}

pub(super) fn learn(shapes: &mut Vec<BinaryShape>, frame: &Frame) {
    let n = frame.payload.len().min(4);
    let mut head = [0u8; 4];
    head[..n].copy_from_slice(&frame.payload[..n]);
    let prefix = Some((head, n as u8));
    let dir = frame.dir;
    let at = match shapes
        .iter()
        .position(|s| s.dir == dir && s.prefix == prefix)
    {
        Some(i) => i,
        None => {
            let distinct = shapes
                .iter()
                .filter(|s| s.dir == dir && s.prefix.is_some())
                .count();
            let (prefix, magic) = if distinct < MAX_MAGICS_PER_DIRECTION {
                (prefix, hex::encode(&head[..n]))
            } else {
                (None, "*".to_string())
            };
            match shapes
                .iter()
                .position(|s| s.dir == dir && s.prefix == prefix)
            {
                Some(i) => i,
                None => {
                    shapes.push(BinaryShape {
                        dir,
                        magic,
                        count: 0,
                        min_len: usize::MAX,
                        max_len: 0,
                        sizes: Vec::new(),
                        prefix,
                    });
                    shapes.len() - 1
                }
            }
        }
    };
    let s = &mut shapes[at];
    let len = frame.payload.len();
    s.count += 1;
    s.min_len = s.min_len.min(len);
    s.max_len = s.max_len.max(len);
    let class = size_class(len);
    match s.sizes.binary_search_by_key(&class, |(c, _)| *c) {
        Ok(i) => s.sizes[i].1 += 1,
        Err(i) => s.sizes.insert(i, (class, 1)),
    }
}
