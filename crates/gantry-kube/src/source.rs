//! Deploys in source order: the landing-zone commit a deploy's values were read from (its position
//! along the base branch and its SHA), recorded on the Deployment by the write that sets the image,
//! so that a run holding an older commit, started or scheduled late, never overwrites a newer one.
//! The record is per Deployment, whichever env file named it.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;

use crate::error::Error;
use crate::target::Target;

/// The annotation holding the source's position along the base branch.
pub const SEQUENCE_ANNOTATION: &str = "gantry.dev/source-sequence";
/// The annotation holding the source's commit SHA.
pub const REVISION_ANNOTATION: &str = "gantry.dev/source-revision";

/// Where a deploy's values came from: the number of first-parent commits up to the commit
/// (`git rev-list --count --first-parent`, which only grows along a branch) and its SHA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub sequence: u64,
    /// Empty when a Deployment records a sequence without a revision.
    pub revision: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.revision.is_empty() {
            write!(f, "sequence {} (no revision recorded)", self.sequence)
        } else {
            write!(f, "sequence {} (revision {})", self.sequence, self.revision)
        }
    }
}

impl Source {
    /// The annotations that record this source.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (SEQUENCE_ANNOTATION.to_owned(), self.sequence.to_string()),
            (REVISION_ANNOTATION.to_owned(), self.revision.clone()),
        ])
    }

    /// The source `deployment` records; `None` without a sequence annotation. A sequence that is
    /// not a non-negative integer is an error: the order of deploys can no longer be told.
    pub fn recorded(deployment: &Deployment, target: &Target) -> Result<Option<Self>, Error> {
        let annotations = deployment.annotations();
        let Some(text) = annotations.get(SEQUENCE_ANNOTATION) else {
            return Ok(None);
        };
        let sequence = parse_sequence(text).ok_or_else(|| Error::BadSourceSequence {
            target: target.clone(),
            annotation: SEQUENCE_ANNOTATION,
            value: text.clone(),
        })?;
        Ok(Some(Self {
            sequence,
            revision: annotations
                .get(REVISION_ANNOTATION)
                .cloned()
                .unwrap_or_default(),
        }))
    }

    /// The source `deployment` records when it is newer than this one (a higher sequence): the
    /// deploy this one must yield to. An equal sequence is not newer.
    pub fn newer_on(
        &self,
        deployment: &Deployment,
        target: &Target,
    ) -> Result<Option<Self>, Error> {
        Ok(Self::recorded(deployment, target)?.filter(|live| live.sequence > self.sequence))
    }

    /// Whether `deployment` records a source at least as new as this one, so that writing this
    /// one would change nothing or go backwards.
    pub fn is_recorded_on(&self, deployment: &Deployment, target: &Target) -> Result<bool, Error> {
        Ok(Self::recorded(deployment, target)?.is_some_and(|live| live.sequence >= self.sequence))
    }
}

/// A non-negative decimal integer: ASCII digits only (no sign, no spaces), within `u64`.
pub fn parse_sequence(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target() -> Target {
        Target {
            namespace: "prod".to_owned(),
            name: "web".to_owned(),
        }
    }

    fn with(annotations: &serde_json::Value) -> Deployment {
        serde_json::from_value(json!({"metadata": {"name": "web", "annotations": annotations}}))
            .unwrap()
    }

    fn source(sequence: u64) -> Source {
        Source {
            sequence,
            revision: format!("{sequence:040x}"),
        }
    }

    #[test]
    fn sequences_are_plain_non_negative_integers() {
        assert_eq!(parse_sequence("0"), Some(0));
        assert_eq!(parse_sequence("0042"), Some(42));
        assert_eq!(parse_sequence("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.0",
            "1e3",
            "١",
            "18446744073709551616",
        ] {
            assert_eq!(parse_sequence(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_a_higher_recorded_sequence_is_newer() {
        let live = with(&json!({SEQUENCE_ANNOTATION: "12", REVISION_ANNOTATION: "abc"}));
        let newer = source(10).newer_on(&live, &target()).unwrap();
        assert_eq!(
            newer,
            Some(Source {
                sequence: 12,
                revision: "abc".to_owned()
            })
        );
        assert_eq!(source(12).newer_on(&live, &target()).unwrap(), None);
        assert_eq!(source(13).newer_on(&live, &target()).unwrap(), None);
        assert!(source(12).is_recorded_on(&live, &target()).unwrap());
        assert!(source(11).is_recorded_on(&live, &target()).unwrap());
        assert!(!source(13).is_recorded_on(&live, &target()).unwrap());
        let none = with(&json!({"kubernetes.io/change-cause": "kubectl"}));
        assert_eq!(source(0).newer_on(&none, &target()).unwrap(), None);
        assert!(!source(0).is_recorded_on(&none, &target()).unwrap());
    }

    #[test]
    fn a_sequence_without_revision_is_still_ordered() {
        let live = with(&json!({SEQUENCE_ANNOTATION: "7"}));
        let newer = source(3).newer_on(&live, &target()).unwrap().unwrap();
        assert_eq!(newer.to_string(), "sequence 7 (no revision recorded)");
    }

    #[test]
    fn a_garbled_recorded_sequence_is_an_error_naming_it() {
        let live = with(&json!({SEQUENCE_ANNOTATION: "twelve"}));
        let error = source(3).newer_on(&live, &target()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "deployment prod/web has annotation gantry.dev/source-sequence=`twelve`, which is not a non-negative integer, so the order of deploys cannot be told; correct it (kubectl annotate --overwrite deployment/web -n prod gantry.dev/source-sequence=<number>) and run again"
        );
    }

    #[test]
    fn the_annotations_record_both_values() {
        assert_eq!(
            source(5).annotations(),
            BTreeMap::from([
                (SEQUENCE_ANNOTATION.to_owned(), "5".to_owned()),
                (REVISION_ANNOTATION.to_owned(), format!("{:040x}", 5)),
            ])
        );
    }
}
