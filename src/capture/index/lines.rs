//! Lines of a file read in large chunks, without a copy per line: a line is a slice of the
//! reader's buffer, valid until the next call. A line that runs past one chunk is kept whole
//! by growing the buffer, up to a bound; past the bound it is skipped, not held.

use std::io::{self, Read, Seek, SeekFrom};

/// How much is read at a time.
pub(crate) const CHUNK: usize = 1 << 20;

/// The longest line kept (a capture line this long holds a ~190 MiB frame; wsdeck's socket
/// takes at most 64 MiB messages).
pub const MAX_LINE: usize = 256 << 20;

/// Where one line is, without its `\n` (its bytes: [`LineReader::bytes`]).
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// From 1, counting every `\n`-ended piece of the file and a last piece without one.
    pub no: u64,
    /// Where the line starts in the file.
    pub offset: u64,
    /// The line's bytes in the reader's buffer; empty when it was too long to keep.
    pub range: std::ops::Range<usize>,
    /// Whether a `\n` ended it (a last line without one may have been cut by a crash).
    pub complete: bool,
    /// Set when the line was longer than the bound: its length, and its bytes were not kept.
    pub too_long: Option<u64>,
}

pub(crate) struct LineReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Filled up to here.
    end: usize,
    /// The next line starts here.
    start: usize,
    /// No `\n` in `start..scanned`: a line being completed is not searched twice.
    scanned: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    eof: bool,
    line_no: u64,
    max_line: usize,
}

impl<R: Read + Seek> LineReader<R> {
    /// Go on at file offset `to` (a line start at or past [`Self::consumed`]), `lines` lines
    /// further on: within the buffer by moving the start, else by seeking.
    pub fn skip_to(&mut self, to: u64, lines: u64) -> io::Result<()> {
        let at = self.consumed();
        debug_assert!(to >= at);
        if to <= self.base + self.end as u64 {
            self.start = (to - self.base) as usize;
            self.scanned = self.scanned.max(self.start);
        } else {
            self.src.seek(SeekFrom::Start(to))?;
            self.base = to;
            (self.start, self.end, self.scanned) = (0, 0, 0);
            self.eof = false;
        }
        self.line_no += lines;
        Ok(())
    }
}

impl<R: Read> LineReader<R> {
    /// A reader that skips lines longer than `max_line` (tests use a small bound).
    pub fn with_max_line(src: R, max_line: usize) -> Self {
        LineReader {
            src,
            buf: vec![0; CHUNK.min(max_line.max(64))],
            end: 0,
            start: 0,
            scanned: 0,
            base: 0,
            eof: false,
            line_no: 0,
            max_line: max_line.max(64),
        }
    }

    /// A reader whose first `filled` bytes were already read from `src` into `buf` (at least
    /// a chunk long, and no longer than the bound), `src` being just past them.
    pub fn with_buffer(src: R, buf: Vec<u8>, filled: usize, max_line: usize) -> Self {
        let max_line = max_line.max(64);
        debug_assert!(buf.len() >= CHUNK.min(max_line) && buf.len() <= max_line);
        debug_assert!(filled <= buf.len());
        LineReader {
            src,
            end: filled.min(buf.len()),
            buf,
            start: 0,
            scanned: 0,
            base: 0,
            eof: false,
            line_no: 0,
            max_line,
        }
    }

    /// What the lines are read from.
    pub fn source(&self) -> &R {
        &self.src
    }

    /// Lines handed out (or skipped) so far.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// The file offset up to which lines have been handed out.
    pub fn consumed(&self) -> u64 {
        self.base + self.start as u64
    }

    /// A line's bytes, until the next call to `next_line`.
    pub fn bytes(&self, line: &Line) -> &[u8] {
        &self.buf[line.range.clone()]
    }

    /// What is buffered from the next line's start on (it may hold several lines, or part of
    /// one), for a caller that can tell where a line ends by reading it.
    #[inline]
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The next line, which the caller found to be the first `len` bytes of [`Self::buffered`]
    /// with a `\n` right after them: what `next_line` would have returned, without searching.
    #[inline]
    pub fn take_line(&mut self, len: usize) -> Line {
        debug_assert_eq!(self.buf.get(self.start + len), Some(&b'\n'));
        debug_assert!(!self.buf[self.start..self.start + len].contains(&b'\n'));
        let (start, offset) = (self.start, self.base + self.start as u64);
        self.start = start + len + 1;
        self.scanned = self.start;
        self.line_no += 1;
        Line {
            no: self.line_no,
            offset,
            range: start..start + len,
            complete: true,
            too_long: None,
        }
    }

    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.end]) {
                let nl = self.scanned + i;
                let (start, offset) = (self.start, self.base + self.start as u64);
                self.start = nl + 1;
                self.scanned = self.start;
                self.line_no += 1;
                return Ok(Some(Line {
                    no: self.line_no,
                    offset,
                    range: start..nl,
                    complete: true,
                    too_long: None,
                }));
            }
            self.scanned = self.end;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let (start, offset) = (self.start, self.base + self.start as u64);
                self.start = self.end;
                self.line_no += 1;
                return Ok(Some(Line {
                    no: self.line_no,
                    offset,
                    range: start..self.end,
                    complete: false,
                    too_long: None,
                }));
            }
            self.make_room();
            if self.end - self.start >= self.max_line {
                return self.skip_long_line().map(Some);
            }
            self.fill()?;
        }
    }

    /// Move the unfinished line to the front, and grow the buffer when it fills it.
    fn make_room(&mut self) {
        if self.start == self.end && self.buf.len() > CHUNK {
            // A long line is behind us: give its memory back.
            self.buf = vec![0; CHUNK];
            self.base += self.start as u64;
            (self.start, self.end, self.scanned) = (0, 0, 0);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() && self.buf.len() < self.max_line {
            let grown = (self.buf.len() * 2).min(self.max_line);
            self.buf.resize(grown, 0);
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The buffer holds `max_line` bytes and no `\n`: read on to the line's end, keeping nothing.
    fn skip_long_line(&mut self) -> io::Result<Line> {
        let offset = self.base;
        let mut len = self.end as u64;
        self.line_no += 1;
        self.base += self.end as u64;
        self.start = 0;
        self.scanned = 0;
        self.end = 0;
        loop {
            self.fill()?;
            if let Some(i) = memchr::memchr(b'\n', &self.buf[..self.end]) {
                len += i as u64;
                self.start = i + 1;
                self.scanned = self.start;
                return Ok(Line {
                    no: self.line_no,
                    offset,
                    range: 0..0,
                    complete: true,
                    too_long: Some(len),
                });
            }
            len += self.end as u64;
            self.base += self.end as u64;
            self.end = 0;
            if self.eof {
                return Ok(Line {
                    no: self.line_no,
                    offset,
                    range: 0..0,
                    complete: false,
                    too_long: Some(len),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out at most `step` bytes per read, to split lines across reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Number, offset, bytes, ended by `\n`, too long.
    type Seen = (u64, u64, Vec<u8>, bool, Option<u64>);

    fn lines(data: &[u8], step: usize, max: usize) -> Vec<Seen> {
        let v = read_all(
            LineReader::with_max_line(Trickle { data, step }, max),
            data.len(),
        );
        // The same when the first bytes were read beforehand into a buffer of the reader's.
        let first = data.len().min(max.max(64)).min(CHUNK);
        let mut buf = vec![0; CHUNK.min(max.max(64))];
        buf[..first].copy_from_slice(&data[..first]);
        let rest = Trickle {
            data: &data[first..],
            step,
        };
        assert_eq!(
            read_all(LineReader::with_buffer(rest, buf, first, max), data.len()),
            v
        );
        v
    }

    fn read_all(mut r: LineReader<Trickle<'_>>, total: usize) -> Vec<Seen> {
        let mut v = Vec::new();
        while let Some(l) = r.next_line().expect("read") {
            v.push((l.no, l.offset, r.bytes(&l).to_vec(), l.complete, l.too_long));
        }
        assert_eq!(r.consumed(), total as u64);
        v
    }

    #[test]
    fn lines_split_across_reads_come_out_whole_with_their_offsets() {
        let data = b"ab\n\ncdef\nlast";
        for step in [1, 2, 3, 5, 100] {
            let v = lines(data, step, 1 << 20);
            assert_eq!(
                v,
                vec![
                    (1, 0, b"ab".to_vec(), true, None),
                    (2, 3, b"".to_vec(), true, None),
                    (3, 4, b"cdef".to_vec(), true, None),
                    (4, 9, b"last".to_vec(), false, None),
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn a_line_longer_than_a_chunk_grows_the_buffer() {
        let long = vec![b'x'; CHUNK * 2 + 17];
        let mut data = long.clone();
        data.extend_from_slice(b"\nnext\n");
        let v = lines(&data, CHUNK / 3, CHUNK * 4);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].2, long);
        assert_eq!(
            v[1],
            (2, long.len() as u64 + 1, b"next".to_vec(), true, None)
        );
    }

    #[test]
    fn a_line_past_the_bound_is_skipped_and_measured() {
        let mut data = b"one\n".to_vec();
        data.extend(std::iter::repeat_n(b'y', 1000));
        data.extend_from_slice(b"\ntwo\n");
        data.extend(std::iter::repeat_n(b'z', 700));
        let v = lines(&data, 64, 256);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].2, b"one");
        assert_eq!((v[1].0, v[1].1, v[1].3, v[1].4), (2, 4, true, Some(1000)));
        assert_eq!(v[2], (3, 1005, b"two".to_vec(), true, None));
        assert_eq!((v[3].0, v[3].3, v[3].4), (4, false, Some(700)));
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(lines(b"", 10, 1024).is_empty());
    }
}
