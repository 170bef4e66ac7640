//! Drawing one screen of the frame log with 1 000 vs 1 000 000 frames stored: the cost must not
//! grow with the log. Prints medians of several runs and the ratio.
//!
//! cargo bench --bench draw [-- RUNS]

#[path = "support/mod.rs"]
mod support;
use support::{app_with, draw_ratio, runs_arg};

fn main() {
    let runs = runs_arg(7);
    let d = draw_ratio(runs, &app_with(1_000), &app_with(1_000_000));
    println!(
        "draw one 160x48 screen (following the tail), {runs} runs of 200 draws: 1 000 frames {:.0} µs | 1 000 000 frames {:.0} µs | ratio median {:.2}",
        d.small_us, d.big_us, d.ratio
    );
}
