//! The source order inside the deploy: the superseded ending (a notice, nothing changed), and a
//! newer source recorded on a Deployment that already runs the image, so that a run of an older
//! source cannot put another image back later. The comparison itself is `gantry_kube::source`.

use gantry_kube::Error;
use gantry_kube::deployment::{self, ImageChange, Written};
use gantry_kube::source::Source;
use gantry_runner::Annotation;
use k8s_openapi::api::apps::v1::Deployment;

use super::{Conclusion, Deploy, Report};

impl Deploy<'_, '_> {
    /// The Deployment records a newer source: nothing is changed, and a notice says why.
    pub(super) fn superseded(&mut self, mut report: Report, live: Source) -> Report {
        let ours = report.source.as_ref().map_or_else(String::new, |ours| {
            format!(", newer than this run's {ours}")
        });
        self.console.notice(
            &format!(
                "{} not deployed to {}: it records source {live}{ours}; a newer deploy came first, so nothing was changed",
                self.settings.image, self.target
            ),
            &Annotation::titled("k8s-deploy: superseded"),
        );
        report.conclusion = Conclusion::Superseded;
        report.newer_source = Some(live);
        report
    }

    /// The container already runs the image, from an older source (or none): records this run's
    /// source on the Deployment (annotations only; the pod template and the rollout are not
    /// touched), so that a run of an older source cannot go back later. Not in a dry-run.
    pub(super) async fn record_source(
        &mut self,
        before: &Deployment,
        container: &str,
    ) -> Result<Written, Error> {
        let unchanged = || Ok(Written::Applied(Box::new(before.clone())));
        let Some(source) = &self.settings.source else {
            return unchanged();
        };
        if source.is_recorded_on(before, self.target)? {
            return unchanged();
        }
        if self.settings.dry_run.is_some() {
            self.console.info(&format!(
                "A deploy would record source {source} on {} (annotations only)",
                self.target
            ));
            return unchanged();
        }
        let change = ImageChange {
            container: container.to_owned(),
            image: self.settings.image.clone(),
            annotations: std::collections::BTreeMap::new(),
            source: Some(source.clone()),
        };
        let start = self.timeline.elapsed();
        let written =
            deployment::set_image(self.client, self.target, before, &change, false).await?;
        self.timeline.phase("record source", start, false);
        if let Written::Applied(_) = &written {
            self.console.info(&format!(
                "Recorded source {source} on {} (annotations only; the pod template is unchanged)",
                self.target
            ));
        }
        Ok(written)
    }
}
