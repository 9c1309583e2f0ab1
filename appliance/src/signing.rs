//! The node's record-signing key: a P-256 key made once, whose certificate the box's root
//! issues, used only to sign records such as vote results (never TLS, never a CA). Records
//! are signed over their RFC 8785 canonical JSON (JCS), so anyone can re-serialise a record
//! from its JSON and check the signature offline.

use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot write canonical JSON: {0}")]
    Canonical(String),
    #[error("the record-signing key is not a P-256 PKCS#8 key")]
    BadKey,
    #[error("the certificate is not an X.509 certificate with a P-256 key: {0}")]
    BadCertificate(String),
    #[error("the signature does not verify")]
    BadSignature,
}

/// The RFC 8785 canonical JSON of a value.
pub fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, SigningError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| SigningError::Canonical(e.to_string()))
}

/// Signs records for the node. Cheap to share behind an `Arc`.
pub struct RecordSigner {
    key: SigningKey,
    certificate_pem: String,
    root_pem: String,
}

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSigner(<key>)")
    }
}

impl RecordSigner {
    /// From the key's PKCS#8 DER and the PEM of its certificate and of the root above it.
    pub fn new(
        pkcs8_der: &[u8],
        certificate_pem: String,
        root_pem: String,
    ) -> Result<Self, SigningError> {
        use p256::pkcs8::DecodePrivateKey;
        let key = SigningKey::from_pkcs8_der(pkcs8_der).map_err(|_| SigningError::BadKey)?;
        Ok(Self {
            key,
            certificate_pem,
            root_pem,
        })
    }

    /// ECDSA P-256 / SHA-256 over `bytes`, IEEE P1363 (r‖s), base64url without padding.
    pub fn sign(&self, bytes: &[u8]) -> String {
        let sig: Signature = self.key.sign(bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes())
    }

    /// Signs the canonical JSON of `value`.
    pub fn sign_json<T: Serialize>(&self, value: &T) -> Result<String, SigningError> {
        Ok(self.sign(&canonical_json(value)?))
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The public half, SEC1 uncompressed.
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }
}

/// The P-256 public key of a PEM certificate.
pub fn certificate_key(pem: &str) -> Result<VerifyingKey, SigningError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| SigningError::BadCertificate(e.to_string()))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| SigningError::BadCertificate(e.to_string()))?;
    let spki = cert.public_key();
    VerifyingKey::from_sec1_bytes(&spki.subject_public_key.data)
        .map_err(|e| SigningError::BadCertificate(e.to_string()))
}

/// Checks a record signature made by [`RecordSigner::sign_json`] with `key`.
pub fn verify_json<T: Serialize>(
    key: &VerifyingKey,
    value: &T,
    signature_b64: &str,
) -> Result<(), SigningError> {
    let bytes = canonical_json(value)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_b64.trim())
        .map_err(|_| SigningError::BadSignature)?;
    let sig = Signature::from_slice(&raw).map_err(|_| SigningError::BadSignature)?;
    key.verify(&bytes, &sig)
        .map_err(|_| SigningError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_signatures_verify() {
        #[derive(Serialize)]
        struct R {
            z: u32,
            a: &'static str,
        }
        let bytes = canonical_json(&R {
            z: 1,
            a: "Tán thành",
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"a":"Tán thành","z":1}"#
        );
        let k = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let s = RecordSigner::new(&k.serialize_der(), String::new(), String::new()).unwrap();
        let sig = s.sign_json(&R { z: 1, a: "x" }).unwrap();
        let vk = VerifyingKey::from_sec1_bytes(&s.public_key_sec1()).unwrap();
        assert!(verify_json(&vk, &R { z: 1, a: "x" }, &sig).is_ok());
        assert!(verify_json(&vk, &R { z: 2, a: "x" }, &sig).is_err());
    }
}
