//! The one mapping between PEP 440, SemVer 2.0 and OCI tags: pure functions, tested against every
//! pypa/packaging and semver.org vector. `MAPPING.md` beside `Cargo.toml` states the same rules.
//!
//! PEP 440 → SemVer ([`to_semver`]), for a version `E!R1.R2.R3.R4…{a|b|rc}N.postP.devD+L`:
//!
//! | PEP 440 part | SemVer part | example |
//! |---|---|---|
//! | release `R1.R2.R3` | `major.minor.patch`, padded with `0` | `1.2` → `1.2.0` |
//! | pre-release `aN`, `bN`, `rcN` | prerelease `alpha.N`, `beta.N`, `rc.N` | `1.0rc1` → `1.0.0-rc.1` |
//! | post of a pre-release `.postP` | prerelease `….post.P` | `1.0a1.post2` → `1.0.0-alpha.1.post.2` |
//! | dev of a pre-release `.devD` | prerelease `….dev.D` | `1.0b1.dev3` → `1.0.0-beta.1.dev.3` |
//! | dev of a final release `.devD` | prerelease `0.dev.D` | `1.0.dev3` → `1.0.0-0.dev.3` |
//! | epoch `E!` (when not 0) | build `epoch.E` | `1!2.0` → `2.0.0+epoch.1` |
//! | release segments after the third, trailing zeros dropped | build `rel.R4.…` | `1.2.3.4` → `1.2.3+rel.4` |
//! | post of a final release `.postP[.devD]` | build `post.P[.dev.D]` | `1.0.post1` → `1.0.0+post.1` |
//! | local `+L1.L2…` | build `local.L1.L2…` | `1.0+abc.7` → `1.0.0+local.abc.7` |
//!
//! Build groups always appear in this order (`epoch`, `rel`, `post`, `local`) and `local` is last,
//! so [`from_semver`] reads every SemVer this produces back to an equal PEP 440 version: the
//! mapping is injective on PEP 440 versions (versions equal under PEP 440, such as `1.0` and
//! `1.0.0`, map to the same SemVer). The OCI tag is the SemVer with `+` replaced by `_` ([`oci_tag`]);
//! `_` never occurs in SemVer, so that step is injective too. Tags over 128 characters are an error.
//!
//! Order. SemVer precedence agrees with PEP 440 order except in these documented places, where
//! SemVer cannot express the PEP 440 rule:
//! - build metadata never affects precedence, so post-releases of final releases and local
//!   versions compare *equal* to the version without them (`1.0.post1` ≡ `1.0`);
//! - for the same reason epochs and fourth-and-later release segments are ignored when ordering:
//!   `1!1.0` sorts below `2.0`, and `1.2.3.5a1` below `1.2.3.4`;
//! - a `.devD` on a pre-release (or a post-release of one) sorts *after* it, not before, because in
//!   SemVer a longer prerelease always beats its own prefix (`1.0a1.dev1` > `1.0a1`).
//!
//! Everywhere else (epoch 0, at most three non-zero release segments, no local part, no post of a
//! final release, no dev of a pre-release) `a < b` in PEP 440 exactly when `a < b` in SemVer.
//!
//! `0.dev.D` starts with a numeric identifier so that `1.0.dev3` sorts below every `1.0aN`,
//! `1.0bN` and `1.0rcN` (numeric identifiers have lower precedence than alphanumeric ones).

use pep440_rs::{LocalSegment, Prerelease, PrereleaseKind, Version as Pep440};
use semver::{BuildMetadata, Prerelease as SemVerPre, Version as SemVer};

/// The longest tag an OCI registry accepts.
pub const OCI_TAG_MAX: usize = 128;

/// Why a version or tag was rejected.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error(
        "`{text}` is not a valid PEP 440 version: {reason}; write it like 1.2.3, 1.2.3rc1 or 1.2.3.dev4"
    )]
    Pep440 { text: String, reason: String },
    #[error(
        "`{text}` is not a valid SemVer 2.0 version: {reason}; write it like 1.2.3 or 1.2.3-rc.1"
    )]
    SemVer { text: String, reason: String },
    #[error(
        "the image tag `{tag}` would be {len} characters long; OCI tags allow at most {OCI_TAG_MAX}"
    )]
    TagTooLong { tag: String, len: usize },
}

/// Parses a PEP 440 version (any spelling PEP 440 accepts, surrounding whitespace ignored as
/// pypa/packaging ignores it; [`Pep440`]'s `Display` is the normalised form).
pub fn parse_pep440(text: &str) -> Result<Pep440, VersionError> {
    text.trim()
        .parse()
        .map_err(|error: pep440_rs::VersionParseError| VersionError::Pep440 {
            text: text.to_owned(),
            reason: error.to_string(),
        })
}

/// Parses a SemVer 2.0 version (strict: no `v`, no leading zeros, exactly three numbers).
pub fn parse_semver(text: &str) -> Result<SemVer, VersionError> {
    SemVer::parse(text).map_err(|error| VersionError::SemVer {
        text: text.to_owned(),
        reason: error.to_string(),
    })
}

/// The SemVer form of a PEP 440 version, by the rules in the module documentation.
pub fn to_semver(version: &Pep440) -> SemVer {
    let release = version.release();
    let segment = |index: usize| release.get(index).copied().unwrap_or(0);
    let mut pre: Vec<String> = Vec::new();
    let mut build: Vec<String> = Vec::new();
    if version.epoch() != 0 {
        build.extend(["epoch".to_owned(), version.epoch().to_string()]);
    }
    let extra = release.get(3..).unwrap_or_default();
    let extra = &extra[..extra
        .iter()
        .rposition(|&n| n != 0)
        .map_or(0, |last| last + 1)];
    if !extra.is_empty() {
        build.push("rel".to_owned());
        build.extend(extra.iter().map(u64::to_string));
    }
    match (version.pre(), version.post(), version.dev()) {
        (Some(Prerelease { kind, number }), post, dev) => {
            pre.extend([stage_name(kind).to_owned(), number.to_string()]);
            if let Some(post) = post {
                pre.extend(["post".to_owned(), post.to_string()]);
            }
            if let Some(dev) = dev {
                pre.extend(["dev".to_owned(), dev.to_string()]);
            }
        }
        (None, None, Some(dev)) => pre.extend(["0".to_owned(), "dev".to_owned(), dev.to_string()]),
        (None, Some(post), dev) => {
            build.extend(["post".to_owned(), post.to_string()]);
            if let Some(dev) = dev {
                build.extend(["dev".to_owned(), dev.to_string()]);
            }
        }
        (None, None, None) => {}
    }
    if !version.local().is_empty() {
        build.push("local".to_owned());
        build.extend(version.local().iter().map(ToString::to_string));
    }
    SemVer {
        major: segment(0),
        minor: segment(1),
        patch: segment(2),
        pre: SemVerPre::new(&pre.join("."))
            .expect("prerelease identifiers are built from valid parts"),
        build: BuildMetadata::new(&build.join("."))
            .expect("build identifiers are built from valid parts"),
    }
}

/// The PEP 440 version whose [`to_semver`] form is exactly `version`, or `None` when `version`
/// is not such a form. `to_semver(&from_semver(v)?) == v` whenever this returns `Some`.
pub fn from_semver(version: &SemVer) -> Option<Pep440> {
    let pre_ids = identifiers(version.pre.as_str());
    let (pre, mut post, mut dev) = match pre_ids.as_slice() {
        [] => (None, None, None),
        ["0", "dev", number] => (None, None, Some(canonical_number(number)?)),
        [stage, number, rest @ ..] => {
            let pre = Prerelease {
                kind: stage_kind(stage)?,
                number: canonical_number(number)?,
            };
            let (post, rest) = tagged_number("post", rest)?;
            let (dev, rest) = tagged_number("dev", rest)?;
            if !rest.is_empty() {
                return None;
            }
            (Some(pre), post, dev)
        }
        [_] => return None,
    };
    let build_ids = identifiers(version.build.as_str());
    let mut rest = build_ids.as_slice();
    let (epoch, after) = tagged_number("epoch", rest)?;
    rest = after;
    let mut release = vec![version.major, version.minor, version.patch];
    if let ["rel", after @ ..] = rest {
        let count = after
            .iter()
            .take_while(|id| id.bytes().all(|b| b.is_ascii_digit()))
            .count();
        for id in &after[..count] {
            release.push(canonical_number(id)?);
        }
        if count == 0 || release.last() == Some(&0) {
            return None;
        }
        rest = &after[count..];
    }
    if let ["post", ..] = rest {
        if !pre_ids.is_empty() {
            return None;
        }
        let (number, after) = tagged_number("post", rest)?;
        post = number;
        let (number, after) = tagged_number("dev", after)?;
        dev = number;
        rest = after;
    }
    let local = match rest {
        [] => Vec::new(),
        ["local", segments @ ..] if !segments.is_empty() => segments
            .iter()
            .map(|segment| local_segment(segment))
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    if epoch == Some(0) {
        return None;
    }
    Some(
        Pep440::new(release)
            .with_epoch(epoch.unwrap_or(0))
            .with_pre(pre)
            .with_post(post)
            .with_dev(dev)
            .with_local(local),
    )
}

/// The PEP 440 reading of a SemVer version: the exact inverse of [`to_semver`] when it is one of
/// its forms, else the SemVer text read as PEP 440 (which accepts `1.0.0-rc.1`, `1.0.0-beta`,
/// `1.0.0+build.5`), else `None` (for example `1.0.0-x.7.z`).
pub fn semver_to_pep440(version: &SemVer) -> Option<Pep440> {
    from_semver(version).or_else(|| version.to_string().parse().ok())
}

/// The OCI tag of a SemVer version: `+` becomes `_`; longer than 128 characters is an error.
pub fn oci_tag(version: &SemVer) -> Result<String, VersionError> {
    let tag = version.to_string().replace('+', "_");
    debug_assert!(is_oci_tag(&tag[..tag.len().min(OCI_TAG_MAX)]), "{tag}");
    if tag.len() > OCI_TAG_MAX {
        return Err(VersionError::TagTooLong {
            len: tag.len(),
            tag,
        });
    }
    Ok(tag)
}

/// Whether `text` is a valid OCI tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_oci_tag(text: &str) -> bool {
    let bytes = text.as_bytes();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match bytes.split_first() {
        Some((&first, rest)) => {
            bytes.len() <= OCI_TAG_MAX
                && allowed(first)
                && rest.iter().all(|&b| allowed(b) || b == b'.' || b == b'-')
        }
        None => false,
    }
}

fn stage_name(kind: PrereleaseKind) -> &'static str {
    match kind {
        PrereleaseKind::Alpha => "alpha",
        PrereleaseKind::Beta => "beta",
        PrereleaseKind::Rc => "rc",
    }
}

fn stage_kind(name: &str) -> Option<PrereleaseKind> {
    match name {
        "alpha" => Some(PrereleaseKind::Alpha),
        "beta" => Some(PrereleaseKind::Beta),
        "rc" => Some(PrereleaseKind::Rc),
        _ => None,
    }
}

fn identifiers(text: &str) -> Vec<&str> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('.').collect()
    }
}

/// A decimal as `to_string` writes it: digits only, no leading zero.
fn canonical_number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// `[name, number, rest…]` → `(Some(number), rest)`; any other start → `(None, ids)`; a bad number
/// → `None`.
fn tagged_number<'a, 'b>(name: &str, ids: &'a [&'b str]) -> Option<(Option<u64>, &'a [&'b str])> {
    match ids {
        [first, number, rest @ ..] if *first == name => {
            Some((Some(canonical_number(number)?), rest))
        }
        [first] if *first == name => None,
        _ => Some((None, ids)),
    }
}

fn local_segment(text: &str) -> Option<LocalSegment> {
    if let Some(number) = canonical_number(text) {
        return Some(LocalSegment::Number(number));
    }
    let valid = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && text.bytes().any(|b| b.is_ascii_lowercase());
    valid.then(|| LocalSegment::String(text.to_owned()))
}

/// The spelling a version was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    SemVer,
    /// A SemVer with `+` written `_`, as [`oci_tag`] makes it.
    OciTag,
    Pep440,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Self::SemVer => "SemVer",
            Self::OciTag => "OCI tag",
            Self::Pep440 => "PEP 440",
        }
    }
}

/// Reads a version written as SemVer, as an OCI tag or as PEP 440 (a leading `v` allowed, as in
/// release tags) into its SemVer form, the key two spellings of one version share: `2.4.0rc1`,
/// `2.4.0-rc.1` and `v2.4.0-rc.1` all read as `2.4.0-rc.1`; `1.0+abc` and `1.0.0_local.abc` as
/// `1.0.0+local.abc`. `None` when no form reads it.
pub fn read_any(text: &str) -> Option<(SemVer, Form)> {
    read(text).map(|(version, form)| (version.semver(), form))
}

/// A version written as SemVer, as an OCI tag or as PEP 440 (a leading `v` allowed), in the
/// scheme it was written in: PEP 440 spellings keep PEP 440's own rules (its pre-release flag
/// counts `.devN`, as pypa/packaging does).
pub fn parse_any(text: &str) -> Option<ProjectVersion> {
    read(text).map(|(version, _)| version)
}

fn read(text: &str) -> Option<(ProjectVersion, Form)> {
    let text = text.trim();
    let bare = text.strip_prefix(['v', 'V']).unwrap_or(text);
    if let Ok(semver) = SemVer::parse(bare) {
        return Some((ProjectVersion::SemVer(semver), Form::SemVer));
    }
    if bare.contains('_')
        && is_oci_tag(bare)
        && let Ok(semver) = SemVer::parse(&bare.replacen('_', "+", 1))
    {
        return Some((ProjectVersion::SemVer(semver), Form::OciTag));
    }
    let pep440: Pep440 = bare.parse().ok()?;
    Some((ProjectVersion::Pep440(pep440), Form::Pep440))
}

/// Whether two spellings name the same version ([`read_any`] of both agree); with the forms
/// each was read in, for a log line. Text no form reads is compared as it is (a leading `v` aside).
pub fn same_version(a: &str, b: &str) -> (bool, Option<(Form, Form)>) {
    match (read_any(a), read_any(b)) {
        (Some((x, form_a)), Some((y, form_b))) => (x == y, Some((form_a, form_b))),
        _ => {
            let bare = |text: &str| {
                let text = text.trim();
                text.strip_prefix(['v', 'V']).unwrap_or(text).to_owned()
            };
            (bare(a) == bare(b), None)
        }
    }
}

/// A project version in the scheme of the manifest it came from.
#[derive(Debug, Clone)]
pub enum ProjectVersion {
    /// From `pyproject.toml`.
    Pep440(Pep440),
    /// From `Cargo.toml` or `package.json`.
    SemVer(SemVer),
}

impl ProjectVersion {
    /// The version normalised in its own scheme (the `version` output).
    pub fn normalised(&self) -> String {
        match self {
            Self::Pep440(version) => version.to_string(),
            Self::SemVer(version) => version.to_string(),
        }
    }

    /// The SemVer form.
    pub fn semver(&self) -> SemVer {
        match self {
            Self::Pep440(version) => to_semver(version),
            Self::SemVer(version) => version.clone(),
        }
    }

    /// The PEP 440 form, when there is one.
    pub fn pep440(&self) -> Option<Pep440> {
        match self {
            Self::Pep440(version) => Some(version.clone()),
            Self::SemVer(version) => semver_to_pep440(version),
        }
    }

    /// A pre-release: PEP 440 `a`, `b`, `rc` or `dev`; SemVer with a prerelease part.
    pub fn is_prerelease(&self) -> bool {
        match self {
            Self::Pep440(version) => version.any_prerelease(),
            Self::SemVer(version) => !version.pre.is_empty(),
        }
    }

    /// A final release that may carry the `major`, `major.minor` and `latest` aliases: not a
    /// pre-release, no local part or build metadata, epoch 0 (post-releases qualify).
    pub fn is_final(&self) -> bool {
        match self {
            Self::Pep440(version) => {
                !version.any_prerelease() && !version.is_local() && version.epoch() == 0
            }
            Self::SemVer(version) => version.pre.is_empty() && version.build.is_empty(),
        }
    }

    /// Whether a tag name (prefix already removed) names this version: an equal version in the
    /// manifest's scheme, or (for PEP 440) the SemVer form of an equal version.
    pub fn matches(&self, tag: &str) -> bool {
        match self {
            Self::Pep440(version) => {
                // Both readings count: `1.0.0-0.dev.3` is `1.0.0.post0.dev3` to PEP 440 but the
                // SemVer form of `1.0.0.dev3`.
                let as_pep440 = parse_pep440(tag).is_ok_and(|tagged| tagged == *version);
                as_pep440
                    || SemVer::parse(tag)
                        .ok()
                        .as_ref()
                        .and_then(from_semver)
                        .is_some_and(|tagged| tagged == *version)
            }
            Self::SemVer(version) => SemVer::parse(tag).is_ok_and(|tagged| tagged == *version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Form, same_version};

    #[test]
    fn spellings_of_one_version_are_the_same_version() {
        let same = |a: &str, b: &str| same_version(a, b);
        assert_eq!(
            same("2.4.0rc1", "2.4.0-rc.1"),
            (true, Some((Form::Pep440, Form::SemVer)))
        );
        assert_eq!(
            same("v2.4.0-rc.1", "2.4.0rc1"),
            (true, Some((Form::SemVer, Form::Pep440)))
        );
        assert!(same("1.0", "v1.0.0").0);
        assert!(same("1.0.dev3", "1.0.0-0.dev.3").0);
        assert_eq!(
            same("1.0+abc.7", "1.0.0_local.abc.7"),
            (true, Some((Form::Pep440, Form::OciTag)))
        );
        assert!(same("1!2.0", "2.0.0_epoch.1").0);
    }

    #[test]
    fn different_versions_differ_in_every_spelling() {
        assert!(!same_version("2.4.0rc1", "2.4.0-rc.2").0);
        assert!(!same_version("2.4.0rc1", "2.4.0").0);
        assert!(
            !same_version("1.0.post1", "1.0.0").0,
            "build metadata is part of the key"
        );
        assert!(!same_version("1.0+abc", "1.0").0);
    }

    #[test]
    fn text_no_form_reads_is_compared_as_it_is() {
        assert_eq!(same_version("latest", "latest"), (true, None));
        assert_eq!(same_version("vlatest", "latest"), (true, None));
        assert_eq!(same_version("latest", "1.0.0"), (false, None));
    }
}
