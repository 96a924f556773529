//! Reading verified claims text.

use serde_json::value::RawValue;

use super::claims::Span;
use super::{Claims, VerifiedClaims};

/// The claims of a token whose signature checked out: the text is one this library signed.
/// What `sign` writes (serde_json: fields in declaration order, absent options left out) is
/// read directly, strings without escapes sliced as they are; anything else (an escape in a
/// string, another order or writer) goes to serde, whose generic walk would be the largest
/// part of a verification on a cache miss. The direct reader accepts a text only when it is
/// exactly that layout, so the claims are always the ones serde reads from it.
pub fn parse_claims(json: &[u8]) -> Option<VerifiedClaims> {
    parse_claims_as_signed(json).or_else(|| {
        serde_json::from_slice::<Claims>(json)
            .ok()
            .map(VerifiedClaims::from)
    })
}

/// `parse_claims` without the serde fallback: `None` for any text not in `sign`'s layout.
pub(crate) fn parse_claims_as_signed(json: &[u8]) -> Option<VerifiedClaims> {
    let mut r = Reader {
        text: std::str::from_utf8(json).ok()?,
        at: 0,
    };
    r.expect("{\"sessionHandle\":")?;
    let session_handle = r.string()?;
    r.expect(",\"userId\":")?;
    let user_id = r.string()?;
    r.expect(",\"rt\":")?;
    let rt = r.string()?;
    let prt = r.optional_string(",\"prt\":")?;
    let anti_csrf_token = r.optional_string(",\"antiCsrfToken\":")?;
    r.expect(",\"expiryTime\":")?;
    let expiry_time = r.integer()?;
    let user_payload = if r.eat(",\"userPayload\":") {
        // The last field: its value runs to the object's closing brace, and must be one
        // JSON value (RawValue checks, as serde would, and leaves out surrounding space).
        let value = r.text[r.at..].strip_suffix('}')?;
        let raw: &RawValue = serde_json::from_str(value).ok()?;
        let start = raw.get().as_ptr() as usize - r.text.as_ptr() as usize;
        Some(r.span(start, start + raw.get().len()))
    } else {
        r.expect("}")?;
        if r.at != r.text.len() {
            return None;
        }
        None
    };
    Some(VerifiedClaims {
        text: r.text.into(),
        session_handle,
        user_id,
        rt,
        prt,
        anti_csrf_token,
        expiry_time,
        user_payload,
        serial: 0,
    })
}

/// How many bytes from the start of `bytes` a JSON string can take as they are: up to the
/// first '"', '\\' or control character (or the end). Eight bytes a step (SWAR): in a word,
/// the lowest byte flagged by the zero-byte and less-than tests is exact.
pub(super) fn plain_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let found = (zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(bytes.len() - at)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn eat(&mut self, literal: &str) -> bool {
        let found = self.text[self.at..].starts_with(literal);
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &str) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// A string without escapes (an escape, or a raw control character, which JSON does not
    /// allow, ends the direct reading): where its content is.
    fn string(&mut self) -> Option<Span> {
        self.expect("\"")?;
        let rest = &self.text.as_bytes()[self.at..];
        let len = plain_prefix(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let span = self.span(self.at, self.at + len);
        self.at += len + 1;
        Some(span)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        // Tokens are at most MAX_TOKEN_LEN long, far below u32::MAX.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// `Some(None)` when the field is absent, `None` when it is there but not readable.
    fn optional_string(&mut self, key: &str) -> Option<Option<Span>> {
        if self.eat(key) {
            self.string().map(Some)
        } else {
            Some(None)
        }
    }

    /// A u64 as JSON writes it: digits, no leading zero, no sign, fraction or exponent.
    fn integer(&mut self) -> Option<u64> {
        let digits = &self.text.as_bytes()[self.at..];
        let count = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 || (count > 1 && digits[0] == b'0') {
            return None;
        }
        let mut n: u64 = 0;
        for &d in &digits[..count] {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        self.at += count;
        Some(n)
    }
}
