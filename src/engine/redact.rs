//! Keeping secrets secret: a `Secret` that never prints and is wiped when dropped, and
//! redaction of headers and URLs before anything reaches a screen, a capture, a log or an error
//! message.

use std::fmt;
use std::sync::Arc;
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// A bearer token. `Debug` and `Display` never show it; there is no `Serialize`, so it cannot end
/// up in a capture or a config file by accident. Clones share one buffer (the token cache hands
/// out a clone per connection), which is zeroed when the last clone is dropped, so a token does
/// not linger in freed memory for a core dump or a swap file to keep.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<Zeroizing<String>>);

impl ZeroizeOnDrop for Secret {}

impl Secret {
    /// Takes the string as it is (no copy when it is a `String`); a caller holding other copies
    /// wipes them itself (auth.rs reads every source into `Zeroizing` buffers).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(Zeroizing::new(value.into())))
    }

    /// The secret itself; call only where it goes onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Authorization: Bearer <token>`, marked sensitive. The value's bytes are one buffer built
    /// at its final size (no reallocation leaves a partial copy behind) and owned by the
    /// `HeaderValue` itself, which zeroes them when its last clone is dropped. What the HTTP
    /// client copies out of it to write the request (tungstenite's and hyper's write buffers)
    /// is beyond reach: those are freed without being wiped.
    pub fn bearer_header(&self) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
        const SCHEME: &[u8] = b"Bearer ";
        let mut buf = Zeroizing::new(Vec::with_capacity(SCHEME.len() + self.len()));
        buf.extend_from_slice(SCHEME);
        buf.extend_from_slice(self.expose().as_bytes());
        let mut value = http::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(buf))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer ***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} chars>", self.0.len())
    }
}

/// Header names whose values are credentials.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "x-functions-key",
];

/// Query parameters whose values are credentials (SAS signatures, tokens, keys).
const SENSITIVE_QUERY: &[&str] = &[
    "access_token",
    "token",
    "sig",
    "signature",
    "api-key",
    "api_key",
    "apikey",
    "key",
    "code",
    "client_secret",
    "password",
];

pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// The value of a header as it may be shown: credentials keep only their scheme and length.
pub fn header_value_for_display(name: &str, value: &str) -> String {
    if !is_sensitive_header(name) {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, rest)) if !scheme.is_empty() && !rest.is_empty() => {
            format!("{scheme} <redacted, {} chars>", rest.len())
        }
        _ => format!("<redacted, {} chars>", value.len()),
    }
}

/// A URL as it may be shown: credential-like query values replaced, user info removed.
pub fn url_for_display(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    let Some(query) = url.query() else {
        return url.to_string();
    };
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|part| {
            let (k, _) = part.split_once('=').unwrap_or((part, ""));
            if SENSITIVE_QUERY.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                changed = true;
                format!("{k}=REDACTED")
            } else {
                part.to_string()
            }
        })
        .collect();
    if changed {
        url.set_query(Some(&parts.join("&")));
    }
    url.to_string()
}

/// Replace every occurrence of each secret in `text` (for messages that quote a peer or a child
/// process, which might echo a token back).
/// Every intermediate copy that still holds a secret is wiped; the result holds none.
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = Zeroizing::new(text.to_string());
    for s in secrets {
        if s.len() >= 8 && out.contains(s.expose()) {
            // Assigning drops (and so wipes) the copy that held it.
            out = Zeroizing::new(out.replace(s.expose(), "<redacted>"));
        }
    }
    std::mem::take(&mut *out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("eyJcanary-123456");
        assert_eq!(format!("{s:?}"), "Bearer ***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Bearer ***)");
        assert!(!format!("{s}").contains("canary"));
        assert_eq!(s.expose(), "eyJcanary-123456");
    }

    #[test]
    fn bearer_header_is_sensitive_and_refuses_what_a_header_cannot_carry() {
        let s = Secret::new("eyJabc.def");
        let v = s.bearer_header().expect("header");
        assert_eq!(v.as_bytes(), b"Bearer eyJabc.def");
        assert!(v.is_sensitive());
        // http's Debug of a sensitive value says so instead of printing it.
        assert_eq!(format!("{v:?}"), "Sensitive");
        assert!(Secret::new("line\nbreak").bearer_header().is_err());
    }

    /// Control first: a plain String holding the canary is seen when freed, so the watch works.
    #[test]
    fn a_dropped_secret_is_zeroed() {
        let _one = freed_watch::serial();
        let plain = freed_watch::canary("plain");
        assert_eq!(freed_watch::hits_while(|| drop(plain)), 1);

        let a = Secret::new(freed_watch::canary("secret"));
        let b = a.clone();
        assert_eq!(
            a.expose().as_ptr(),
            b.expose().as_ptr(),
            "clones share one buffer"
        );
        let header = a.bearer_header().expect("header");
        let header2 = header.clone();
        let hits = freed_watch::hits_while(|| {
            drop(b);
            drop(header);
            drop(a);
            drop(header2);
        });
        assert_eq!(hits, 0, "a Secret or its header value was freed unwiped");
    }
    #[test]
    fn authorization_keeps_scheme_only() {
        let v = header_value_for_display("Authorization", "Bearer eyJabc.def");
        assert_eq!(v, "Bearer <redacted, 10 chars>");
        assert_eq!(header_value_for_display("x-trace", "abc"), "abc");
        assert_eq!(
            header_value_for_display("api-key", "k1"),
            "<redacted, 2 chars>"
        );
    }

    #[test]
    fn url_query_credentials_are_hidden() {
        let u = url_for_display("wss://u:p@h.example/x?agent_session_id=a&access_token=zzz&sig=1");
        assert_eq!(
            u,
            "wss://h.example/x?agent_session_id=a&access_token=REDACTED&sig=REDACTED"
        );
        assert_eq!(url_for_display("ws://h/x?a=1"), "ws://h/x?a=1");
    }

    #[test]
    fn scrub_replaces_long_secrets() {
        let s = Secret::new("tok-abcdefgh");
        assert_eq!(scrub("got tok-abcdefgh back", &[&s]), "got <redacted> back");
    }
}

/// A test-only global allocator that looks at every block as it is freed (or left behind by a
/// `realloc`) and counts those holding a canary: the proof that a token is wiped before its
/// memory goes back, which no assertion on live values can give. Blocks are handed out zeroed,
/// so a freed block is only ever read where something was written or zeros.
#[cfg(test)]
pub(crate) mod freed_watch {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Every canary the watch looks for starts with this (and a test's random hex follows).
    pub const NEEDLE: &[u8] = b"wsdeck-canary-watch-";

    static ARMED: AtomicBool = AtomicBool::new(false);
    static HITS: AtomicUsize = AtomicUsize::new(0);
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    struct Watch;

    // SAFETY: every call is forwarded to `System` with the same layout; the extra work reads
    // only bytes inside a block we still own (before it is freed), all initialised at alloc.
    unsafe impl GlobalAlloc for Watch {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` is a live block of `layout.size()` initialised bytes.
            unsafe { look(ptr, layout.size()) };
            // SAFETY: as given to us.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: a layout of the same alignment; `new_size` is non-zero per the contract.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as in alloc.
            let new = unsafe { System.alloc_zeroed(new_layout) };
            if !new.is_null() {
                // SAFETY: both blocks are live and at least min(old, new) bytes long.
                unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
                // SAFETY: the old block is ours until freed here.
                unsafe { self.dealloc(ptr, layout) };
            }
            new
        }
    }

    /// # Safety
    /// `ptr..ptr+len` must be a live, initialised block.
    unsafe fn look(ptr: *const u8, len: usize) {
        if !ARMED.load(Ordering::Relaxed) || len < NEEDLE.len() {
            return;
        }
        // SAFETY: the caller's promise.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        if memchr::memmem::find(bytes, NEEDLE).is_some() {
            HITS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[global_allocator]
    static GLOBAL: Watch = Watch;

    /// One watching test at a time, so the hits counted are its own.
    pub fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh canary: the needle, a label and random hex.
    pub fn canary(label: &str) -> String {
        let hex: String = uuid::Uuid::new_v4().simple().to_string();
        format!("{}{label}-{hex}", String::from_utf8_lossy(NEEDLE))
    }

    /// Start counting freed blocks that hold a canary.
    pub fn start() {
        HITS.store(0, Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
    }

    /// Stop, and how many there were since `start`.
    pub fn stop() -> usize {
        ARMED.store(false, Ordering::SeqCst);
        HITS.load(Ordering::SeqCst)
    }

    /// How many freed blocks held a canary while `f` ran.
    pub fn hits_while<R>(f: impl FnOnce() -> R) -> usize {
        start();
        let _ = f();
        stop()
    }
}
