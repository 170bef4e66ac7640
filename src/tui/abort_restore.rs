//! The terminal restored when the process aborts. A stack overflow is not a panic: Rust's
//! handler prints "has overflowed its stack" and calls `abort`, so neither the panic hook nor
//! any `Drop` runs, and the shell was left in raw mode on the alternate screen. The one known
//! way to get there is a jq filter that recurses without end (`f` then `.a | def f: 1 + f; f`):
//! jaq's evaluation has no depth bound. A SIGABRT handler puts the terminal's saved modes back,
//! leaves the alternate screen, shows the cursor, ends mouse capture and says what happened,
//! then lets the abort go on (exit by SIGABRT, as before).
//!
//! Only async-signal-safe calls run in the handler (`tcsetattr`, `write`, `signal`, `raise`),
//! on data prepared before the console started.

use std::sync::OnceLock;

struct Saved {
    fd: libc::c_int,
    termios: libc::termios,
    /// The escape sequences and the message, written as they are.
    bytes: Vec<u8>,
}

static SAVED: OnceLock<Saved> = OnceLock::new();

/// Mouse capture off (every mode crossterm turns on), the cursor shown, the alternate screen
/// left: what `tui::restore_terminal` undoes.
const RESET: &str = "\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?25h\x1b[?1049l";

/// Save the terminal's modes (before raw mode) and handle SIGABRT from now on. `log_place`
/// ends the message ("the log is in DIR").
pub fn install(log_place: &str) {
    let fd = libc::STDIN_FILENO;
    // SAFETY: isatty only reads the descriptor's state.
    if unsafe { libc::isatty(fd) } != 1 {
        return;
    }
    let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr fills the termios it is given when it returns 0; it is read only then.
    let termios = unsafe {
        if libc::tcgetattr(fd, termios.as_mut_ptr()) != 0 {
            return;
        }
        termios.assume_init()
    };
    let message = format!(
        "{RESET}\r\nwsdeck aborted: most likely a stack overflow, such as a jq filter that recurses without end (jq has no depth limit); the terminal was restored; {log_place}\r\n"
    );
    if SAVED
        .set(Saved {
            fd,
            termios,
            bytes: message.into_bytes(),
        })
        .is_err()
    {
        return;
    }
    let handler: extern "C" fn(libc::c_int) = on_abort;
    // SAFETY: the handler only makes async-signal-safe calls on data set before it was installed.
    unsafe {
        libc::signal(libc::SIGABRT, handler as libc::sighandler_t);
    }
}

/// The console has restored the terminal itself: an abort from now on is an ordinary one.
pub fn uninstall() {
    // SAFETY: setting the default disposition of SIGABRT.
    unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
    }
}

extern "C" fn on_abort(_signal: libc::c_int) {
    if let Some(s) = SAVED.get() {
        // SAFETY: tcsetattr and write are async-signal-safe (POSIX); both read memory that was
        // written before the handler was installed and is never written again.
        unsafe {
            libc::tcsetattr(s.fd, libc::TCSANOW, &s.termios);
            libc::write(libc::STDOUT_FILENO, s.bytes.as_ptr().cast(), s.bytes.len());
        }
    }
    // SAFETY: back to the default disposition, then the abort goes on as it would have.
    unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        libc::raise(libc::SIGABRT);
    }
}
