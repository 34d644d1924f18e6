//! Every `uses:` of the workflows, examples, actions and the tests' workflows is pinned by full SHA:
//! third-party actions to a tag the table of upstream tags holds, this repository's own to a commit
//! of its history that holds what is called, with exactly the inputs and secrets it declares. The
//! checkers are shown refusing each kind of bad pin, so they cannot pass by seeing nothing.

use std::path::{Path, PathBuf};

use xtask::self_pins::{self, DEVELOPMENT_COMMENT, Git, PinKind};
use xtask::third_party::{self, TagTable};
use xtask::uses::{Use, uses_in, uses_under};

use crate::release::{hermetic, run};

fn repo_uses() -> Vec<Use> {
    uses_under(&xtask::repo_root()).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn third_party_actions_are_pinned_to_upstream_tags() {
    let root = xtask::repo_root();
    let table = TagTable::read(&third_party::table_path(&root)).unwrap_or_else(|e| panic!("{e}"));
    let uses = repo_uses();
    let checked = uses
        .iter()
        .filter(|u| third_party::is_third_party(u))
        .count();
    assert!(checked >= 20, "only {checked} third-party uses found");
    assert!(
        uses.iter().any(|u| u.file.starts_with("examples")),
        "the examples are read"
    );
    assert!(
        uses.iter().any(|u| u.file.starts_with("tests")),
        "the tests' workflows are read"
    );
    let problems = third_party::problems(&uses, &table);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn own_pins_name_commits_of_this_history_that_hold_what_they_call() {
    let uses = repo_uses();
    let own = uses
        .iter()
        .filter(|u| third_party::repository_of(&u.value) == third_party::SELF_REPOSITORY)
        .count();
    assert!(own >= 10, "only {own} pins of this repository found");
    let problems = self_pins::problems(&uses, &Git::new(&xtask::repo_root()));
    assert!(
        problems.is_empty(),
        "{}\n(move them in two commits: `cargo xtask pin actions <commit>`, commit, then `cargo xtask pin workflows <that commit>`, commit)",
        problems.join("\n")
    );
}

const TABLE: &str = "# repository, tag, commit\n\
actions/checkout\tv4.2.2\t11bd71901bbe5b1630ceea73d27597364c9af683\n\
actions/checkout\tv4\t11d5960a326750d5838078e36cf38b85af677262\n";

const GOOD: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";

fn third_party_problems(workflow: &str) -> Vec<String> {
    let table = TagTable::parse(Path::new("tags.tsv"), TABLE).unwrap();
    let uses = uses_in(Path::new("w.yml"), workflow).unwrap();
    third_party::problems(&uses, &table)
}

#[test]
fn the_third_party_check_refuses_every_kind_of_bad_pin() {
    let workflow = format!(
        "jobs:
  j:
    steps:
      - uses: actions/checkout@{GOOD} # v4.2.2
      - uses: ./actions/ticgen
      - uses: gantry-actions/gantry/actions/ticgen@{GOOD} # not checked here
      - uses: actions/checkout@977bb373ede98d70efbf0b7b13af9c3d6651dc60 # v4.2.2
      - uses: actions/checkout@{GOOD} # v4
      - uses: actions/checkout@{GOOD}
      - uses: actions/checkout@{GOOD} # v9.9.9
      - uses: actions/cache@{GOOD} # v4.2.2
      - uses: actions/checkout@v4 # v4
  call:
    uses: acme/tools/.github/workflows/w.yml@{GOOD} # v1
"
    );
    assert_eq!(
        third_party_problems(&workflow),
        [
            "w.yml:7: actions/checkout@977bb373ede98d70efbf0b7b13af9c3d6651dc60 # v4.2.2: v4.2.2 is 11bd71901bbe5b1630ceea73d27597364c9af683 upstream, and 977bb373ede98d70efbf0b7b13af9c3d6651dc60 is no tag of actions/checkout in the table".to_owned(),
            format!("w.yml:8: actions/checkout@{GOOD} # v4: v4 is 11d5960a326750d5838078e36cf38b85af677262 upstream, and {GOOD} is actions/checkout v4.2.2"),
            format!("w.yml:9: actions/checkout@{GOOD} has no `# <tag>` comment naming the release it pins"),
            "w.yml:10: actions/checkout has no tag v9.9.9 in the table: the table (tags.tsv, read upstream again) must be extended".to_owned(),
            "w.yml:11: actions/cache is not in the table of upstream tags: the table (tags.tsv, read upstream again) must be extended".to_owned(),
            "w.yml:12: actions/checkout@v4 is not pinned by a full 40-character commit SHA".to_owned(),
            "w.yml:14: acme/tools is not in the table of upstream tags: the table (tags.tsv, read upstream again) must be extended".to_owned(),
        ]
    );
}

#[test]
fn the_tests_stand_in_for_this_repository_is_not_a_third_party() {
    let text = "jobs:\n  j:\n    steps:\n      - uses: acme/gantry/actions/ticgen@v1.2.3\n";
    let table = TagTable::parse(Path::new("tags.tsv"), TABLE).unwrap();
    let in_tests = uses_in(Path::new("tests/act/x.yml"), text).unwrap();
    assert_eq!(
        third_party::problems(&in_tests, &table),
        Vec::<String>::new()
    );
    let elsewhere = uses_in(Path::new("examples/x.yml"), text).unwrap();
    assert_eq!(third_party::problems(&elsewhere, &table).len(), 1);
}

/// A repository whose first commit holds neither workflow nor action, the second both, the third
/// more, and a fourth commit on another branch.
struct Repo {
    dir: tempfile::TempDir,
}

const REUSABLE: &str = "on:
  workflow_call:
    inputs:
      env-file: {type: string, required: true}
      timeout: {type: string, required: false, default: 10m}
      must-have-default: {type: string, required: true, default: x}
    secrets:
      kubeconfig: {required: true}
      token: {required: false}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo
";

const ACTION: &str = "name: a
inputs:
  image: {description: i, required: true}
  timeout: {description: t, required: false, default: 5m}
runs: {using: composite, steps: []}
";

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.write("README.md", "first\n");
        repo.commit("before the workflow");
        repo.write(".github/workflows/deploy.yml", REUSABLE);
        repo.write("actions/deploy/action.yml", ACTION);
        repo.commit("the workflow and the action");
        repo.write("README.md", "later\n");
        repo.commit("a later commit");
        repo.git(&["checkout", "--quiet", "-b", "other"]);
        repo.write("OTHER", "x\n");
        repo.commit("on another branch");
        repo.git(&["checkout", "--quiet", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let mut command = hermetic("git", self.path());
        command.arg("-C").arg(self.path()).args(args);
        String::from_utf8_lossy(&run(command).stdout)
            .trim()
            .to_owned()
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "."]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    fn rev(&self, revision: &str) -> String {
        self.git(&["rev-parse", revision])
    }

    /// The problems of `caller`'s own pins, read against this repository.
    fn problems(&self, caller: &str) -> Vec<String> {
        let uses = uses_in(Path::new("caller.yml"), caller).unwrap();
        self_pins::problems(&uses, &Git::new(self.path()))
    }
}

fn call(sha: &str, comment: &str, with: &str, secrets: &str) -> String {
    format!(
        "jobs:
  deploy:
    uses: gantry-actions/gantry/.github/workflows/deploy.yml@{sha} # {comment}
    with:
{with}
    secrets:
{secrets}
"
    )
}

const WITH: &str = "      env-file: deploy/prod.env\n      timeout: 5m";
const SECRETS: &str = "      kubeconfig: x";

#[test]
fn a_pin_to_a_commit_holding_what_it_calls_with_declared_keys_passes() {
    let repo = Repo::new();
    let first = repo.rev("main~1");
    assert_eq!(
        repo.problems(&call(&first, DEVELOPMENT_COMMENT, WITH, SECRETS)),
        Vec::<String>::new()
    );
    let inherit = format!(
        "jobs:\n  deploy:\n    uses: gantry-actions/gantry/.github/workflows/deploy.yml@{first} # {DEVELOPMENT_COMMENT}\n    with: {{env-file: x}}\n    secrets: inherit\n"
    );
    assert_eq!(repo.problems(&inherit), Vec::<String>::new());
    let step = format!(
        "jobs:\n  j:\n    steps:\n      - uses: gantry-actions/gantry/actions/deploy@{first} # {DEVELOPMENT_COMMENT}\n        with:\n          image: x\n"
    );
    assert_eq!(repo.problems(&step), Vec::<String>::new());
}

#[test]
fn the_own_pin_check_refuses_stale_pins() {
    let repo = Repo::new();
    let first = repo.rev("main~1");
    let dev = DEVELOPMENT_COMMENT;
    let unknown = "cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af";
    assert_eq!(
        repo.problems(&call(unknown, dev, WITH, SECRETS)),
        [format!(
            "caller.yml:3: {unknown} is no commit of this repository"
        )]
    );
    let other = repo.rev("other");
    assert_eq!(
        repo.problems(&call(&other, dev, WITH, SECRETS)),
        [format!(
            "caller.yml:3: {other} is not in HEAD's history (a commit of another branch, or rewritten)"
        )]
    );
    let empty = repo.rev("main~2");
    assert_eq!(
        repo.problems(&call(&empty, dev, WITH, SECRETS)),
        [format!(
            "caller.yml:3: {empty} holds no .github/workflows/deploy.yml (\"workflow was not found\")"
        )]
    );
    assert_eq!(
        repo.problems(&call(&first, "v1", WITH, SECRETS)),
        [format!(
            "caller.yml:3: gantry-actions/gantry/.github/workflows/deploy.yml@{first}: the comment must be `# {dev}`, not `# v1`"
        )]
    );
    assert_eq!(
        repo.problems(&call(
            &first,
            dev,
            "      timeout: 5m\n      image: x",
            "      token: y\n      password: z"
        )),
        [
            format!(
                "caller.yml:3: passes input image, which .github/workflows/deploy.yml at {first} does not declare (declared: env-file, must-have-default, timeout)"
            ),
            format!(
                "caller.yml:3: does not pass input env-file, which .github/workflows/deploy.yml at {first} requires"
            ),
            format!(
                "caller.yml:3: passes secret password, which .github/workflows/deploy.yml at {first} does not declare (declared: kubeconfig, token)"
            ),
            format!(
                "caller.yml:3: does not pass secret kubeconfig, which .github/workflows/deploy.yml at {first} requires"
            ),
        ]
    );
    let step = format!(
        "jobs:\n  j:\n    steps:\n      - uses: gantry-actions/gantry/actions/deploy@{first} # {dev}\n        with:\n          timeout: 1m\n          tag: v1\n      - uses: gantry-actions/gantry/actions/missing@{first} # {dev}\n      - uses: gantry-actions/gantry/actions/deploy@main\n"
    );
    assert_eq!(
        repo.problems(&step),
        [
            format!(
                "caller.yml:4: passes input tag, which actions/deploy at {first} does not declare (declared: image, timeout)"
            ),
            format!("caller.yml:4: does not pass input image, which actions/deploy at {first} requires"),
            format!("caller.yml:8: {first} holds no actions/missing/action.yml"),
            "caller.yml:9: gantry-actions/gantry/actions/deploy@main is not pinned by a full 40-character commit SHA (`cargo xtask pin actions|workflows <commit>` writes them)".to_owned(),
        ]
    );
}

#[test]
fn a_shallow_clone_is_told_to_fetch_the_full_history() {
    let repo = Repo::new();
    let first = repo.rev("main~1");
    let clone = tempfile::tempdir().unwrap();
    let mut command = hermetic("git", clone.path());
    command
        .args(["clone", "--quiet", "--depth", "1"])
        .arg(format!("file://{}", repo.path().display()))
        .arg(clone.path().join("c"));
    run(command);
    let uses = uses_in(
        Path::new("caller.yml"),
        &call(&first, DEVELOPMENT_COMMENT, WITH, SECRETS),
    )
    .unwrap();
    let problems = self_pins::problems(&uses, &Git::new(&clone.path().join("c")));
    assert_eq!(
        problems,
        [format!(
            "caller.yml:3: {first} is not in this clone, which is shallow: fetch the full history (`git fetch --unshallow`, or actions/checkout with fetch-depth: 0) and check again"
        )]
    );
}

/// A checkout's files with this repository's pins at a development SHA, a third-party pin and
/// the reusable workflow's copy-paste comment.
fn checkout_files(repo: &Repo) {
    repo.write(
        ".github/workflows/deploy.yml",
        &format!(
            "{REUSABLE}#   uses: gantry-actions/gantry/.github/workflows/deploy.yml@<gantry commit SHA> # v1\n      - uses: actions/checkout@{GOOD} # v4.2.2\n      - uses: gantry-actions/gantry/actions/deploy@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # v1\n        with:\n          image: x\n"
        ),
    );
    repo.write(
        "examples/service/.github/workflows/deploy.yml",
        &call(
            "cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af",
            "v1",
            WITH,
            SECRETS,
        ),
    );
}

fn changed_lines(before: &str, after: &str) -> Vec<(String, String)> {
    assert_eq!(before.lines().count(), after.lines().count());
    before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

#[test]
fn cargo_xtask_pin_moves_only_the_pin_lines_of_one_kind() {
    let repo = Repo::new();
    checkout_files(&repo);
    let workflow = repo.path().join(".github/workflows/deploy.yml");
    let example = repo
        .path()
        .join("examples/service/.github/workflows/deploy.yml");
    let (workflow_before, example_before) = (
        std::fs::read_to_string(&workflow).unwrap(),
        std::fs::read_to_string(&example).unwrap(),
    );
    let head = repo.rev("HEAD");
    assert_eq!(
        self_pins::pin(repo.path(), PinKind::Actions, "HEAD").unwrap(),
        std::slice::from_ref(&workflow)
    );
    assert_eq!(
        changed_lines(&workflow_before, &std::fs::read_to_string(&workflow).unwrap()),
        [(
            "      - uses: gantry-actions/gantry/actions/deploy@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # v1".to_owned(),
            format!("      - uses: gantry-actions/gantry/actions/deploy@{head} # {DEVELOPMENT_COMMENT}")
        )]
    );
    assert_eq!(
        std::fs::read_to_string(&example).unwrap(),
        example_before,
        "the examples' workflow pins move on their own"
    );
    assert_eq!(
        self_pins::pin(repo.path(), PinKind::Workflows, "HEAD").unwrap(),
        std::slice::from_ref(&example)
    );
    assert_eq!(
        changed_lines(&example_before, &std::fs::read_to_string(&example).unwrap()),
        [(
            "    uses: gantry-actions/gantry/.github/workflows/deploy.yml@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # v1".to_owned(),
            format!("    uses: gantry-actions/gantry/.github/workflows/deploy.yml@{head} # {DEVELOPMENT_COMMENT}")
        )]
    );
    // Pinned again to the same commit: nothing to change.
    for kind in [PinKind::Actions, PinKind::Workflows] {
        assert_eq!(
            self_pins::pin(repo.path(), kind, &head).unwrap(),
            Vec::<PathBuf>::new()
        );
    }

    // A release commit's pins carry its tag.
    repo.write("actions/RELEASE", "v1.2.3\n");
    repo.commit("release");
    let release = repo.rev("HEAD");
    self_pins::pin(repo.path(), PinKind::Workflows, &release).unwrap();
    assert!(
        std::fs::read_to_string(&example)
            .unwrap()
            .contains(&format!("deploy.yml@{release} # v1.2.3\n"))
    );
    assert!(self_pins::pin(repo.path(), PinKind::Actions, "no-such-commit").is_err());
}

#[test]
fn this_checkout_pinned_in_two_commits_passes_the_own_pin_check() {
    // What the two `cargo xtask pin` commits would make of HEAD, in a clone: the workflows' action
    // pins to HEAD, then the examples' workflow pins to that commit. HEAD's actions and workflows
    // must accept what the workflows and examples pass, through every nested pin.
    let clone = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let mut command = hermetic("git", clone.path());
        command.arg("-C").arg(clone.path()).args(args);
        String::from_utf8_lossy(&run(command).stdout)
            .trim()
            .to_owned()
    };
    let source = xtask::repo_root();
    git(&[
        "clone",
        "--quiet",
        "--no-checkout",
        source.to_str().unwrap(),
        ".",
    ]);
    git(&["checkout", "--quiet", "HEAD"]);
    git(&["config", "user.email", "pins@example.invalid"]);
    git(&["config", "user.name", "pins"]);
    for kind in [PinKind::Actions, PinKind::Workflows] {
        self_pins::pin(clone.path(), kind, "HEAD").unwrap();
        git(&["commit", "--quiet", "--allow-empty", "-am", "pins"]);
    }
    let uses: Vec<_> = uses_under(clone.path())
        .unwrap()
        .into_iter()
        .filter(|u| !u.file.starts_with("tests") && !u.file.starts_with("actions"))
        .collect();
    let problems = self_pins::problems(&uses, &Git::new(clone.path()));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_pinned_workflow_whose_own_pins_are_stale_at_that_commit_is_refused() {
    let repo = Repo::new();
    let first = repo.rev("main~1");
    let dev = DEVELOPMENT_COMMENT;
    // A later commit's reusable workflow calls the action as it was at `first`, passing an input
    // that action does not declare there: a caller pinned to that later commit runs exactly that.
    let nested = REUSABLE.replace(
        "      - run: echo\n",
        &format!(
            "      - uses: gantry-actions/gantry/actions/deploy@{first} # {dev}\n        with:\n          image: x\n          tag: v1\n"
        ),
    );
    repo.write(".github/workflows/deploy.yml", &nested);
    repo.commit("the workflow calls the action at an older commit");
    let later = repo.rev("HEAD");
    assert_eq!(
        repo.problems(&call(&later, dev, WITH, SECRETS)),
        [format!(
            "caller.yml:3: through .github/workflows/deploy.yml at {later}: .github/workflows/deploy.yml:14: passes input tag, which actions/deploy at {first} does not declare (declared: image, timeout)"
        )]
    );
}
