//! `POST /graphql`: the part of GitHub's GraphQL API a merge-queue client needs (enqueue,
//! dequeue, a pull request's queue state and timeline, a branch's queue), answered in GraphQL's
//! `data`/`errors` shape. Documents are parsed by `graphql-parser`, checked against the small
//! schema below (unknown fields are errors worded as GitHub words them) and executed against the
//! world with the same permissions as REST.

use graphql_parser::query as q;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, Reply, forbidden};
use crate::clock::iso;
use crate::json::{name_id, node_id, parse_node_id};
use crate::merge_queue::{self, Entry, TimelineEvent};
use crate::spec::{Access, MergeQueueSpec, RepoPermissions};
use crate::world::{PullState, World};

type Doc<'a> = q::Document<'a, &'a str>;
type Selections<'a> = q::SelectionSet<'a, &'a str>;
type Field<'a> = q::Field<'a, &'a str>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
    operation_name: Option<String>,
}

/// `POST /graphql`
pub fn serve(world: &mut World, ctx: &Ctx<'_>) -> Outcome {
    let request: Request = ctx.json()?;
    let Some(text) = request.query else {
        return Ok(reply(json!({"errors": [{
            "message": "A query attribute must be specified and must be a string."
        }]})));
    };
    let doc: Doc<'_> = match q::parse_query(&text) {
        Ok(doc) => doc,
        Err(e) => {
            let detail = e.to_string();
            let detail = detail.trim_start_matches("query parse error: ").trim();
            return Ok(reply(
                json!({"errors": [{"message": format!("Parse error: {detail}")}]}),
            ));
        }
    };
    let Some((kind, vars_defs, selections)) = operation(&doc, request.operation_name.as_deref())
    else {
        return Ok(reply(json!({"errors": [{
            "message": "An operation name is required when the document has several operations."
        }]})));
    };
    let mut exec = Exec {
        doc: &doc,
        vars: variables(vars_defs, request.variables.unwrap_or_default()),
        errors: Vec::new(),
    };
    let root = if kind == Kind::Mutation {
        "Mutation"
    } else {
        "Query"
    };
    let path = vec![Value::from(kind.word())];
    exec.validate(root, selections, &path, 0);
    if !exec.errors.is_empty() {
        return Ok(reply(json!({"errors": exec.errors})));
    }
    let data = exec.select(world, ctx, &Obj::Root(kind), selections, &[]);
    if kind == Kind::Mutation {
        // The queue reacts at once (groups built, the ones behind rebuilt); the payload shows
        // the entry as the mutation left it.
        world.tick();
    }
    let mut body = json!({"data": data});
    if !exec.errors.is_empty() {
        body["errors"] = Value::Array(exec.errors);
    }
    Ok(reply(body))
}

fn reply(body: Value) -> Reply {
    Reply::Json(StatusCode::OK, body)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Query,
    Mutation,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
        }
    }
}

type VarDefs<'a> = [q::VariableDefinition<'a, &'a str>];

/// The operation to run: the one named, or the only one.
fn operation<'d, 'a>(
    doc: &'d Doc<'a>,
    name: Option<&str>,
) -> Option<(Kind, &'d VarDefs<'a>, &'d Selections<'a>)> {
    let ops: Vec<(Option<&str>, Kind, &VarDefs<'a>, &Selections<'a>)> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            q::Definition::Operation(q::OperationDefinition::SelectionSet(s)) => {
                Some((None, Kind::Query, &[][..], s))
            }
            q::Definition::Operation(q::OperationDefinition::Query(o)) => Some((
                o.name,
                Kind::Query,
                &o.variable_definitions[..],
                &o.selection_set,
            )),
            q::Definition::Operation(q::OperationDefinition::Mutation(o)) => Some((
                o.name,
                Kind::Mutation,
                &o.variable_definitions[..],
                &o.selection_set,
            )),
            _ => None,
        })
        .collect();
    let pick = match name {
        Some(n) => ops.into_iter().find(|o| o.0 == Some(n)),
        None if ops.len() == 1 => ops.into_iter().next(),
        None => None,
    };
    pick.map(|(_, kind, defs, sel)| (kind, defs, sel))
}

/// The request's variables, with the operation's defaults for those not given.
fn variables(defs: &VarDefs<'_>, mut given: Map<String, Value>) -> Map<String, Value> {
    for d in defs {
        if !given.contains_key(d.name)
            && let Some(default) = &d.default_value
        {
            let v = to_json(default, &Map::new());
            given.insert(d.name.to_owned(), v);
        }
    }
    given
}

fn to_json<'a>(v: &q::Value<'a, &'a str>, vars: &Map<String, Value>) -> Value {
    match v {
        q::Value::Variable(name) => vars.get(*name).cloned().unwrap_or(Value::Null),
        q::Value::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        q::Value::Float(f) => json!(f),
        q::Value::String(s) => Value::from(s.as_str()),
        q::Value::Boolean(b) => Value::from(*b),
        q::Value::Null => Value::Null,
        q::Value::Enum(e) => Value::from(*e),
        q::Value::List(items) => items.iter().map(|i| to_json(i, vars)).collect(),
        q::Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| ((*k).to_owned(), to_json(v, vars)))
                .collect(),
        ),
    }
}

/// The schema: (types, fields, type of those fields; list fields give their item type).
const SCHEMA: &[(&[&str], &[&str], &str)] = &[
    (&["Query"], &["repository"], "Repository"),
    (&["Query"], &["node"], "Node"),
    (
        &["Mutation"],
        &["enqueuePullRequest"],
        "EnqueuePullRequestPayload",
    ),
    (
        &["Mutation"],
        &["dequeuePullRequest"],
        "DequeuePullRequestPayload",
    ),
    (
        &["EnqueuePullRequestPayload", "DequeuePullRequestPayload"],
        &["mergeQueueEntry"],
        "MergeQueueEntry",
    ),
    (
        &["EnqueuePullRequestPayload", "DequeuePullRequestPayload"],
        &["clientMutationId"],
        "String",
    ),
    (
        &[
            "Node",
            "Repository",
            "PullRequest",
            "MergeQueueEntry",
            "MergeQueue",
            "AddedToMergeQueueEvent",
            "RemovedFromMergeQueueEvent",
            "Commit",
        ],
        &["id"],
        "ID",
    ),
    (&["Repository"], &["name", "nameWithOwner"], "String"),
    (&["Repository"], &["pullRequest"], "PullRequest"),
    (&["Repository"], &["mergeQueue"], "MergeQueue"),
    (&["PullRequest"], &["number"], "Int"),
    (
        &["PullRequest"],
        &["title", "headRefName", "baseRefName"],
        "String",
    ),
    (&["PullRequest"], &["url"], "URI"),
    (&["PullRequest"], &["state"], "PullRequestState"),
    (
        &["PullRequest"],
        &["merged", "isDraft", "isInMergeQueue"],
        "Boolean",
    ),
    (&["PullRequest"], &["mergedAt"], "DateTime"),
    (&["PullRequest"], &["mergeCommit"], "Commit"),
    (&["PullRequest"], &["headRefOid"], "GitObjectID"),
    (&["PullRequest"], &["mergedBy"], "Actor"),
    (&["PullRequest"], &["mergeQueueEntry"], "MergeQueueEntry"),
    (
        &["PullRequest"],
        &["timelineItems"],
        "PullRequestTimelineItemsConnection",
    ),
    (&["Commit"], &["oid"], "GitObjectID"),
    (&["Commit"], &["message"], "String"),
    (
        &["MergeQueueEntry"],
        &["position", "estimatedTimeToMerge"],
        "Int",
    ),
    (&["MergeQueueEntry"], &["state"], "MergeQueueEntryState"),
    (&["MergeQueueEntry"], &["enqueuedAt"], "DateTime"),
    (
        &["MergeQueueEntry"],
        &["headCommit", "baseCommit"],
        "Commit",
    ),
    (&["MergeQueueEntry"], &["pullRequest"], "PullRequest"),
    (&["MergeQueueEntry"], &["enqueuer"], "Actor"),
    (&["MergeQueueEntry"], &["jump", "solo"], "Boolean"),
    (&["MergeQueue"], &["entries"], "MergeQueueEntryConnection"),
    (
        &["MergeQueue"],
        &["configuration"],
        "MergeQueueConfiguration",
    ),
    (
        &["MergeQueueConfiguration"],
        &["mergeMethod"],
        "PullRequestMergeMethod",
    ),
    (
        &["MergeQueueConfiguration"],
        &["mergingStrategy"],
        "MergeQueueMergingStrategy",
    ),
    (
        &["MergeQueueConfiguration"],
        &[
            "maximumEntriesToBuild",
            "minimumEntriesToMerge",
            "maximumEntriesToMerge",
            "minimumEntriesToMergeWaitTime",
            "checkResponseTimeout",
        ],
        "Int",
    ),
    (
        &["MergeQueueEntryConnection"],
        &["nodes"],
        "MergeQueueEntry",
    ),
    (
        &["PullRequestTimelineItemsConnection"],
        &["nodes"],
        "PullRequestTimelineItems",
    ),
    (
        &[
            "MergeQueueEntryConnection",
            "PullRequestTimelineItemsConnection",
        ],
        &["totalCount"],
        "Int",
    ),
    (
        &["AddedToMergeQueueEvent", "RemovedFromMergeQueueEvent"],
        &["createdAt"],
        "DateTime",
    ),
    (
        &["AddedToMergeQueueEvent", "RemovedFromMergeQueueEvent"],
        &["actor", "enqueuer"],
        "Actor",
    ),
    (&["RemovedFromMergeQueueEvent"], &["reason"], "String"),
    (&["Actor", "User", "Bot"], &["login"], "String"),
];

/// The type of `field` on `ty`; `None` when there is no such field. `__typename` exists
/// everywhere.
fn field_type(ty: &str, field: &str) -> Option<&'static str> {
    if field == "__typename" {
        return Some("String");
    }
    SCHEMA
        .iter()
        .find(|(types, fields, _)| types.contains(&ty) && fields.contains(&field))
        .map(|(_, _, inner)| *inner)
}

/// Scalars and enums: they take no selections.
fn is_leaf(ty: &str) -> bool {
    matches!(
        ty,
        "String"
            | "ID"
            | "Int"
            | "Boolean"
            | "DateTime"
            | "URI"
            | "GitObjectID"
            | "PullRequestState"
            | "MergeQueueEntryState"
            | "PullRequestMergeMethod"
            | "MergeQueueMergingStrategy"
    )
}

/// What the executor resolves fields on.
#[derive(Clone)]
enum Obj {
    Root(Kind),
    Repo(String),
    Pull(String, u64),
    Entry(Box<EntryView>),
    Commit(String),
    Queue(String, String, MergeQueueSpec),
    Config(MergeQueueSpec),
    Event(TimelineEvent),
    Actor(u64),
    /// A mutation's payload: its type name, the entry, `clientMutationId`.
    Payload(&'static str, Option<Box<EntryView>>, Value),
    Entries(Vec<EntryView>),
    Timeline(Vec<TimelineEvent>, usize),
}

/// A queue entry as seen when it was resolved (a dequeued one is gone from the world).
#[derive(Clone)]
struct EntryView {
    entry: Entry,
    position: usize,
    state: &'static str,
}

impl EntryView {
    fn of(world: &World, entry: &Entry) -> EntryView {
        EntryView {
            entry: entry.clone(),
            position: world.merge_queues.position(entry),
            state: merge_queue::state(world, entry).as_str(),
        }
    }
}

impl Obj {
    fn typename(&self, world: &World) -> &'static str {
        match self {
            Obj::Root(Kind::Query) => "Query",
            Obj::Root(Kind::Mutation) => "Mutation",
            Obj::Repo(_) => "Repository",
            Obj::Pull(..) => "PullRequest",
            Obj::Entry(_) => "MergeQueueEntry",
            Obj::Commit(_) => "Commit",
            Obj::Queue(..) => "MergeQueue",
            Obj::Config(_) => "MergeQueueConfiguration",
            Obj::Event(e) if e.removed.is_some() => "RemovedFromMergeQueueEvent",
            Obj::Event(_) => "AddedToMergeQueueEvent",
            Obj::Actor(id)
                if world
                    .identities
                    .get(id)
                    .is_some_and(crate::world::Identity::is_app) =>
            {
                "Bot"
            }
            Obj::Actor(_) => "User",
            Obj::Payload(ty, ..) => ty,
            Obj::Entries(_) => "MergeQueueEntryConnection",
            Obj::Timeline(..) => "PullRequestTimelineItemsConnection",
        }
    }

    /// Whether a fragment on `condition` applies to this object.
    fn is_a(&self, world: &World, condition: &str) -> bool {
        let ty = self.typename(world);
        ty == condition
            || match condition {
                "Node" => !matches!(self, Obj::Root(_) | Obj::Config(_) | Obj::Entries(_)),
                "Actor" => matches!(self, Obj::Actor(_)),
                "PullRequestTimelineItems" => matches!(self, Obj::Event(_)),
                _ => false,
            }
    }
}

/// A field's result before its selections are applied.
enum Out {
    Leaf(Value),
    One(Obj),
    Many(Vec<Obj>),
}

/// A field error in GitHub's shape (`type`, `path`, `locations`, `message`).
struct FieldError {
    kind: &'static str,
    message: String,
}

impl FieldError {
    fn new(kind: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            kind,
            message: message.into(),
        }
    }
}

struct Exec<'d, 'a> {
    doc: &'d Doc<'a>,
    vars: Map<String, Value>,
    errors: Vec<Value>,
}

const MAX_DEPTH: usize = 20;

fn location(pos: graphql_parser::Pos) -> Value {
    json!([{"line": pos.line, "column": pos.column}])
}

impl<'d, 'a> Exec<'d, 'a> {
    fn fragment(&self, name: &str) -> Option<&'d q::FragmentDefinition<'a, &'a str>> {
        self.doc.definitions.iter().find_map(|d| match d {
            q::Definition::Fragment(f) if f.name == name => Some(f),
            _ => None,
        })
    }

    /// Checks every field against the schema, as GitHub does before running anything.
    fn validate(&mut self, ty: &str, set: &Selections<'a>, path: &[Value], depth: usize) {
        if depth > MAX_DEPTH {
            self.errors
                .push(json!({"message": "Query has depth greater than the maximum allowed"}));
            return;
        }
        for item in &set.items {
            match item {
                q::Selection::Field(f) => {
                    let mut here = path.to_vec();
                    here.push(Value::from(f.alias.unwrap_or(f.name)));
                    let Some(inner) = field_type(ty, f.name) else {
                        self.errors.push(json!({
                            "path": here,
                            "extensions": {"code": "undefinedField", "typeName": ty, "fieldName": f.name},
                            "locations": location(f.position),
                            "message": format!("Field '{}' doesn't exist on type '{ty}'", f.name),
                        }));
                        continue;
                    };
                    if is_leaf(inner) && !f.selection_set.items.is_empty() {
                        self.errors.push(json!({
                            "path": here,
                            "extensions": {"code": "selectionMismatch", "nodeName": format!("field '{}'", f.name), "typeName": inner},
                            "locations": location(f.position),
                            "message": format!("Selections can't be made on scalars (field '{}' returns {inner} but has selections [...])", f.name),
                        }));
                    } else if !is_leaf(inner) && f.selection_set.items.is_empty() {
                        self.errors.push(json!({
                            "path": here,
                            "extensions": {"code": "selectionMismatch", "nodeName": format!("field '{}'", f.name), "typeName": inner},
                            "locations": location(f.position),
                            "message": format!("Field must have selections (field '{}' returns {inner} but has no selections. Did you mean '{} {{ ... }}'?)", f.name, f.name),
                        }));
                    } else {
                        self.validate(inner, &f.selection_set, &here, depth + 1);
                    }
                }
                q::Selection::InlineFragment(i) => {
                    let on = match &i.type_condition {
                        Some(q::TypeCondition::On(t)) => t,
                        None => ty,
                    };
                    self.validate(on, &i.selection_set, path, depth + 1);
                }
                q::Selection::FragmentSpread(s) => match self.fragment(s.fragment_name) {
                    Some(f) => {
                        let q::TypeCondition::On(on) = f.type_condition;
                        self.validate(on, &f.selection_set, path, depth + 1);
                    }
                    None => self.errors.push(json!({
                        "locations": location(s.position),
                        "message": format!("Fragment {} was used, but not defined", s.fragment_name),
                    })),
                },
            }
        }
    }

    /// Applies a selection set to an object.
    fn select(
        &mut self,
        world: &mut World,
        ctx: &Ctx<'_>,
        obj: &Obj,
        set: &Selections<'a>,
        path: &[Value],
    ) -> Value {
        let mut out = Map::new();
        self.select_into(world, ctx, obj, set, path, &mut out, 0);
        Value::Object(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn select_into(
        &mut self,
        world: &mut World,
        ctx: &Ctx<'_>,
        obj: &Obj,
        set: &Selections<'a>,
        path: &[Value],
        out: &mut Map<String, Value>,
        depth: usize,
    ) {
        for item in &set.items {
            match item {
                q::Selection::Field(f) => {
                    let key = f.alias.unwrap_or(f.name);
                    let mut here = path.to_vec();
                    here.push(Value::from(key));
                    let v = self.field(world, ctx, obj, f, &here);
                    out.insert(key.to_owned(), v);
                }
                q::Selection::InlineFragment(i) => {
                    let applies = match &i.type_condition {
                        Some(q::TypeCondition::On(t)) => obj.is_a(world, t),
                        None => true,
                    };
                    if applies && depth < MAX_DEPTH {
                        self.select_into(world, ctx, obj, &i.selection_set, path, out, depth + 1);
                    }
                }
                q::Selection::FragmentSpread(s) => {
                    if let Some(f) = self.fragment(s.fragment_name) {
                        let q::TypeCondition::On(on) = f.type_condition;
                        if obj.is_a(world, on) && depth < MAX_DEPTH {
                            self.select_into(
                                world,
                                ctx,
                                obj,
                                &f.selection_set,
                                path,
                                out,
                                depth + 1,
                            );
                        }
                    }
                }
            }
        }
    }

    fn field(
        &mut self,
        world: &mut World,
        ctx: &Ctx<'_>,
        obj: &Obj,
        f: &Field<'a>,
        path: &[Value],
    ) -> Value {
        if f.name == "__typename" {
            return Value::from(obj.typename(world));
        }
        let args: Map<String, Value> = f
            .arguments
            .iter()
            .map(|(k, v)| ((*k).to_owned(), to_json(v, &self.vars)))
            .collect();
        match resolve(world, ctx, obj, f.name, &args) {
            Ok(Out::Leaf(v)) => v,
            Ok(Out::One(o)) => self.select(world, ctx, &o, &f.selection_set, path),
            Ok(Out::Many(items)) => items
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let mut here = path.to_vec();
                    here.push(Value::from(i));
                    self.select(world, ctx, o, &f.selection_set, &here)
                })
                .collect(),
            Err(e) => {
                self.errors.push(json!({
                    "type": e.kind,
                    "path": path,
                    "locations": location(f.position),
                    "message": e.message,
                }));
                Value::Null
            }
        }
    }
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "resolver arms all answer a Result"
)]
fn null() -> Result<Out, FieldError> {
    Ok(Out::Leaf(Value::Null))
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "resolver arms all answer a Result"
)]
fn leaf(v: impl Into<Value>) -> Result<Out, FieldError> {
    Ok(Out::Leaf(v.into()))
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "resolver arms all answer a Result"
)]
fn one(o: Option<Obj>) -> Result<Out, FieldError> {
    Ok(o.map_or(Out::Leaf(Value::Null), Out::One))
}

/// Applies `first`/`last` to a list.
fn window<T>(mut items: Vec<T>, args: &Map<String, Value>) -> Vec<T> {
    if let Some(first) = args.get("first").and_then(Value::as_u64) {
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    }
    if let Some(last) = args.get("last").and_then(Value::as_u64) {
        let keep = usize::try_from(last).unwrap_or(usize::MAX);
        let skip = items.len().saturating_sub(keep);
        items.drain(..skip);
    }
    items
}

/// The caller's permissions on `repo`, requiring `pick` at `need`.
fn permitted(
    world: &World,
    ctx: &Ctx<'_>,
    repo: &str,
    pick: fn(&RepoPermissions) -> Access,
    need: Access,
) -> Result<(), FieldError> {
    match world.access(ctx.who, repo) {
        None => Err(FieldError::new(
            "NOT_FOUND",
            format!("Could not resolve to a Repository with the name '{repo}'."),
        )),
        Some(p) if pick(&p) >= need => Ok(()),
        Some(_) => Err(FieldError::new("FORBIDDEN", forbidden(ctx.who).message)),
    }
}

fn resolve(
    world: &mut World,
    ctx: &Ctx<'_>,
    obj: &Obj,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Out, FieldError> {
    let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::to_owned);
    match (obj, name) {
        (Obj::Root(Kind::Query), "repository") => {
            let full = format!(
                "{}/{}",
                text("owner").unwrap_or_default(),
                text("name").unwrap_or_default()
            );
            let repo = world.canonical_repo(&full).unwrap_or(full);
            permitted(world, ctx, &repo, |p| p.contents, Access::None)?;
            one(Some(Obj::Repo(repo)))
        }
        (Obj::Root(Kind::Query), "node") => {
            let id = text("id").unwrap_or_default();
            node(world, ctx, &id).map(Out::One)
        }
        (Obj::Root(Kind::Mutation), "enqueuePullRequest") => enqueue(world, ctx, args),
        (Obj::Root(Kind::Mutation), "dequeuePullRequest") => dequeue(world, ctx, args),
        (Obj::Payload(_, entry, _), "mergeQueueEntry") => {
            one(entry.as_ref().map(|e| Obj::Entry(e.clone())))
        }
        (Obj::Payload(_, _, client_id), "clientMutationId") => leaf(client_id.clone()),
        (Obj::Repo(repo), _) => repository(world, ctx, repo, name, args),
        (Obj::Pull(repo, number), _) => pull(world, ctx, repo, *number, name, args),
        (Obj::Entry(view), _) => entry(view, name),
        (Obj::Commit(oid), "oid") => leaf(oid.as_str()),
        (Obj::Commit(oid), "id") => leaf(node_id("Commit", name_id(oid))),
        (Obj::Commit(oid), "message") => leaf(
            oid.parse()
                .ok()
                .and_then(|sha| world.objects.commit(&sha))
                .map(|c| c.message.to_string()),
        ),
        (Obj::Queue(repo, branch, _), "id") => {
            leaf(node_id("MergeQueue", name_id(&format!("{repo}:{branch}"))))
        }
        (Obj::Queue(repo, branch, _), "entries") => {
            let entries: Vec<EntryView> = world
                .merge_queues
                .queue(repo, branch)
                .map(|e| EntryView::of(world, e))
                .collect();
            one(Some(Obj::Entries(window(entries, args))))
        }
        (Obj::Queue(_, _, cfg), "configuration") => one(Some(Obj::Config(cfg.clone()))),
        (Obj::Config(cfg), _) => leaf(match name {
            "mergeMethod" => json!(cfg.merge_method.graphql()),
            "mergingStrategy" => json!(format!("{:?}", cfg.grouping_strategy).to_uppercase()),
            "maximumEntriesToBuild" => json!(cfg.max_entries_to_build),
            "minimumEntriesToMerge" => json!(cfg.min_entries_to_merge),
            "maximumEntriesToMerge" => json!(cfg.max_entries_to_merge),
            "minimumEntriesToMergeWaitTime" => json!(cfg.min_entries_to_merge_wait_minutes * 60),
            _ => json!(cfg.check_response_timeout_minutes * 60),
        }),
        (Obj::Entries(entries), "nodes") => Ok(Out::Many(
            entries
                .iter()
                .map(|e| Obj::Entry(Box::new(e.clone())))
                .collect(),
        )),
        (Obj::Entries(entries), "totalCount") => leaf(entries.len()),
        (Obj::Timeline(events, _), "nodes") => {
            Ok(Out::Many(events.iter().cloned().map(Obj::Event).collect()))
        }
        (Obj::Timeline(_, total), "totalCount") => leaf(*total),
        (Obj::Event(e), _) => event(world, e, name),
        (Obj::Actor(id), "login") => leaf(world.login_of(*id)),
        _ => null(),
    }
}

fn actor(world: &World, id: u64) -> Option<Obj> {
    world.identities.contains_key(&id).then_some(Obj::Actor(id))
}

fn event(world: &World, e: &TimelineEvent, name: &str) -> Result<Out, FieldError> {
    match name {
        "id" => {
            let kind = if e.removed.is_some() {
                "RemovedFromMergeQueueEvent"
            } else {
                "AddedToMergeQueueEvent"
            };
            leaf(node_id(kind, e.id))
        }
        "createdAt" => leaf(iso(e.at)),
        "reason" => leaf(e.removed.clone()),
        "actor" => one(actor(world, e.actor)),
        "enqueuer" => one(actor(world, e.enqueuer)),
        _ => null(),
    }
}

fn entry(view: &EntryView, name: &str) -> Result<Out, FieldError> {
    let e = &view.entry;
    match name {
        "id" => leaf(node_id("MergeQueueEntry", e.id)),
        "position" => leaf(view.position),
        "state" => leaf(view.state),
        "enqueuedAt" => leaf(iso(e.enqueued_at)),
        "headCommit" => one(Some(Obj::Commit(e.head.hex()))),
        "baseCommit" => one(e.group.as_ref().map(|g| Obj::Commit(g.base_sha.hex()))),
        "pullRequest" => one(Some(Obj::Pull(e.repo.clone(), e.number))),
        "enqueuer" => one(Some(Obj::Actor(e.enqueuer))),
        "jump" | "solo" => leaf(false),
        _ => null(),
    }
}

fn repository(
    world: &World,
    ctx: &Ctx<'_>,
    repo: &str,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Out, FieldError> {
    let Some(r) = world.repos.get(repo) else {
        return null();
    };
    match name {
        "id" => leaf(node_id("Repository", r.id)),
        "name" => leaf(r.name.as_str()),
        "nameWithOwner" => leaf(r.full_name()),
        "pullRequest" => {
            permitted(world, ctx, repo, |p| p.pull_requests, Access::Read)?;
            let number = args.get("number").and_then(Value::as_u64).unwrap_or(0);
            if r.pull(number).is_none() {
                return Err(FieldError::new(
                    "NOT_FOUND",
                    format!("Could not resolve to a PullRequest with the number of {number}."),
                ));
            }
            one(Some(Obj::Pull(repo.to_owned(), number)))
        }
        "mergeQueue" => {
            let branch = args
                .get("branch")
                .and_then(Value::as_str)
                .map_or_else(|| r.default_branch.clone(), str::to_owned);
            let cfg = merge_queue::config(world, repo, &branch);
            one(cfg.map(|c| Obj::Queue(repo.to_owned(), branch, c)))
        }
        _ => null(),
    }
}

fn pull(
    world: &World,
    ctx: &Ctx<'_>,
    repo: &str,
    number: u64,
    name: &str,
    args: &Map<String, Value>,
) -> Result<Out, FieldError> {
    let Some((r, p)) = world
        .repos
        .get(repo)
        .and_then(|r| r.pull(number).map(|p| (r, p)))
    else {
        return null();
    };
    let queued = world.merge_queues.entry(repo, number);
    match name {
        "id" => leaf(node_id("PullRequest", p.id)),
        "number" => leaf(p.number),
        "title" => leaf(p.title.as_str()),
        "headRefName" => leaf(p.head_ref.as_str()),
        "baseRefName" => leaf(p.base_ref.as_str()),
        "url" => leaf(format!("{}/{}/pull/{number}", ctx.base, r.full_name())),
        "state" => leaf(match (p.merged, p.state) {
            (true, _) => "MERGED",
            (false, PullState::Closed) => "CLOSED",
            (false, PullState::Open) => "OPEN",
        }),
        "merged" => leaf(p.merged),
        "isDraft" => leaf(p.draft),
        "isInMergeQueue" => leaf(queued.is_some()),
        "mergedAt" => leaf(p.merged_at.map(iso)),
        "mergeCommit" => one(p.merge_commit_sha.map(|s| Obj::Commit(s.hex()))),
        "headRefOid" => leaf(p.head_sha.hex()),
        "mergedBy" => one(p.merged_by.and_then(|id| actor(world, id))),
        "mergeQueueEntry" => one(queued.map(|e| Obj::Entry(Box::new(EntryView::of(world, e))))),
        "timelineItems" => {
            let types: Option<Vec<String>> = args.get("itemTypes").and_then(|t| {
                t.as_array().map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
            });
            let wanted = |e: &TimelineEvent| {
                let ty = if e.removed.is_some() {
                    "REMOVED_FROM_MERGE_QUEUE_EVENT"
                } else {
                    "ADDED_TO_MERGE_QUEUE_EVENT"
                };
                types.as_ref().is_none_or(|t| t.iter().any(|x| x == ty))
            };
            let events: Vec<TimelineEvent> = world
                .merge_queues
                .timeline
                .iter()
                .filter(|e| e.repo == repo && e.number == number && wanted(e))
                .cloned()
                .collect();
            let total = events.len();
            one(Some(Obj::Timeline(window(events, args), total)))
        }
        _ => null(),
    }
}

/// `node(id:)`: pull requests and queue entries the caller can see.
fn node(world: &World, ctx: &Ctx<'_>, id: &str) -> Result<Obj, FieldError> {
    let missing = || {
        FieldError::new(
            "NOT_FOUND",
            format!("Could not resolve to a node with the global id of '{id}'"),
        )
    };
    let (kind, n) = parse_node_id(id).ok_or_else(missing)?;
    let visible = |repo: &str| {
        world
            .access(ctx.who, repo)
            .is_some_and(|p| p.pull_requests >= Access::Read)
    };
    match kind.as_str() {
        "PullRequest" => pull_by_id(world, n)
            .filter(|(repo, _)| visible(repo))
            .map(|(repo, number)| Obj::Pull(repo, number))
            .ok_or_else(missing),
        "MergeQueueEntry" => world
            .merge_queues
            .entries
            .iter()
            .find(|e| e.id == n && visible(&e.repo))
            .map(|e| Obj::Entry(Box::new(EntryView::of(world, e))))
            .ok_or_else(missing),
        _ => Err(missing()),
    }
}

fn pull_by_id(world: &World, id: u64) -> Option<(String, u64)> {
    world.repos.iter().find_map(|(name, r)| {
        r.pulls
            .iter()
            .find(|p| p.id == id)
            .map(|p| (name.clone(), p.number))
    })
}

/// The pull request a mutation's input names by `key`, with the caller allowed to merge it.
fn mutation_target(
    world: &World,
    ctx: &Ctx<'_>,
    input: &Value,
    key: &str,
    input_type: &str,
) -> Result<(String, u64), FieldError> {
    let Some(id) = input.get(key).and_then(Value::as_str) else {
        return Err(FieldError::new(
            "INVALID_ARGUMENT",
            format!(
                "Argument '{key}' on InputObject '{input_type}' is required. Expected type ID!"
            ),
        ));
    };
    let missing = || {
        FieldError::new(
            "NOT_FOUND",
            format!("Could not resolve to a node with the global id of '{id}'"),
        )
    };
    let (kind, n) = parse_node_id(id).ok_or_else(missing)?;
    let (repo, number) = pull_by_id(world, n)
        .filter(|_| kind == "PullRequest")
        .ok_or_else(missing)?;
    if world.access(ctx.who, &repo).is_none() {
        return Err(missing());
    }
    permitted(world, ctx, &repo, |p| p.pull_requests, Access::Write)?;
    permitted(world, ctx, &repo, |p| p.contents, Access::Write)?;
    Ok((repo, number))
}

fn enqueue(world: &mut World, ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Out, FieldError> {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let (repo, number) = mutation_target(
        world,
        ctx,
        &input,
        "pullRequestId",
        "EnqueuePullRequestInput",
    )?;
    let expected = match input.get("expectedHeadOid").and_then(Value::as_str) {
        Some(oid) => Some(oid.parse().map_err(|_| {
            FieldError::new(
                "INVALID_ARGUMENT",
                format!("\"{oid}\" is not a valid GitObjectID"),
            )
        })?),
        None => None,
    };
    let jump = input.get("jump").and_then(Value::as_bool).unwrap_or(false);
    merge_queue::enqueue(world, &repo, number, ctx.who.id, expected, jump)
        .map_err(|e| FieldError::new("UNPROCESSABLE", e.0))?;
    let view = world
        .merge_queues
        .entry(&repo, number)
        .map(|e| Box::new(EntryView::of(world, e)));
    let client_id = input
        .get("clientMutationId")
        .cloned()
        .unwrap_or(Value::Null);
    Ok(Out::One(Obj::Payload(
        "EnqueuePullRequestPayload",
        view,
        client_id,
    )))
}

fn dequeue(world: &mut World, ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Out, FieldError> {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let (repo, number) = mutation_target(world, ctx, &input, "id", "DequeuePullRequestInput")?;
    let view = world
        .merge_queues
        .entry(&repo, number)
        .map(|e| Box::new(EntryView::of(world, e)))
        .ok_or_else(|| {
            FieldError::new("UNPROCESSABLE", "Pull request is not in the merge queue")
        })?;
    merge_queue::dequeue(
        world,
        &repo,
        number,
        ctx.who.id,
        merge_queue::reason::MANUAL,
    );
    let client_id = input
        .get("clientMutationId")
        .cloned()
        .unwrap_or(Value::Null);
    Ok(Out::One(Obj::Payload(
        "DequeuePullRequestPayload",
        Some(view),
        client_id,
    )))
}
