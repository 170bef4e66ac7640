//! Case-insensitive substring search that lower-cases the needle once and never the haystack:
//! a search or a filter word over a million rows used to copy and lower-case every payload.
//! ASCII needles (nearly all) are found with memchr on the first byte's two cases; others fall
//! back to lower-casing the haystack, as before.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    lower: String,
}

impl Needle {
    pub fn new(text: &str) -> Self {
        Needle {
            lower: text.to_lowercase(),
        }
    }

    /// The needle as matched (lower case), for messages.
    pub fn as_str(&self) -> &str {
        &self.lower
    }

    /// Whether `hay` holds the needle, ignoring case (invalid UTF-8 read lossily).
    pub fn is_in(&self, hay: &[u8]) -> bool {
        let n = self.lower.as_bytes();
        if !n.is_ascii() {
            return String::from_utf8_lossy(hay)
                .to_lowercase()
                .contains(self.lower.as_str());
        }
        let Some((&first, rest)) = n.split_first() else {
            return true;
        };
        let upper = first.to_ascii_uppercase();
        let mut from = 0;
        while let Some(p) = memchr::memchr2(first, upper, &hay[from..]) {
            let at = from + p + 1;
            if hay
                .get(at..at + rest.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(rest))
            {
                return true;
            }
            if at + rest.len() > hay.len() {
                return false;
            }
            from = at;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What matching meant before: lower-case both, then `contains`.
    fn old(needle: &str, hay: &[u8]) -> bool {
        String::from_utf8_lossy(hay)
            .to_lowercase()
            .contains(&needle.to_lowercase())
    }

    #[test]
    fn agrees_with_lower_casing_both() {
        let hays: [&[u8]; 8] = [
            b"",
            b"Response.Output_Text.DELTA",
            b"{\"type\":\"session.update\"}",
            b"deltadelt",
            b"\xff\xfe delta \x00",
            "Ünïcödé Delta".as_bytes(),
            b"aaaaab",
            b"x",
        ];
        let needles = [
            "",
            "delta",
            "DELTA",
            "output_text",
            "delt",
            "aab",
            "ab",
            "b",
            "ünï",
            "x",
            "xx",
            "\"type\"",
            "é d",
        ];
        for h in hays {
            for n in needles {
                assert_eq!(Needle::new(n).is_in(h), old(n, h), "{n:?} in {h:?}");
            }
        }
    }

    #[test]
    fn match_at_every_position_and_case() {
        let base = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..base.len() {
            for len in 1..=(base.len() - start).min(6) {
                let n = std::str::from_utf8(&base[start..start + len]).expect("ascii");
                let upper: Vec<u8> = base.to_ascii_uppercase();
                assert!(Needle::new(n).is_in(base), "{n}");
                assert!(Needle::new(n).is_in(&upper), "{n} in upper");
                assert!(Needle::new(&n.to_uppercase()).is_in(base), "{n} upper");
            }
        }
        assert!(!Needle::new("za").is_in(base));
        assert!(!Needle::new("9a").is_in(base));
    }
}
