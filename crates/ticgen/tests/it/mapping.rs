//! The PEP 440 ⇄ SemVer ⇄ OCI mapping over every pypa/packaging and semver.org reference vector.

use std::cmp::Ordering;

use pep440_rs::Version as Pep440;
use regex::Regex;
use serde_json::Value;
use ticgen::version::{self, ProjectVersion};

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read vectors"))
        .expect("vectors are JSON")
}

fn pep440_vectors() -> Value {
    vectors("pep440-packaging-test-vectors.json")
}

fn semver_vectors() -> Value {
    vectors("semver-org-regex-test-vectors.json")
}

/// semver.org's official regex, from the vector file.
pub fn semver_regex() -> Regex {
    Regex::new(
        semver_vectors()["regex_numbered_groups"]
            .as_str()
            .expect("regex"),
    )
    .expect("compiles")
}

/// The OCI distribution spec's tag grammar.
pub fn oci_regex() -> Regex {
    Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("compiles")
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|item| item.as_str().expect("string"))
        .collect()
}

fn cases(name: &str) -> Vec<Value> {
    pep440_vectors()[name]["cases"]
        .as_array()
        .expect("cases")
        .clone()
}

fn valid_versions() -> Vec<Pep440> {
    strings(&pep440_vectors()["valid_versions_sorted_ascending"])
        .into_iter()
        .map(|text| version::parse_pep440(text).unwrap_or_else(|error| panic!("{error}")))
        .collect()
}

/// Order claims hold for versions without the parts SemVer cannot order (see `version` docs).
pub fn order_safe(version: &Pep440) -> bool {
    let extra_zero = version.release().iter().skip(3).all(|&n| n == 0);
    let post_of_final = version.pre().is_none() && version.post().is_some();
    let dev_of_pre = version.pre().is_some() && version.dev().is_some();
    version.epoch() == 0 && extra_zero && !version.is_local() && !post_of_final && !dev_of_pre
}

#[test]
fn every_valid_version_maps_to_valid_semver_and_oci_tag_and_back() {
    let (semver_re, oci_re) = (semver_regex(), oci_regex());
    for pep in valid_versions() {
        let semver = version::to_semver(&pep);
        let text = semver.to_string();
        assert!(
            semver_re.is_match(&text),
            "{pep} → {text} is not SemVer per semver.org"
        );
        assert_eq!(
            version::parse_semver(&text).expect("semver crate parses it"),
            semver
        );
        let tag = version::oci_tag(&semver).expect("short enough");
        assert!(oci_re.is_match(&tag), "{pep} → {tag} is not an OCI tag");
        assert_eq!(
            version::from_semver(&semver),
            Some(pep.clone()),
            "{pep} → {text} does not read back"
        );
    }
}

#[test]
fn distinct_valid_versions_get_distinct_tags() {
    let versions = valid_versions();
    let tags: Vec<String> = versions
        .iter()
        .map(|v| version::oci_tag(&version::to_semver(v)).expect("tag"))
        .collect();
    for (i, a) in versions.iter().enumerate() {
        for (j, b) in versions.iter().enumerate() {
            if a != b {
                assert_ne!(tags[i], tags[j], "{a} and {b} collide");
            }
        }
    }
}

#[test]
fn sorted_vectors_keep_their_order_where_documented() {
    let versions = valid_versions();
    let mut checked = 0;
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            assert!(a < b, "vector order: {a} < {b}");
            if order_safe(a) && order_safe(b) {
                let order = version::to_semver(a).cmp_precedence(&version::to_semver(b));
                assert_eq!(order, Ordering::Less, "{a} < {b} but SemVer says {order:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} pairs checked");
}

#[test]
fn documented_order_exceptions() {
    let semver = |text: &str| version::to_semver(&version::parse_pep440(text).expect("valid"));
    let cmp = |a: &str, b: &str| semver(a).cmp_precedence(&semver(b));
    // Build metadata is ignored: post-releases of finals and local versions tie with their base.
    assert_eq!(cmp("1.0.post1", "1.0"), Ordering::Equal);
    assert_eq!(cmp("1.0+abc", "1.0"), Ordering::Equal);
    // Epochs and fourth segments are ignored when ordering.
    assert_eq!(cmp("1!1.0", "2.0"), Ordering::Less);
    assert_eq!(cmp("1.2.3.5a1", "1.2.3.4"), Ordering::Less);
    // A dev release of a pre-release sorts after it.
    assert_eq!(cmp("1.0a1.dev1", "1.0a1"), Ordering::Greater);
    // …but a dev release of a final sorts below all of its pre-releases.
    assert_eq!(cmp("1.0.dev9", "1.0a0"), Ordering::Less);
}

#[test]
fn versions_equal_under_pep440_share_a_tag() {
    let tag = |text: &str| {
        version::oci_tag(&version::to_semver(
            &version::parse_pep440(text).expect("valid"),
        ))
        .expect("tag")
    };
    assert_eq!(tag("1.0"), tag("1.0.0.0"));
    assert_eq!(tag("1.0+01"), tag("1.0+1"));
    assert_eq!(tag("1.0-RC.1"), tag("1.0rc1"));
}

#[test]
fn mapping_table_examples() {
    for (pep, semver) in [
        ("1.2", "1.2.0"),
        ("1.0rc1", "1.0.0-rc.1"),
        ("1.0a1.post2", "1.0.0-alpha.1.post.2"),
        ("1.0b1.dev3", "1.0.0-beta.1.dev.3"),
        ("1.0.dev3", "1.0.0-0.dev.3"),
        ("1!2.0", "2.0.0+epoch.1"),
        ("1.2.3.4", "1.2.3+rel.4"),
        ("1.2.3.0.0", "1.2.3"),
        ("1.2.3.0.5", "1.2.3+rel.0.5"),
        ("1.0.post1", "1.0.0+post.1"),
        ("1.0.post1.dev2", "1.0.0+post.1.dev.2"),
        ("1.0+abc.7", "1.0.0+local.abc.7"),
        (
            "2!1.2.3.4rc5.post6.dev7+ubuntu.1",
            "1.2.3-rc.5.post.6.dev.7+epoch.2.rel.4.local.ubuntu.1",
        ),
    ] {
        let mapped = version::to_semver(&version::parse_pep440(pep).expect("valid"));
        assert_eq!(mapped.to_string(), semver, "{pep}");
        assert_eq!(
            version::oci_tag(&mapped).expect("tag"),
            semver.replace('+', "_")
        );
    }
}

#[test]
fn normalised_spellings_map_like_their_normal_form() {
    for case in cases("test_normalized_versions") {
        let (raw, normal) = (
            case[0].as_str().expect("str"),
            case[1].as_str().expect("str"),
        );
        let parsed = version::parse_pep440(raw).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(parsed.to_string(), normal, "{raw}");
        let normal = version::parse_pep440(normal).expect("normal form parses");
        assert_eq!(
            version::to_semver(&parsed),
            version::to_semver(&normal),
            "{raw}"
        );
    }
}

#[test]
fn str_and_parts_agree_with_packaging() {
    for case in cases("test_version_str_repr") {
        let parsed = version::parse_pep440(case[0].as_str().expect("str")).expect("valid");
        assert_eq!(parsed.to_string(), case[1].as_str().expect("str"));
    }
    for case in cases("test_version_release") {
        let parsed = version::parse_pep440(case[0].as_str().expect("str")).expect("valid");
        let release: Vec<u64> = case[1]
            .as_array()
            .expect("array")
            .iter()
            .map(|n| n.as_u64().expect("u64"))
            .collect();
        assert_eq!(parsed.release(), release.as_slice());
    }
    let optional = |value: &Value| value.as_u64();
    for (name, part) in [
        (
            "test_version_epoch",
            (|v: &Pep440| Some(v.epoch())) as fn(&Pep440) -> Option<u64>,
        ),
        ("test_version_dev", |v: &Pep440| v.dev()),
        ("test_version_post", |v: &Pep440| v.post()),
    ] {
        for case in cases(name) {
            let parsed = version::parse_pep440(case[0].as_str().expect("str")).expect("valid");
            assert_eq!(part(&parsed), optional(&case[1]), "{name}: {}", case[0]);
        }
    }
}

#[test]
fn prerelease_flags_agree_with_packaging() {
    for case in cases("test_version_is_prerelease") {
        let parsed = version::parse_pep440(case[0].as_str().expect("str")).expect("valid");
        assert_eq!(
            ProjectVersion::Pep440(parsed).is_prerelease(),
            case[1].as_bool().expect("bool"),
            "{}",
            case[0]
        );
    }
}

#[test]
fn every_invalid_version_is_rejected_with_a_message() {
    let invalid = pep440_vectors()["test_invalid_versions"]["cases"].clone();
    for text in strings(&invalid) {
        let error = version::parse_pep440(text).expect_err(text).to_string();
        assert!(
            error.contains(text) && error.contains("is not a valid PEP 440 version:"),
            "{error}"
        );
        assert!(error.len() > text.len() + 35, "no reason given: {error}");
    }
}

#[test]
fn semver_acceptance_agrees_with_semver_org() {
    let vectors = semver_vectors();
    let re = semver_regex();
    for case in vectors["cases"].as_array().expect("cases") {
        let text = case["input"].as_str().expect("input");
        let valid = case["valid"].as_bool().expect("valid");
        assert_eq!(re.is_match(text), valid, "regex vs vector: {text}");
        let parsed = version::parse_semver(text);
        // The one documented difference: numbers beyond 64 bits are valid SemVer but no tool here
        // can hold them, so they are rejected with a message.
        let too_big = text
            .split(['.', '-', '+'])
            .any(|part| part.len() > 19 && part.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(parsed.is_ok(), valid && !too_big, "{text}: {parsed:?}");
        if let Ok(semver) = parsed {
            let tag = version::oci_tag(&semver).expect("short");
            assert!(oci_regex().is_match(&tag), "{tag}");
            assert!(ProjectVersion::SemVer(semver).matches(text));
        }
    }
}

#[test]
fn semver_precedence_chains_survive_the_pep440_reading() {
    let chains = semver_vectors()["precedence_chains_from_spec_item_11"]["chains"].clone();
    for chain in chains.as_array().expect("chains") {
        let versions: Vec<Pep440> = strings(chain)
            .into_iter()
            .filter_map(|text| {
                version::semver_to_pep440(&version::parse_semver(text).expect("valid"))
            })
            .collect();
        for pair in versions.windows(2) {
            assert!(pair[0] <= pair[1], "{} > {}", pair[0], pair[1]);
        }
    }
}

#[test]
fn semver_manifests_read_as_pep440_where_they_can() {
    let pep = |text: &str| {
        version::semver_to_pep440(&version::parse_semver(text).expect("valid"))
            .map(|v| v.to_string())
    };
    assert_eq!(pep("1.2.3").as_deref(), Some("1.2.3"));
    assert_eq!(pep("1.0.0-rc.1").as_deref(), Some("1.0.0rc1"));
    assert_eq!(pep("1.0.0-beta").as_deref(), Some("1.0.0b0"));
    assert_eq!(pep("1.0.0-0.dev.3").as_deref(), Some("1.0.0.dev3"));
    assert_eq!(pep("1.0.0+post.1").as_deref(), Some("1.0.0.post1"));
    assert_eq!(pep("1.0.0-x.7.z"), None);
}

#[test]
fn from_semver_accepts_only_its_own_forms() {
    for text in [
        "1.0.0-alpha",
        "1.0.0+rel.04",
        "1.0.0-gamma.1",
        "1.0.0-alpha.1.dev",
        "1.0.0-alpha.1.x.1",
        "1.0.0-1.dev.1",
        "1.0.0+epoch.0",
        "1.0.0+rel",
        "1.0.0+rel.4.0",
        "1.0.0+post",
        "1.0.0-rc.1+post.1",
        "1.0.0+local",
        "1.0.0+local.ABC",
        "1.0.0+local.a-b",
        "1.0.0+post.1.epoch.1",
        "1.0.0+whatever",
    ] {
        let semver = version::parse_semver(text).expect("valid SemVer");
        assert_eq!(version::from_semver(&semver), None, "{text}");
    }
}

#[test]
fn tags_match_the_version_in_either_scheme() {
    let pep = ProjectVersion::Pep440(version::parse_pep440("1.0rc1").expect("valid"));
    for tag in ["1.0rc1", "1.0.0rc1", "1.0.0-rc.1", "1.0.0-RC1", "v1.0rc1"] {
        assert!(pep.matches(tag), "{tag}");
    }
    for tag in ["1.0", "1.0rc2", "1.0.0-rc.1.x", "release"] {
        assert!(!pep.matches(tag), "{tag}");
    }
    // Tags in the SemVer form of every valid vector name their version, even where PEP 440 reads
    // the same text differently (`1.0.0-0.dev.0` is also `1.0.0.post0.dev0` to PEP 440).
    for v in valid_versions() {
        let tag = version::to_semver(&v).to_string();
        assert!(
            ProjectVersion::Pep440(v.clone()).matches(&tag),
            "{v} vs {tag}"
        );
    }
    let semver = ProjectVersion::SemVer(version::parse_semver("1.0.0-rc.1").expect("valid"));
    assert!(semver.matches("1.0.0-rc.1"));
    assert!(!semver.matches("1.0.0rc1"));
}

#[test]
fn overlong_tags_are_an_error() {
    let long = format!("1.0+{}", "a".repeat(130));
    let semver = version::to_semver(&version::parse_pep440(&long).expect("valid"));
    let error = version::oci_tag(&semver).expect_err("too long").to_string();
    assert!(error.contains("at most 128"), "{error}");
    assert!(!version::is_oci_tag(&format!(
        "1.0.0_local.{}",
        "a".repeat(130)
    )));
    assert!(version::is_oci_tag("_x") && !version::is_oci_tag(".x") && !version::is_oci_tag(""));
}
