//! GitHub App sign-in: the App's RSA key (read from the private key PEM GitHub issues, from
//! PKCS#8, or from a public key; only the public half is kept) and the RS256 JSON Web Tokens an
//! App signs with it, refused with GitHub's own 401 messages.

use base64::Engine as _;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Map, Value};

/// Why an App's key cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not a PEM block (-----BEGIN …----- … -----END …-----)")]
    NotPem,
    #[error(
        "unsupported PEM block {0:?}: expected RSA PRIVATE KEY, PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY"
    )]
    Label(String),
    #[error("the PEM body is not base64")]
    Base64,
    #[error("not a usable RSA key: {0}")]
    Rsa(String),
}

/// An App's public key: the PKCS#1 `RSAPublicKey` DER that RS256 verification needs.
#[derive(Clone, Debug)]
pub struct AppKey {
    public: Vec<u8>,
}

/// DER of the OID 1.2.840.113549.1.1.1 (`rsaEncryption`).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

impl AppKey {
    /// Reads `BEGIN RSA PRIVATE KEY` (PKCS#1, as GitHub issues App keys), `BEGIN PRIVATE KEY`
    /// (PKCS#8), `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(pem: &str) -> Result<AppKey, KeyError> {
        let (label, der) = pem_block(pem)?;
        let rejected = |e: ring::error::KeyRejected| KeyError::Rsa(e.to_string());
        let public = match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map_err(rejected)?
                .public()
                .as_ref()
                .to_vec(),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der)
                .map_err(rejected)?
                .public()
                .as_ref()
                .to_vec(),
            "PUBLIC KEY" => spki_rsa(&der)
                .ok_or_else(|| KeyError::Rsa("not an RSA SubjectPublicKeyInfo".into()))?
                .to_vec(),
            "RSA PUBLIC KEY" => der,
            other => return Err(KeyError::Label(other.to_owned())),
        };
        let bits = modulus_bits(&public)
            .ok_or_else(|| KeyError::Rsa("not an RSAPublicKey structure".into()))?;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::Rsa(format!(
                "{bits}-bit modulus (GitHub's keys are 2048-bit; RS256 here takes 2048 to 8192)"
            )));
        }
        Ok(AppKey { public })
    }

    fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public)
            .verify(message, sig)
            .is_ok()
    }
}

/// The label and decoded body of the first PEM block in `pem`.
fn pem_block(pem: &str) -> Result<(&str, Vec<u8>), KeyError> {
    let start = pem.find("-----BEGIN ").ok_or(KeyError::NotPem)?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let (label, rest) = rest.split_once("-----").ok_or(KeyError::NotPem)?;
    let end = rest
        .find(&format!("-----END {label}-----"))
        .ok_or(KeyError::NotPem)?;
    let body: String = rest[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyError::Base64)?;
    Ok((label, der))
}

/// One DER element: its tag, its contents and the bytes after it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `RSAPublicKey` inside an RSA `SubjectPublicKeyInfo`.
fn spki_rsa(spki: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = der(spki)? else {
        return None;
    };
    let (0x30, algorithm, rest) = der(info)? else {
        return None;
    };
    let (0x06, oid, _) = der(algorithm)? else {
        return None;
    };
    let (0x03, bits, _) = der(rest)? else {
        return None;
    };
    let (0, key) = bits.split_first()? else {
        return None;
    };
    (oid == RSA_ENCRYPTION).then_some(key)
}

/// The size of an `RSAPublicKey`'s modulus in bits.
fn modulus_bits(public: &[u8]) -> Option<usize> {
    let (0x30, fields, _) = der(public)? else {
        return None;
    };
    let (0x02, modulus, rest) = der(fields)? else {
        return None;
    };
    let (0x02, _exponent, _) = der(rest)? else {
        return None;
    };
    let digits: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => &[],
    };
    let first = digits.first()?;
    Some(digits.len() * 8 - first.leading_zeros() as usize)
}

/// Why GitHub refuses a JWT; every one is a 401 with this message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON, not RS256, or the signature does not verify.
    #[error("A JSON web token could not be decoded")]
    Undecodable,
    #[error("'Issuer' claim ('iss') must be an Integer")]
    Issuer,
    #[error("Integration not found")]
    UnknownIntegration,
    #[error(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    )]
    Expired,
    #[error("'Expiration time' claim ('exp') is too far in the future")]
    TooFarAhead,
    #[error(
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
    )]
    IssuedInFuture,
}

/// Who a JWT says signed it: an App ID (a number, or digits in a string) or a client ID.
#[derive(Debug, PartialEq, Eq)]
pub enum Issuer {
    Id(u64),
    ClientId(String),
}

/// A JWT split into its parts, not yet trusted.
pub struct Jwt<'a> {
    signed: &'a str,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

/// The longest a JWT may live past the verifier's now (GitHub: "no more than 10 minutes into the
/// future").
const MAX_AHEAD_SECS: i64 = 600;

/// Whether a credential is shaped like a JWT (GitHub's tokens never hold a dot).
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.split('.').count() == 3
}

fn base64url(part: &str) -> Result<Vec<u8>, JwtError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Undecodable)
}

fn json_object(part: &str) -> Result<Map<String, Value>, JwtError> {
    match serde_json::from_slice(&base64url(part)?) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Undecodable),
    }
}

impl<'a> Jwt<'a> {
    /// Splits and decodes a JWT; only RS256 is accepted.
    pub fn parse(token: &'a str) -> Result<Jwt<'a>, JwtError> {
        let (signed, sig) = token.rsplit_once('.').ok_or(JwtError::Undecodable)?;
        let (header, claims) = signed.split_once('.').ok_or(JwtError::Undecodable)?;
        let header = json_object(header)?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(JwtError::Undecodable);
        }
        Ok(Jwt {
            signed,
            claims: json_object(claims)?,
            signature: base64url(sig)?,
        })
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> Result<Issuer, JwtError> {
        match self.claims.get("iss") {
            Some(Value::Number(n)) => n.as_u64().map(Issuer::Id).ok_or(JwtError::Issuer),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().map(Issuer::Id).map_err(|_| JwtError::Issuer)
            }
            Some(Value::String(s)) if !s.is_empty() => Ok(Issuer::ClientId(s.clone())),
            _ => Err(JwtError::Issuer),
        }
    }

    /// Checks the signature with `key`, then `exp` (in the future, at most ten minutes ahead)
    /// and `iat` (an integer, not in the future; it may be backdated) against `now` (unix
    /// seconds of the verifier's clock).
    pub fn verify(&self, key: &AppKey, now: i64) -> Result<(), JwtError> {
        if !key.verifies(self.signed.as_bytes(), &self.signature) {
            return Err(JwtError::Undecodable);
        }
        let exp = match self.claims.get("exp") {
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(f64::floor).map(float_secs))
                .ok_or(JwtError::Expired)?,
            _ => return Err(JwtError::Expired),
        };
        if exp <= now {
            return Err(JwtError::Expired);
        }
        if exp > now + MAX_AHEAD_SECS {
            return Err(JwtError::TooFarAhead);
        }
        match self.claims.get("iat").and_then(Value::as_i64) {
            Some(iat) if iat <= now => Ok(()),
            _ => Err(JwtError::IssuedInFuture),
        }
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "a floored claim; out-of-range values saturate and fail the range checks"
)]
fn float_secs(f: f64) -> i64 {
    f as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_in_long_form_are_read() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let (tag, body, rest) = der(&long).expect("parses");
        assert_eq!((tag, body.len(), rest.len()), (0x04, 0x80, 0));
        assert!(der(&[0x04, 0x82, 0x01]).is_none(), "truncated length");
        assert!(der(&[0x04, 0x05, 1, 2]).is_none(), "truncated body");
    }

    #[test]
    fn pem_errors_name_what_is_wrong() {
        assert_eq!(AppKey::from_pem("hello").unwrap_err(), KeyError::NotPem);
        assert_eq!(
            AppKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .unwrap_err(),
            KeyError::Label("CERTIFICATE".into())
        );
        assert_eq!(
            AppKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----")
                .unwrap_err(),
            KeyError::Base64
        );
    }

    #[test]
    fn issuers_are_app_ids_or_client_ids() {
        let jwt = |claims: &str| Jwt {
            signed: "",
            claims: serde_json::from_str(claims).expect("json"),
            signature: Vec::new(),
        };
        assert_eq!(jwt(r#"{"iss": 42}"#).issuer(), Ok(Issuer::Id(42)));
        assert_eq!(jwt(r#"{"iss": "42"}"#).issuer(), Ok(Issuer::Id(42)));
        assert_eq!(
            jwt(r#"{"iss": "Iv23liAbc"}"#).issuer(),
            Ok(Issuer::ClientId("Iv23liAbc".into()))
        );
        for bad in ["{}", r#"{"iss": ""}"#, r#"{"iss": -1}"#, r#"{"iss": 1.5}"#] {
            assert_eq!(jwt(bad).issuer(), Err(JwtError::Issuer), "{bad}");
        }
    }

    #[test]
    fn a_jwt_needs_rs256_and_three_parts() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let claims = b64(r#"{"iss": 1}"#);
        for header in [r#"{"alg":"none"}"#, r#"{"alg":"HS256"}"#, "{}", "[]"] {
            let token = format!("{}.{claims}.", b64(header));
            assert!(
                matches!(Jwt::parse(&token), Err(JwtError::Undecodable)),
                "{header}"
            );
        }
        assert!(Jwt::parse(&format!("{}.{claims}", b64(r#"{"alg":"RS256"}"#))).is_err());
        assert!(Jwt::parse(&format!("{}.{claims}.", b64(r#"{"alg":"RS256"}"#))).is_ok());
        assert!(looks_like_jwt("a.b.c") && !looks_like_jwt("ghs_abc"));
    }
}
