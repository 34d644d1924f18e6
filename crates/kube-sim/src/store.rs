//! The object store: every object keyed by resource/namespace/name, one global monotonic
//! `resourceVersion`, and a bounded history of changes per resource type (as the API server's
//! watch cache keeps one per resource) from which watches resume.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::resources::Resource;

/// Identifies one object. `namespace` is empty for cluster-scoped objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjKey {
    pub resource: Resource,
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(resource: Resource, namespace: &str, name: &str) -> Self {
        Self {
            resource,
            namespace: if resource.namespaced() {
                namespace.to_owned()
            } else {
                String::new()
            },
            name: name.to_owned(),
        }
    }

    /// The key of a stored object value.
    pub fn of(resource: Resource, obj: &Value) -> Self {
        Self::new(resource, meta_str(obj, "namespace"), meta_str(obj, "name"))
    }
}

/// What happened to an object, as a watch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One recorded change: the object as it was right after the change, serialised once (watchers
/// share the bytes) with its labels kept for selector matching.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeType,
    pub key: ObjKey,
    pub json: bytes::Bytes,
    pub labels: BTreeMap<String, String>,
    /// For MODIFIED: the labels before the change, so that label-selector watches can report an
    /// object entering (ADDED) or leaving (DELETED) their selection, as the real watch cache does.
    pub prev_labels: Option<BTreeMap<String, String>>,
}

impl Change {
    /// The object, parsed back from its serialised form.
    pub fn object(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// The object store.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<ObjKey, Value>,
    rv: u64,
    /// Per resource type: the retained changes, and the lowest resourceVersion a watch of that
    /// type can still resume from (every change of that type after it is retained).
    history: HashMap<Resource, History>,
    history_cap: usize,
    /// The resourceVersion of the last [`Store::compact`].
    compacted_rv: u64,
    tx: broadcast::Sender<Arc<Change>>,
    dirty: Vec<ObjKey>,
}

#[derive(Debug, Default)]
struct History {
    changes: VecDeque<Arc<Change>>,
    compacted_rv: u64,
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Store {
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(history_cap.clamp(1024, 16_384));
        Self {
            objects: BTreeMap::new(),
            rv: 1000,
            history: HashMap::new(),
            history_cap: history_cap.max(1),
            compacted_rv: 1000,
            tx,
            dirty: Vec::new(),
        }
    }

    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Lowest resourceVersion a watch of `resource` can resume from.
    pub fn compacted_rv(&self, resource: Resource) -> u64 {
        self.history
            .get(&resource)
            .map_or(self.compacted_rv, |h| h.compacted_rv.max(self.compacted_rv))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Changes of `resource` after `rv`, or `None` when `rv` is older than its retained history.
    pub fn changes_since(&self, resource: Resource, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.compacted_rv(resource) {
            return None;
        }
        Some(self.history.get(&resource).map_or_else(Vec::new, |h| {
            h.changes.iter().filter(|c| c.rv > rv).cloned().collect()
        }))
    }

    /// Forgets history so that any watch resuming from before now gets 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of `resource`, in one namespace or all, sorted by namespace and name.
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<&Value> {
        let start = ObjKey {
            resource,
            namespace: namespace.unwrap_or("").to_owned(),
            name: String::new(),
        };
        self.objects
            .range(start..)
            .take_while(|(k, _)| {
                k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v)
            .collect()
    }

    pub fn take_dirty(&mut self) -> Vec<ObjKey> {
        std::mem::take(&mut self.dirty)
    }

    fn record(&mut self, kind: ChangeType, key: ObjKey, object: &Value, prev: Option<&Value>) {
        let json = bytes::Bytes::from(serde_json::to_vec(object).unwrap_or_default());
        let labels = crate::selectors::labels_of(object);
        let prev_labels = prev.map(crate::selectors::labels_of);
        let change = Arc::new(Change {
            rv: self.rv,
            kind,
            key: key.clone(),
            json,
            labels,
            prev_labels,
        });
        let history = self.history.entry(key.resource).or_insert_with(|| History {
            changes: VecDeque::new(),
            compacted_rv: self.compacted_rv,
        });
        history.changes.push_back(Arc::clone(&change));
        while history.changes.len() > self.history_cap {
            if let Some(old) = history.changes.pop_front() {
                history.compacted_rv = old.rv;
            }
        }
        self.dirty.push(key);
        let _ = self.tx.send(change);
    }

    /// Stores a new object (metadata already complete except resourceVersion). The caller has
    /// checked that it does not exist.
    pub fn insert(&mut self, resource: Resource, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let key = ObjKey::of(resource, &obj);
        self.objects.insert(key.clone(), obj.clone());
        self.record(ChangeType::Added, key, &obj, None);
        obj
    }

    /// Replaces an existing object, assigning the next resourceVersion.
    pub fn replace(&mut self, resource: Resource, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let key = ObjKey::of(resource, &obj);
        let prev = self.objects.insert(key.clone(), obj.clone());
        self.record(ChangeType::Modified, key, &obj, prev.as_ref());
        obj
    }

    pub fn remove(&mut self, key: &ObjKey) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record(ChangeType::Deleted, key.clone(), &obj, None);
        Some(obj)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}
