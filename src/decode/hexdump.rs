//! The classic dump: offset, 16 bytes in hex (two groups of 8), and the printable ASCII.

use std::fmt::Write;

pub const BYTES_PER_ROW: usize = 16;

/// One row of the dump for the bytes at `offset` (at most 16 of them).
pub fn row(offset: usize, chunk: &[u8]) -> String {
    let mut s = String::with_capacity(80);
    let _ = write!(s, "{offset:08x}  ");
    for i in 0..BYTES_PER_ROW {
        match chunk.get(i) {
            Some(b) => {
                let _ = write!(s, "{b:02x} ");
            }
            None => s.push_str("   "),
        }
        if i == 7 {
            s.push(' ');
        }
    }
    s.push_str(" |");
    for b in chunk {
        s.push(if b.is_ascii_graphic() || *b == b' ' {
            *b as char
        } else {
            '.'
        });
    }
    s.push('|');
    s
}

/// Rows `first..first+count` of the dump of `data` (drawing costs what is visible).
pub fn rows(data: &[u8], first: usize, count: usize) -> impl Iterator<Item = String> + '_ {
    data.chunks(BYTES_PER_ROW)
        .enumerate()
        .skip(first)
        .take(count)
        .map(|(i, c)| row(i * BYTES_PER_ROW, c))
}

pub fn row_count(len: usize) -> usize {
    len.div_ceil(BYTES_PER_ROW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_rows() {
        let data: Vec<u8> = (0u8..20).chain(*b"Hi!").collect();
        let r: Vec<String> = rows(&data, 0, 10).collect();
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
        );
        assert_eq!(
            r[1],
            "00000010  10 11 12 13 48 69 21                              |....Hi!|"
        );
        assert_eq!(row_count(0), 0);
        assert_eq!(row_count(17), 2);
        assert_eq!(rows(&data, 1, 1).count(), 1);
    }
}
