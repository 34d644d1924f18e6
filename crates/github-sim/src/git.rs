//! Content-addressed git objects (blobs, trees, commits) with real git SHA-1 ids, so every
//! change the simulator makes is a genuine commit that a client can compare with `git hash-object`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sha1::{Digest, Sha1};

/// A 20-byte git object id, shown as 40 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha(pub [u8; 20]);

impl Sha {
    /// Hashes `kind len\0body`, the way git names an object.
    pub fn of_object(kind: &str, body: &[u8]) -> Sha {
        let mut h = Sha1::new();
        h.update(kind.as_bytes());
        h.update(b" ");
        h.update(body.len().to_string().as_bytes());
        h.update([0u8]);
        h.update(body);
        Sha(h.finalize().into())
    }

    pub fn hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha({self})")
    }
}

impl serde::Serialize for Sha {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The text was not 40 hex characters.
#[derive(Debug, thiserror::Error)]
#[error("not a 40-hex object id: {0:?}")]
pub struct BadSha(pub String);

impl FromStr for Sha {
    type Err = BadSha;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 40 {
            return Err(BadSha(s.to_owned()));
        }
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| BadSha(s.to_owned()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| BadSha(s.to_owned()))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Sha(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Name, email and time (unix seconds) of an author or committer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: Arc<str>,
    pub email: Arc<str>,
    pub time: i64,
}

/// A commit object.
#[derive(Clone, Debug)]
pub struct Commit {
    pub tree: Sha,
    pub parents: Vec<Sha>,
    pub author: Signature,
    pub committer: Signature,
    pub message: Box<str>,
}

impl Commit {
    fn encode(&self) -> Vec<u8> {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "tree {}", self.tree);
        for p in &self.parents {
            let _ = writeln!(s, "parent {p}");
        }
        for (role, sig) in [("author", &self.author), ("committer", &self.committer)] {
            let _ = writeln!(s, "{role} {} <{}> {} +0000", sig.name, sig.email, sig.time);
        }
        s.push('\n');
        s.push_str(&self.message);
        s.into_bytes()
    }
}

/// An annotated tag object.
#[derive(Clone, Debug)]
pub struct TagObject {
    /// The tagged object (a commit, or another tag).
    pub object: Sha,
    pub tag: Box<str>,
    pub tagger: Signature,
    pub message: Box<str>,
}

impl TagObject {
    fn encode(&self, kind: &str) -> Vec<u8> {
        let t = &self.tagger;
        format!(
            "object {}\ntype {kind}\ntag {}\ntagger {} <{}> {} +0000\n\n{}",
            self.object, self.tag, t.name, t.email, t.time, self.message
        )
        .into_bytes()
    }
}

/// One entry of a tree object.
#[derive(Clone, Debug)]
struct TreeEntry {
    name: Box<str>,
    is_tree: bool,
    sha: Sha,
}

#[derive(Clone, Debug)]
/// Boxed variants keep the map's entries small: 100,000 commits must fit in well under 100 MB.
enum Object {
    Blob(Arc<[u8]>),
    Tree(Box<[TreeEntry]>),
    Commit(Box<Commit>),
    Tag(Box<TagObject>),
}

/// Path → blob id: the flattened content of a tree.
pub type Files = BTreeMap<String, Sha>;

/// The object database shared by all repositories of a world.
#[derive(Default)]
pub struct ObjectStore {
    objects: HashMap<Sha, Object>,
}

impl ObjectStore {
    pub fn put_blob(&mut self, content: &[u8]) -> Sha {
        let sha = Sha::of_object("blob", content);
        self.objects
            .entry(sha)
            .or_insert_with(|| Object::Blob(Arc::from(content)));
        sha
    }

    pub fn blob(&self, sha: &Sha) -> Option<&[u8]> {
        match self.objects.get(sha) {
            Some(Object::Blob(b)) => Some(b),
            _ => None,
        }
    }

    pub fn commit(&self, sha: &Sha) -> Option<&Commit> {
        match self.objects.get(sha) {
            Some(Object::Commit(c)) => Some(c),
            _ => None,
        }
    }

    pub fn tag(&self, sha: &Sha) -> Option<&TagObject> {
        match self.objects.get(sha) {
            Some(Object::Tag(t)) => Some(t),
            _ => None,
        }
    }

    /// Writes an annotated tag object pointing at a commit or another tag.
    pub fn put_tag(&mut self, tag: TagObject) -> Sha {
        let kind = self.kind(&tag.object).unwrap_or("commit");
        let sha = Sha::of_object("tag", &tag.encode(kind));
        self.objects
            .entry(sha)
            .or_insert_with(|| Object::Tag(Box::new(tag)));
        sha
    }

    /// The git type of an object: `blob`, `tree`, `commit` or `tag`.
    pub fn kind(&self, sha: &Sha) -> Option<&'static str> {
        Some(match self.objects.get(sha)? {
            Object::Blob(_) => "blob",
            Object::Tree(_) => "tree",
            Object::Commit(_) => "commit",
            Object::Tag(_) => "tag",
        })
    }

    /// Follows annotated tags down to the object they finally name.
    pub fn peel(&self, sha: &Sha) -> Sha {
        let mut cur = *sha;
        for _ in 0..16 {
            match self.tag(&cur) {
                Some(t) => cur = t.object,
                None => break,
            }
        }
        cur
    }

    pub fn put_commit(&mut self, commit: Commit) -> Sha {
        let sha = Sha::of_object("commit", &commit.encode());
        self.objects
            .entry(sha)
            .or_insert_with(|| Object::Commit(Box::new(commit)));
        sha
    }

    /// Writes nested tree objects for a flat path → blob map and returns the root tree id.
    pub fn write_tree(&mut self, files: &Files) -> Sha {
        let mut root: BTreeMap<String, Node> = BTreeMap::new();
        for (path, sha) in files {
            insert_node(&mut root, path, *sha);
        }
        self.write_nodes(&root)
    }

    fn write_nodes(&mut self, nodes: &BTreeMap<String, Node>) -> Sha {
        let mut entries: Vec<TreeEntry> = nodes
            .iter()
            .map(|(name, node)| match node {
                Node::File(sha) => TreeEntry {
                    name: name.as_str().into(),
                    is_tree: false,
                    sha: *sha,
                },
                Node::Dir(children) => TreeEntry {
                    name: name.as_str().into(),
                    is_tree: true,
                    sha: self.write_nodes(children),
                },
            })
            .collect();
        // git sorts tree entries as if directory names ended in '/'.
        entries.sort_by_key(sort_key);
        let mut body = Vec::new();
        for e in &entries {
            body.extend_from_slice(if e.is_tree { b"40000 " } else { b"100644 " });
            body.extend_from_slice(e.name.as_bytes());
            body.push(0);
            body.extend_from_slice(&e.sha.0);
        }
        let sha = Sha::of_object("tree", &body);
        self.objects
            .entry(sha)
            .or_insert_with(|| Object::Tree(entries.into_boxed_slice()));
        sha
    }

    /// Flattens a tree into path → blob id.
    pub fn files(&self, tree: &Sha) -> Files {
        let mut out = Files::new();
        self.flatten_into(tree, "", &mut out);
        out
    }

    fn flatten_into(&self, tree: &Sha, prefix: &str, out: &mut Files) {
        if let Some(Object::Tree(entries)) = self.objects.get(tree) {
            for e in entries {
                let path = if prefix.is_empty() {
                    e.name.to_string()
                } else {
                    format!("{prefix}/{}", e.name)
                };
                if e.is_tree {
                    self.flatten_into(&e.sha, &path, out);
                } else {
                    out.insert(path, e.sha);
                }
            }
        }
    }

    /// The files of a commit.
    pub fn commit_files(&self, commit: &Sha) -> Files {
        self.commit(commit)
            .map(|c| self.files(&c.tree))
            .unwrap_or_default()
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    pub fn is_ancestor(&self, ancestor: &Sha, descendant: &Sha) -> bool {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([*descendant]);
        while let Some(sha) = queue.pop_front() {
            if sha == *ancestor {
                return true;
            }
            if !seen.insert(sha) {
                continue;
            }
            if let Some(c) = self.commit(&sha) {
                queue.extend(c.parents.iter().copied());
            }
        }
        false
    }

    /// The nearest common ancestor of two commits, if any.
    pub fn merge_base(&self, a: &Sha, b: &Sha) -> Option<Sha> {
        let mut from_a = HashSet::new();
        let mut queue = VecDeque::from([*a]);
        while let Some(sha) = queue.pop_front() {
            if from_a.insert(sha)
                && let Some(c) = self.commit(&sha)
            {
                queue.extend(c.parents.iter().copied());
            }
        }
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([*b]);
        while let Some(sha) = queue.pop_front() {
            if from_a.contains(&sha) {
                return Some(sha);
            }
            if seen.insert(sha)
                && let Some(c) = self.commit(&sha)
            {
                queue.extend(c.parents.iter().copied());
            }
        }
        None
    }

    /// Commits reachable from `head` but not from `base`, oldest first (first-parent order).
    pub fn commits_between(&self, base: &Sha, head: &Sha) -> Vec<Sha> {
        let mut out = Vec::new();
        let mut cur = Some(*head);
        while let Some(sha) = cur {
            if self.is_ancestor(&sha, base) {
                break;
            }
            out.push(sha);
            cur = self.commit(&sha).and_then(|c| c.parents.first().copied());
        }
        out.reverse();
        out
    }

    /// A file-level three-way merge of `ours` and `theirs`; `None` on a conflict.
    pub fn merge_files(&self, base: Option<&Sha>, ours: &Sha, theirs: &Sha) -> Option<Files> {
        let base_files = base.map(|b| self.commit_files(b)).unwrap_or_default();
        let our_files = self.commit_files(ours);
        let their_files = self.commit_files(theirs);
        three_way(&base_files, &our_files, &their_files)
    }

    /// Whether each commit of `base..head` replays cleanly onto `onto` (GitHub's `rebaseable`).
    pub fn can_rebase(&self, base: Option<&Sha>, onto: &Sha, head: &Sha) -> bool {
        let stop = base.copied().unwrap_or(*onto);
        let mut current = self.commit_files(onto);
        for sha in self.commits_between(&stop, head) {
            let Some(c) = self.commit(&sha) else {
                return false;
            };
            let parent = c
                .parents
                .first()
                .map(|p| self.commit_files(p))
                .unwrap_or_default();
            match three_way(&parent, &current, &self.files(&c.tree)) {
                Some(next) => current = next,
                None => return false,
            }
        }
        true
    }

    /// Lines added, lines removed and files changed from commit `from` to commit `to`, counted
    /// as `git diff --numstat` does (a binary file counts as changed, with no lines).
    pub fn diff_stats(&self, from: &Sha, to: &Sha) -> DiffStats {
        let (old, new) = (self.commit_files(from), self.commit_files(to));
        let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let mut stats = DiffStats::default();
        for path in paths {
            let (a, b) = (old.get(path), new.get(path));
            if a == b {
                continue;
            }
            stats.changed_files += 1;
            let text = |sha: Option<&Sha>| {
                sha.and_then(|s| self.blob(s)).map_or_else(
                    || Ok(String::new()),
                    |bytes| String::from_utf8(bytes.to_vec()),
                )
            };
            let (Ok(a), Ok(b)) = (text(a), text(b)) else {
                continue;
            };
            for change in similar::TextDiff::from_lines(&a, &b).iter_all_changes() {
                match change.tag() {
                    similar::ChangeTag::Insert => stats.additions += 1,
                    similar::ChangeTag::Delete => stats.deletions += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        stats
    }
}

/// What a pull request's diff adds up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffStats {
    pub additions: usize,
    pub deletions: usize,
    pub changed_files: usize,
}

/// Merges file maps path by path: a side that did not change a path yields to the one that did.
pub fn three_way(base: &Files, ours: &Files, theirs: &Files) -> Option<Files> {
    let mut out = Files::new();
    let paths: std::collections::BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let merged = if o == t || t == b {
            o
        } else if o == b {
            t
        } else {
            return None;
        };
        if let Some(sha) = merged {
            out.insert(path.clone(), *sha);
        }
    }
    Some(out)
}

enum Node {
    File(Sha),
    Dir(BTreeMap<String, Node>),
}

fn insert_node(nodes: &mut BTreeMap<String, Node>, path: &str, sha: Sha) {
    match path.split_once('/') {
        None => {
            nodes.insert(path.to_owned(), Node::File(sha));
        }
        Some((dir, rest)) => {
            let entry = nodes
                .entry(dir.to_owned())
                .or_insert_with(|| Node::Dir(BTreeMap::new()));
            if let Node::File(_) = entry {
                *entry = Node::Dir(BTreeMap::new());
            }
            if let Node::Dir(children) = entry {
                insert_node(children, rest, sha);
            }
        }
    }
}

fn sort_key(e: &TreeEntry) -> Vec<u8> {
    let mut k = e.name.as_bytes().to_vec();
    if e.is_tree {
        k.push(b'/');
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_and_tree_ids_match_git() {
        let mut store = ObjectStore::default();
        // `printf 'hello\n' | git hash-object --stdin`
        let blob = store.put_blob(b"hello\n");
        assert_eq!(blob.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
        // The empty tree every git user has seen.
        assert_eq!(
            store.write_tree(&Files::new()).hex(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
    }

    #[test]
    fn three_way_merge_detects_conflicts() {
        let mut s = ObjectStore::default();
        let (a, b, c) = (s.put_blob(b"a"), s.put_blob(b"b"), s.put_blob(b"c"));
        let base = Files::from([("f".into(), a)]);
        let ours = Files::from([("f".into(), b)]);
        let theirs = Files::from([("f".into(), a), ("g".into(), c)]);
        let merged = three_way(&base, &ours, &theirs).unwrap();
        assert_eq!(merged.get("f"), Some(&b));
        assert_eq!(merged.get("g"), Some(&c));
        let conflicting = Files::from([("f".into(), c)]);
        assert!(three_way(&base, &ours, &conflicting).is_none());
    }

    #[test]
    fn sha_round_trips_through_hex() {
        let sha: Sha = "ce013625030ba8dba906f756967f9e9ca394464a".parse().unwrap();
        assert_eq!(sha.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
        assert!("xyz".parse::<Sha>().is_err());
    }
}
