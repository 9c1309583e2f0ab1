//! Tablets paired to people: the short code the secretary hands out, the person's PIN, and the
//! device's own P-256 public key, which proves later acts (ballots) came from that tablet.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("the pairing code must be 6 digits (or the link's longer form)")]
    BadCode,
    #[error("the PIN must be 4 to 8 digits")]
    BadPin,
    #[error("the PIN is too easy to guess")]
    WeakPin,
    #[error("the device key is not a P-256 public key")]
    BadKey,
    #[error("the device's signature does not verify")]
    BadSignature,
}

/// The code a delegate types (6 digits) or scans. Short-lived and single-use; the box keeps
/// only the hash of the short form.
///
/// The QR link carries a longer form: the same 6 digits followed by [`PairingCode::TAIL`] more
/// that only the box can compute (a keyed hash of the short code). Typed codes are few enough
/// to guess, so wrong ones are limited box-wide; the long form cannot be guessed, so the QR
/// path keeps working while that box-wide limit holds typed codes back.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    /// As received, without spaces or dashes: what the tablet signs.
    full: String,
}

impl PairingCode {
    pub const DIGITS: usize = 6;
    /// Extra digits of the QR form (about 53 bits).
    pub const TAIL: usize = 16;

    pub fn parse(raw: &str) -> Result<Self, DeviceError> {
        // People type codes with spaces ("123 456"); accept them, and dashes.
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let len_ok = s.len() == Self::DIGITS || s.len() == Self::DIGITS + Self::TAIL;
        if len_ok && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self { full: s })
        } else {
            Err(DeviceError::BadCode)
        }
    }

    pub fn random() -> Self {
        use rand::Rng;
        let n: u32 = rand::thread_rng().gen_range(0..1_000_000);
        Self {
            full: format!("{n:06}"),
        }
    }

    /// The code as sent, for the signature the tablet made over it.
    pub fn expose(&self) -> &str {
        &self.full
    }

    /// The 6 digits a person types.
    pub fn short(&self) -> &str {
        self.full.get(..Self::DIGITS).unwrap_or(&self.full)
    }

    /// The QR form's extra digits, if this is the QR form.
    pub fn tail(&self) -> Option<&str> {
        self.full.get(Self::DIGITS..).filter(|t| !t.is_empty())
    }

    /// The QR form of this code, with `key` (the box's own secret).
    pub fn link_form(&self, key: &[u8]) -> String {
        format!("{}{}", self.short(), link_tail(key, self.short()))
    }

    /// True for the QR form whose tail was made with `key`. Constant-time over the tail.
    pub fn tail_matches(&self, key: &[u8]) -> bool {
        let Some(tail) = self.tail() else {
            return false;
        };
        let want = link_tail(key, self.short());
        want.len() == tail.len()
            && want
                .bytes()
                .zip(tail.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn link_tail(key: &[u8], short: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"phonghop-pair-link:");
    h.update(key);
    h.update(b":");
    h.update(short.as_bytes());
    let d = h.finalize();
    let mut n = [0u8; 8];
    n.copy_from_slice(&d[..8]);
    let n = u64::from_be_bytes(n) % 10u64.pow(PairingCode::TAIL as u32);
    format!("{n:0width$}", width = PairingCode::TAIL)
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(<redacted>)")
    }
}

/// A person's PIN, asked when a tablet is paired to them.
#[derive(Clone)]
pub struct Pin(String);

impl Pin {
    pub fn parse(raw: &str) -> Result<Self, DeviceError> {
        let s = raw.trim();
        if !(4..=8).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DeviceError::BadPin);
        }
        let bytes = s.as_bytes();
        let same = bytes.iter().all(|b| *b == bytes[0]);
        let step = |d: i16| {
            bytes
                .windows(2)
                .all(|w| i16::from(w[1]) - i16::from(w[0]) == d)
        };
        if same || step(1) || step(-1) {
            return Err(DeviceError::WeakPin);
        }
        Ok(Self(s.to_owned()))
    }

    /// A PIN as entered to be compared with a stored one: only the shape is checked (4 to 8
    /// digits), not the strength rules, which apply when a PIN is chosen.
    pub fn entered(raw: &str) -> Result<Self, DeviceError> {
        let s = raw.trim();
        if !(4..=8).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DeviceError::BadPin);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// A device's public key: an uncompressed SEC1 P-256 point (65 bytes), as WebCrypto's
/// `exportKey('raw', publicKey)` gives it, written base64url without padding.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceKey(String);

impl DeviceKey {
    pub fn parse(b64: &str) -> Result<Self, DeviceError> {
        let raw = decode_b64url(b64).ok_or(DeviceError::BadKey)?;
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&raw).map_err(|_| DeviceError::BadKey)?;
        Ok(Self(b64.trim().to_owned()))
    }

    /// Checks a WebCrypto ECDSA P-256 / SHA-256 signature (IEEE P1363: r‖s, 64 bytes) over
    /// `message`.
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> Result<(), DeviceError> {
        use p256::ecdsa::signature::Verifier;
        let raw = decode_b64url(&self.0).ok_or(DeviceError::BadKey)?;
        let key =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&raw).map_err(|_| DeviceError::BadKey)?;
        let sig_bytes = decode_b64url(signature_b64).ok_or(DeviceError::BadSignature)?;
        let sig = p256::ecdsa::Signature::from_slice(&sig_bytes)
            .map_err(|_| DeviceError::BadSignature)?;
        key.verify(message, &sig)
            .map_err(|_| DeviceError::BadSignature)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey({}…)", self.0.get(..12).unwrap_or(&self.0))
    }
}

impl TryFrom<String> for DeviceKey {
    type Error = DeviceError;
    fn try_from(s: String) -> Result<Self, DeviceError> {
        Self::parse(&s)
    }
}

impl From<DeviceKey> for String {
    fn from(k: DeviceKey) -> String {
        k.0
    }
}

fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim().trim_end_matches('='))
        .ok()
}

/// What a tablet signs when it pairs: binds its key to this box and this code, so a captured
/// pairing request cannot be replayed elsewhere.
pub fn pairing_message(node_id: &str, code: &PairingCode) -> Vec<u8> {
    format!("phonghop-pair:{node_id}:{}", code.expose()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    #[test]
    fn codes_and_pins() {
        assert_eq!(PairingCode::parse(" 123 456 ").unwrap().expose(), "123456");
        assert!(PairingCode::parse("12345").is_err());
        assert!(PairingCode::parse("12345a").is_err());
        assert_eq!(PairingCode::random().expose().len(), 6);
        let c = PairingCode::parse("123456").unwrap();
        let long = PairingCode::parse(&c.link_form(b"key")).unwrap();
        assert_eq!(long.expose().len(), 22);
        assert_eq!(long.short(), "123456");
        assert!(long.tail_matches(b"key"));
        assert!(!long.tail_matches(b"other key"));
        assert!(!c.tail_matches(b"key"));
        assert!(PairingCode::parse("1234567").is_err());
        assert!(Pin::parse("2580").is_ok());
        assert_eq!(Pin::parse("1111").unwrap_err(), DeviceError::WeakPin);
        assert_eq!(Pin::parse("1234").unwrap_err(), DeviceError::WeakPin);
        assert_eq!(Pin::parse("9876").unwrap_err(), DeviceError::WeakPin);
        assert_eq!(Pin::parse("12a4").unwrap_err(), DeviceError::BadPin);
        assert_eq!(Pin::parse("123").unwrap_err(), DeviceError::BadPin);
        assert!(!format!("{:?}", Pin::parse("2580").unwrap()).contains("2580"));
    }

    #[test]
    fn a_webcrypto_style_signature_verifies() {
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        let public = sk.verifying_key().to_encoded_point(false);
        let key = DeviceKey::parse(&b64(public.as_bytes())).unwrap();
        let code = PairingCode::parse("246810").unwrap();
        let msg = pairing_message("node", &code);
        let sig: Signature = sk.sign(&msg);
        let sig = b64(&sig.to_bytes());
        assert!(key.verify(&msg, &sig).is_ok());
        assert_eq!(
            key.verify(b"another message", &sig),
            Err(DeviceError::BadSignature)
        );
        assert_eq!(key.verify(&msg, "AAAA"), Err(DeviceError::BadSignature));
    }

    #[test]
    fn junk_keys_are_refused() {
        assert_eq!(DeviceKey::parse("not base64!"), Err(DeviceError::BadKey));
        assert_eq!(DeviceKey::parse(&b64(&[4u8; 65])), Err(DeviceError::BadKey));
    }
}
