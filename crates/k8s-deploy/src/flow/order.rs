//! The source order inside the deploy: the superseded ending (a notice, nothing changed in any
//! Deployment of the set when one of them records a newer source), and a newer source recorded on
//! a Deployment that already runs the image, so that a run of an older source cannot put another
//! image back later. The comparison itself is `gantry_kube::source`.

use gantry_kube::Error;
use gantry_kube::deployment::{self, ImageChange, Written};
use gantry_kube::source::Source;
use gantry_runner::Annotation;
use k8s_openapi::api::apps::v1::Deployment;

use super::{Conclusion, Deploy};

impl Deploy<'_, '_> {
    /// Whether any Deployment of the set (as read) records a newer source than this run's; if so
    /// the whole set is left alone, every Deployment reported as superseded, with a notice.
    pub(super) fn newer_source_on(&mut self, befores: &[Deployment]) -> Result<bool, Error> {
        let Some(ours) = &self.settings.source else {
            return Ok(false);
        };
        let mut newer = Vec::new();
        for (unit, before) in befores.iter().enumerate() {
            if let Some(live) = ours.newer_on(before, &self.units[unit].target)? {
                newer.push((unit, live));
            }
        }
        if newer.is_empty() {
            return Ok(false);
        }
        for (unit, live) in newer {
            self.superseded(unit, live);
        }
        for unit in &mut self.units {
            unit.report.conclusion = Conclusion::Superseded;
        }
        Ok(true)
    }

    /// One Deployment records a newer source: a notice says why nothing was changed.
    fn superseded(&mut self, unit: usize, live: Source) {
        let ours = self
            .settings
            .source
            .as_ref()
            .map_or_else(String::new, |ours| {
                format!(", newer than this run's {ours}")
            });
        let rest = match self.units.len() {
            1 => String::new(),
            _ => format!(
                " in any of {}",
                self.units
                    .iter()
                    .map(|unit| unit.target.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.console.notice(
            &format!(
                "{} not deployed to {}: it records source {live}{ours}; a newer deploy came first, so nothing was changed{rest}",
                self.settings.image, self.units[unit].target
            ),
            &Annotation::titled("k8s-deploy: superseded"),
        );
        self.units[unit].report.newer_source = Some(live);
    }

    /// A write found a newer source that a racing deploy recorded after our read: with nothing
    /// patched yet, the set ends superseded (`Ok`); after patches to earlier Deployments of the
    /// set, it is a failure that undoes them (`Err`, the message).
    pub(super) fn raced(
        &mut self,
        unit: usize,
        live: Source,
    ) -> Result<Option<super::Watch>, String> {
        if self.units.iter().any(|unit| unit.patch_sent) {
            let message = format!(
                "it records source {live}, newer than this run's: a newer deploy raced this one"
            );
            self.units[unit].report.newer_source = Some(live);
            return Err(message);
        }
        self.superseded(unit, live);
        for unit in &mut self.units {
            unit.report.conclusion = Conclusion::Superseded;
        }
        Ok(None)
    }

    /// The container already runs the image, from an older source (or none): records this run's
    /// source on the Deployment (annotations only; the pod template and the rollout are not
    /// touched), so that a run of an older source cannot go back later. Not in a dry-run.
    pub(super) async fn record_source(
        &mut self,
        unit: usize,
        before: &Deployment,
        container: &str,
    ) -> Result<Written, Error> {
        let unchanged = || Ok(Written::Applied(Box::new(before.clone())));
        let target = self.units[unit].target.clone();
        let Some(source) = &self.settings.source else {
            return unchanged();
        };
        if source.is_recorded_on(before, &target)? {
            return unchanged();
        }
        if self.settings.dry_run.is_some() {
            self.console.info(&format!(
                "A deploy would record source {source} on {target} (annotations only)"
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
        let written = deployment::set_image(self.client, &target, before, &change, false).await?;
        self.timeline.phase("record source", start, false);
        if let Written::Applied(_) = &written {
            self.console.info(&format!(
                "Recorded source {source} on {target} (annotations only; the pod template is unchanged)"
            ));
        }
        Ok(written)
    }
}
