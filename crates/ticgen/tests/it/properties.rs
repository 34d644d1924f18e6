//! Property tests of the mapping over generated PEP 440 versions: valid SemVer, valid OCI tag,
//! exact read-back (hence injective), and order kept wherever the documentation promises it.

use pep440_rs::{LocalSegment, Prerelease, PrereleaseKind, Version as Pep440};
use proptest::prelude::*;
use ticgen::version;

use crate::mapping::{oci_regex, order_safe, semver_regex};

fn number() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0..4u64, 3 => 0..100u64, 1 => any::<u64>()]
}

fn local_segment() -> impl Strategy<Value = LocalSegment> {
    prop_oneof![
        number().prop_map(LocalSegment::Number),
        ("[a-z]", "[a-z0-9]{0,5}")
            .prop_map(|(first, rest)| LocalSegment::String(format!("{first}{rest}"))),
    ]
}

fn pep440() -> impl Strategy<Value = Pep440> {
    let kind = prop_oneof![
        Just(PrereleaseKind::Alpha),
        Just(PrereleaseKind::Beta),
        Just(PrereleaseKind::Rc)
    ];
    (
        prop_oneof![8 => Just(0u64), 1 => 1..3u64],
        prop::collection::vec(number(), 1..6),
        prop::option::of((kind, number()).prop_map(|(kind, number)| Prerelease { kind, number })),
        prop::option::of(number()),
        prop::option::of(number()),
        prop::collection::vec(local_segment(), 0..3),
    )
        .prop_map(|(epoch, release, pre, post, dev, local)| {
            // Through the text form, so the value is exactly what the parser would produce.
            let built = Pep440::new(release)
                .with_epoch(epoch)
                .with_pre(pre)
                .with_post(post)
                .with_dev(dev)
                .with_local(local);
            version::parse_pep440(&built.to_string()).expect("generated versions are valid")
        })
}

/// Versions inside the documented order-preserving domain: epoch 0, at most three release
/// segments, no local part, post only on pre-releases and dev only on finals.
fn order_safe_pep440() -> impl Strategy<Value = Pep440> {
    let kind = prop_oneof![
        Just(PrereleaseKind::Alpha),
        Just(PrereleaseKind::Beta),
        Just(PrereleaseKind::Rc)
    ];
    let suffix = prop_oneof![
        Just((None, None, None)),
        number().prop_map(|dev| (None, None, Some(dev))),
        (kind, number(), prop::option::of(number())).prop_map(|(kind, number, post)| (
            Some(Prerelease { kind, number }),
            post,
            None
        )),
    ];
    (prop::collection::vec(0..4u64, 1..4), suffix).prop_map(|(release, (pre, post, dev))| {
        let built = Pep440::new(release)
            .with_pre(pre)
            .with_post(post)
            .with_dev(dev);
        version::parse_pep440(&built.to_string()).expect("generated versions are valid")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn maps_to_valid_semver_and_tag_and_reads_back(v in pep440()) {
        let semver = version::to_semver(&v);
        let text = semver.to_string();
        prop_assert!(semver_regex().is_match(&text), "{} → {}", v, text);
        prop_assert_eq!(&version::parse_semver(&text).expect("parses"), &semver);
        prop_assert_eq!(version::from_semver(&semver), Some(v.clone()));
        match version::oci_tag(&semver) {
            Ok(tag) => prop_assert!(oci_regex().is_match(&tag), "{}", tag),
            Err(error) => prop_assert!(text.len() > version::OCI_TAG_MAX, "{}", error),
        }
    }

    #[test]
    fn distinct_versions_never_share_a_tag(a in pep440(), b in pep440()) {
        let (tag_a, tag_b) = (version::to_semver(&a).to_string().replace('+', "_"), version::to_semver(&b).to_string().replace('+', "_"));
        prop_assert_eq!(a == b, tag_a == tag_b, "{} → {}, {} → {}", a, tag_a, b, tag_b);
    }

    #[test]
    fn order_is_kept_where_documented(a in order_safe_pep440(), b in order_safe_pep440()) {
        prop_assert!(order_safe(&a) && order_safe(&b));
        prop_assert_eq!(a.cmp(&b), version::to_semver(&a).cmp_precedence(&version::to_semver(&b)), "{} vs {}", a, b);
    }
}
