//! RSA keys made by openssl for this test run (key material is never committed), in every PEM
//! form an App key comes in, and RS256 JWTs signed with them.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

use crate::common::hermetic;

/// One RSA key pair.
pub struct TestKey {
    /// `BEGIN RSA PRIVATE KEY`, as GitHub issues App keys.
    pub pkcs1: String,
    /// `BEGIN PRIVATE KEY`.
    pub pkcs8: String,
    /// `BEGIN PUBLIC KEY`.
    pub spki: String,
    /// `BEGIN RSA PUBLIC KEY`.
    pub rsa_public: String,
    pair: RsaKeyPair,
}

/// Runs openssl with `input` on stdin; its stdout.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = hermetic(Command::new("openssl").args(args))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed (it makes the test's RSA keys)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("openssl reads its input");
    let out = child.wait_with_output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("PEM is text")
}

fn generate() -> TestKey {
    let pkcs1 = text(openssl(&["genrsa", "-traditional", "2048"], b""));
    let der = openssl(
        &["rsa", "-traditional", "-outform", "DER"],
        pkcs1.as_bytes(),
    );
    TestKey {
        pkcs8: text(openssl(&["pkey"], pkcs1.as_bytes())),
        spki: text(openssl(&["pkey", "-pubout"], pkcs1.as_bytes())),
        rsa_public: text(openssl(&["rsa", "-RSAPublicKey_out"], pkcs1.as_bytes())),
        pair: RsaKeyPair::from_der(&der).expect("openssl's PKCS#1 key"),
        pkcs1,
    }
}

/// The App's key.
pub fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(generate)
}

/// A key of nobody's App.
pub fn stranger() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(generate)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    /// A JWT with these claims, signed RS256.
    pub fn jwt(&self, claims: &Value) -> String {
        self.signed(&json!({"alg": "RS256", "typ": "JWT"}), claims)
    }

    /// A JWT with this header and these claims, signed RS256 whatever the header says.
    pub fn signed(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut sig,
            )
            .expect("signs");
        format!("{message}.{}", b64url(&sig))
    }

    /// The YAML block scalar of a PEM, indented for a world file.
    pub fn yaml(pem: &str, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let lines: Vec<String> = pem.lines().map(|l| format!("{pad}{l}")).collect();
        format!("|\n{}", lines.join("\n"))
    }
}
