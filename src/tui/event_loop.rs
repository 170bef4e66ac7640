//! The event loop on any backend (the real terminal, or a `TestBackend` in tests): wait for one
//! event, take every other one queued, update for each, carry out the effects, and draw when
//! something changed, at most every 16 ms. A panic elsewhere (the hook's `Crashes`) stays in
//! the status bar until the console quits, or ends the loop when the task was a vital one.

use crate::app::{App, Effect, Event, update};
use crate::tui::effects::Runtime;
use crate::tui::{LoopOptions, TestPanic};
use crate::ui::theme::Theme;
use anyhow::Result;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Draw at most this often; events in between are applied and drawn together.
const FRAME_BUDGET: Duration = Duration::from_millis(16);

/// Tests feed keys through `channel.0` and read each drawn screen from `options.screens`.
pub async fn run_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    mut app: App,
    theme: &Theme,
    channel: (mpsc::Sender<Event>, mpsc::Receiver<Event>),
    mut options: LoopOptions,
) -> Result<App>
where
    B::Error: std::fmt::Display,
{
    let (tx, mut rx) = channel;
    let t0 = Instant::now();
    let tick_tx = tx.clone();
    let ticker = tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_secs(1));
        loop {
            iv.tick().await;
            if tick_tx.send(Event::Tick(t0.elapsed())).await.is_err() {
                break;
            }
        }
    });
    let size = terminal
        .size()
        .map_err(|e| anyhow::anyhow!("terminal size: {e}"))?;
    let mut pending = update(
        &mut app,
        Event::Resize {
            width: size.width,
            height: size.height,
        },
    );
    pending.extend(options.connect_now.drain(..).map(Effect::Connect));
    pending.extend(
        options
            .first_frames
            .drain(..)
            .map(|(i, c)| Effect::ToSession(i, c)),
    );
    let screens = options.screens.take();
    let crashes = options.crashes.take();
    let test_panic = options.test_panic.take();
    let mut runtime = Runtime::new(theme.clone(), options, tx.clone(), t0);
    let mut last_draw: Option<Instant> = None;
    'outer: loop {
        // Effects may answer with events (applied at once, so what they say is drawn with them)
        // and ask for more effects (recording a session that just got its forwarder).
        while !pending.is_empty() {
            for effect in std::mem::take(&mut pending) {
                if effect == Effect::Quit {
                    break 'outer;
                }
                let (events, later) = runtime.apply(&app, effect);
                pending.extend(later);
                for ev in events {
                    pending.extend(update(&mut app, ev));
                }
            }
        }
        if let Some(c) = &crashes {
            if c.is_fatal() {
                break 'outer;
            }
            // A status message lasts until the next key; this one lasts until the console ends.
            if app.status.is_none()
                && let Some(line) = c.status_line()
            {
                pending.extend(update(&mut app, Event::Notice(line)));
            }
        }
        let now = Instant::now();
        if last_draw.is_none_or(|t| now.duration_since(t) >= FRAME_BUDGET) {
            let theme = &runtime.theme;
            let frame = terminal
                .draw(|c| crate::ui::draw(c, &app, theme))
                .map_err(|e| anyhow::anyhow!("drawing: {e}"))?;
            if let Some(w) = &screens {
                let text: String = frame
                    .buffer
                    .content()
                    .chunks(frame.area.width.max(1) as usize)
                    .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
                    .collect();
                let _ = w.send(text);
            }
            last_draw = Some(Instant::now());
        }
        // A filter still scanning a long log continues in slices between other events.
        if app.has_work() {
            let _ = tx.try_send(Event::ScanSlice);
        }
        let Some(first) = rx.recv().await else { break };
        pending.extend(apply(&mut app, first, test_panic));
        while let Ok(ev) = rx.try_recv() {
            pending.extend(apply(&mut app, ev, test_panic));
        }
        if let Some(t) = last_draw {
            let since = t.elapsed();
            if since < FRAME_BUDGET && !pending.contains(&Effect::Quit) {
                tokio::time::sleep(FRAME_BUDGET - since).await;
                while let Ok(ev) = rx.try_recv() {
                    pending.extend(apply(&mut app, ev, test_panic));
                }
            }
        }
    }
    runtime.shutdown().await;
    ticker.abort();
    Ok(app)
}

/// One event into the update, unless it is the test's F12 (`WSDECK_TEST_PANIC`, debug builds).
fn apply(app: &mut App, ev: Event, test_panic: Option<TestPanic>) -> Vec<Effect> {
    if let (Some(mode), Event::Key(k)) = (test_panic, &ev)
        && TestPanic::is_trigger(k)
    {
        match mode {
            TestPanic::Ui => panic!("WSDECK_TEST_PANIC=ui: a forced panic in the UI loop"),
            TestPanic::Task => {
                tokio::spawn(async {
                    panic!("WSDECK_TEST_PANIC=task: a forced panic in a spawned task")
                });
                return vec![];
            }
            TestPanic::Input => {}
        }
    }
    update(app, ev)
}
