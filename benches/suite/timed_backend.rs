//! A `TestBackend` that reports every draw of the real event loop: how long `Terminal::draw`
//! took and when its screen was complete, and which of some marks that screen shows (the help
//! overlay's title, say) so a bench can tell which draw answered a key. No hook in the loop is needed:
//! `Terminal::draw` asks the backend for its size first (autoresize) and flushes it last, so the
//! time between the two is the whole draw, widgets and diff included.

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::cell::Cell as Slot;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One finished draw.
#[derive(Debug, Clone, Copy)]
pub struct Drawn {
    /// Counts draws from 1 (0: nothing drawn yet).
    pub n: u64,
    /// When the screen was complete.
    pub done: Instant,
    /// Bit `i` set: the screen shows `marks[i]`.
    pub marks: u32,
}

pub struct TimedBackend {
    inner: TestBackend,
    started: Slot<Option<Instant>>,
    marks: Vec<Vec<String>>,
    drawn: watch::Sender<Drawn>,
    n: u64,
    /// Every draw's duration, kept for the percentiles.
    pub took: Vec<Duration>,
}

impl TimedBackend {
    /// `marks`: texts looked for on each finished screen (one cell a character).
    pub fn new(width: u16, height: u16, marks: &[&str]) -> (TimedBackend, watch::Receiver<Drawn>) {
        let (drawn, rx) = watch::channel(Drawn {
            n: 0,
            done: Instant::now(),
            marks: 0,
        });
        (
            TimedBackend {
                inner: TestBackend::new(width, height),
                started: Slot::new(None),
                marks: marks
                    .iter()
                    .map(|m| m.chars().map(String::from).collect())
                    .collect(),
                drawn,
                n: 0,
                took: Vec::with_capacity(4096),
            },
            rx,
        )
    }

    /// The last screen, as text.
    pub fn screen(&self) -> String {
        self.inner.to_string()
    }

    fn shows(&self) -> u32 {
        let buf = self.inner.buffer();
        let cells = buf.content();
        let rows: Vec<&[Cell]> = cells.chunks(buf.area.width.max(1) as usize).collect();
        let mut bits = 0;
        for (i, mark) in self.marks.iter().enumerate() {
            let found = rows.iter().any(|row| {
                row.windows(mark.len().max(1))
                    .any(|win| win.iter().zip(mark).all(|(c, m)| c.symbol() == m))
            });
            if found {
                bits |= 1 << i;
            }
        }
        bits
    }
}

impl Backend for TimedBackend {
    type Error = std::convert::Infallible;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        // The first thing `Terminal::draw` asks (the loop's own size() at start is overwritten
        // by the first draw's).
        self.started.set(Some(Instant::now()));
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let done = Instant::now();
        if let Some(t0) = self.started.take() {
            let took = done - t0;
            self.n += 1;
            self.took.push(took);
            let marks = self.shows();
            self.drawn.send_replace(Drawn {
                n: self.n,
                done,
                marks,
            });
        }
        Ok(())
    }
}
