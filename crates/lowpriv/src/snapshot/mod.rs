//! Exposure snapshots: the approved record of who can see what on a Site, compared on every
//! run.
//!
//! Input: a run's exposure [`Matrix`] (the model every report lays out too, in `matrix.rs`),
//! holding the facts of its [`ActionMatrix`] (`actions.rs`: what each identity may change)
//! too. Output: a [`SnapshotReport`] (match, drift, new, skipped or invalid), with
//! `snapshots/<site>.snap.new` written when the exposure differs from the approved
//! `snapshots/<site>.snap`. Invariants: the approved file is only ever replaced by
//! [`accept`], never by a run, and never in CI; every write is atomic; an inconclusive run is
//! not compared (its matrix is incomplete); the approved file is compared by its facts, so
//! a comment (or a header a newer lowpriv writes) never drifts.

pub mod actions;
pub mod matrix;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use actions::{ActionCell, ActionFact, ActionMatrix, ActionRow, ActionRowKind, ProbeCell};
pub use matrix::{Cell, Matrix, ParseError, Row, RowKey};

use crate::atomic_file;
use crate::observe::Outcome;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the approved snapshot is not valid: {0}")]
    Parse(#[from] ParseError),
    #[error("{} is the snapshot of site `{found}`, not `{expected}`; not overwritten", path.display())]
    ForeignSite {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "{} names identities the scenario does not declare: {}; not overwritten",
        path.display(),
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )]
    UnknownIdentities { path: PathBuf, names: Vec<String> },
    #[error("no pending snapshot {}", path.display())]
    NoPending { path: PathBuf },
    #[error(
        "refusing to change approved snapshots in CI (`CI` is set): accept them locally and commit"
    )]
    InCi,
}

/// Where snapshots live.
#[derive(Clone, Debug)]
pub struct Store {
    pub dir: PathBuf,
    /// Where pending snapshots (`.snap.new`) go, when not beside the approved ones: a fleet
    /// writes them with its other per-Site outputs.
    pub pending_dir: Option<PathBuf>,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store {
            dir: dir.into(),
            pending_dir: None,
        }
    }

    pub fn approved(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.snap"))
    }

    pub fn pending(&self, name: &str) -> PathBuf {
        self.pending_dir
            .as_ref()
            .unwrap_or(&self.dir)
            .join(format!("{name}.snap.new"))
    }

    /// The same approved snapshots, with pending ones written to `dir` instead.
    pub fn with_pending_dir(mut self, dir: impl Into<PathBuf>) -> Store {
        self.pending_dir = Some(dir.into());
        self
    }

    /// Names with a pending snapshot, sorted.
    pub fn pending_names(&self) -> Vec<String> {
        let dir = self.pending_dir.as_ref().unwrap_or(&self.dir);
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".snap.new"))
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        names
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The exposure matches the approved snapshot.
    Match,
    /// It differs: `.snap.new` written, the run fails.
    Drift,
    /// No approved snapshot yet: `.snap.new` written (the run fails in CI).
    New,
    /// Not compared (the run was inconclusive).
    Skipped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// An identity gains `allowed` or a data class; or is shown an action (in a page or a
    /// script) or gets past its authorization check, where it was not or did not.
    Widening,
    /// An identity loses `allowed` or a data class; or is no longer shown an action, or no
    /// longer gets past its authorization check.
    Narrowing,
    /// Anything else (denied → hidden, a new template nobody may reach, an action only
    /// documented, a rule changing an action's kind).
    Neutral,
}

/// One fact that changed, as a sentence's parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub direction: Direction,
    pub identity: String,
    pub method: String,
    pub template: String,
    /// outcome | data | action
    pub kind: &'static str,
    pub from: String,
    pub to: String,
}

impl Change {
    /// "dave: GET /reports/{id} denied → allowed", "carol: action POST /team/compensation
    /// now write-capable, shown (form)"
    pub fn sentence(&self) -> String {
        let what = match (self.kind, self.from.as_str(), self.to.as_str()) {
            ("data" | "action", "-", to) => format!("now {to}"),
            ("data" | "action", from, "-") => format!("no longer {from}"),
            (_, from, to) => format!("{from} → {to}"),
        };
        let action = if self.kind == "action" { "action " } else { "" };
        format!(
            "{}: {action}{} {} {what}",
            self.identity, self.method, self.template
        )
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SnapshotReport {
    pub status: Status,
    pub approved: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// What a person should read first.
    pub message: String,
    /// Lines only in the current exposure.
    pub added: Vec<String>,
    /// Lines only in the approved snapshot.
    pub removed: Vec<String>,
    /// The same difference as facts, widening first.
    pub changes: Vec<Change>,
    /// A unified diff, approved → current.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

impl SnapshotReport {
    pub fn widening(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.direction == Direction::Widening)
            .count()
    }

    /// Whether this fails the run.
    pub fn fails(&self, ci: bool) -> bool {
        match self.status {
            Status::Drift => true,
            Status::New => ci,
            Status::Match | Status::Skipped => false,
        }
    }
}

/// Whether lowpriv runs in CI, where approved snapshots are never written.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The approved snapshot of a Site, read and validated before the run sends anything: a
/// broken or foreign file is bad input (like a scenario with a typo), not a finding.
#[derive(Clone, Debug)]
pub struct Approved {
    path: PathBuf,
    text: String,
    matrix: Matrix,
}

impl Approved {
    /// `Ok(None)`: no snapshot approved yet. `identities`: every identity the scenario
    /// declares; the file may name no other.
    pub fn load(
        store: &Store,
        site: &str,
        identities: &[String],
    ) -> Result<Option<Approved>, SnapshotError> {
        let path = store.approved(site);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SnapshotError::Read { path, source }),
        };
        let matrix = Matrix::parse(&text, &path)?;
        if matrix.site != site {
            return Err(SnapshotError::ForeignSite {
                path,
                found: matrix.site,
                expected: site.to_string(),
            });
        }
        let names: Vec<String> = matrix
            .identities
            .iter()
            .filter(|i| !identities.contains(i))
            .cloned()
            .collect();
        if !names.is_empty() {
            return Err(SnapshotError::UnknownIdentities { path, names });
        }
        Ok(Some(Approved { path, text, matrix }))
    }
}

/// Compares a run's exposure with the approved snapshot (read before the run, `None` when
/// there is none yet) and writes `.snap.new` when they differ (or when none is approved
/// yet). `complete`: the run saw its whole matrix.
pub fn check(
    store: &Store,
    approved: Option<&Approved>,
    current: &Matrix,
    complete: bool,
    ci: bool,
) -> SnapshotReport {
    let name = current.site.clone();
    let approved_path = approved.map_or_else(|| store.approved(&name), |a| a.path.clone());
    let pending_path = store.pending(&name);
    let mut report = SnapshotReport {
        status: Status::Match,
        approved: approved_path.display().to_string(),
        pending: None,
        message: String::new(),
        added: Vec::new(),
        removed: Vec::new(),
        changes: Vec::new(),
        diff: String::new(),
    };
    if !complete {
        report.status = Status::Skipped;
        report.message =
            "not compared: the run is inconclusive, so its exposure matrix is incomplete"
                .to_string();
        return report;
    }
    let current_text = current.render();
    let Some(approved) = approved else {
        report.status = Status::New;
        report.message = match write_pending(store, &name, &current_text) {
            Ok(path) => {
                report.pending = Some(path.display().to_string());
                if ci {
                    format!(
                        "no approved snapshot at {}: in CI one must be approved first (review {} locally, \
                         run `lowpriv snapshot accept {name}`, commit the .snap)",
                        approved_path.display(),
                        path.display()
                    )
                } else {
                    format!(
                        "no approved snapshot yet: wrote {}; review it, then run `lowpriv snapshot accept {name}`",
                        path.display()
                    )
                }
            }
            Err(err) => err.to_string(),
        };
        report.added = facts(&current_text);
        return report;
    };
    // By facts, not text: an approved file written before a header comment changed (or
    // with a comment of its own) still matches.
    if approved.matrix == *current {
        // A pending file from an earlier drift is stale now.
        if !ci && pending_path.exists() {
            let _ = std::fs::remove_file(&pending_path);
        }
        report.message = format!("exposure matches {}", approved_path.display());
        return report;
    }
    report.diff = unified_diff(&approved.text, &current_text, &approved_path, &name);
    let (added, removed) = line_changes(&approved.text, &current_text);
    report.added = added;
    report.removed = removed;
    report.changes = changes(&approved.matrix, current);
    match write_pending(store, &name, &current_text) {
        Ok(path) => report.pending = Some(path.display().to_string()),
        Err(err) => report.message = err.to_string(),
    }
    report.status = Status::Drift;
    if report.message.is_empty() {
        report.message = format!(
            "exposure drifted from {} ({} widening, {} narrowing, {} other); wrote {}; \
             accept with `lowpriv snapshot accept {name}` if intended",
            approved_path.display(),
            report.widening(),
            report
                .changes
                .iter()
                .filter(|c| c.direction == Direction::Narrowing)
                .count(),
            report
                .changes
                .iter()
                .filter(|c| c.direction == Direction::Neutral)
                .count(),
            report.pending.as_deref().unwrap_or("?")
        );
    }
    report
}

fn write_pending(store: &Store, name: &str, text: &str) -> Result<PathBuf, SnapshotError> {
    let path = store.pending(name);
    let dir = store.pending_dir.as_ref().unwrap_or(&store.dir);
    std::fs::create_dir_all(dir).map_err(|source| SnapshotError::Write {
        path: dir.clone(),
        source,
    })?;
    atomic_file::write(&path, text.as_bytes()).map_err(|source| SnapshotError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Fact lines (no comments, headers or blanks).
fn facts(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(" · "))
        .map(str::to_string)
        .collect()
}

fn line_changes(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let old_lines: BTreeSet<&str> = old.lines().filter(|l| !l.starts_with('#')).collect();
    let new_lines: BTreeSet<&str> = new.lines().filter(|l| !l.starts_with('#')).collect();
    let added = new_lines
        .difference(&old_lines)
        .filter(|l| !l.is_empty())
        .map(|l| l.to_string())
        .collect();
    let removed = old_lines
        .difference(&new_lines)
        .filter(|l| !l.is_empty())
        .map(|l| l.to_string())
        .collect();
    (added, removed)
}

pub fn unified_diff(old: &str, new: &str, approved: &Path, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(
            &approved.display().to_string(),
            &format!("{name} (this run)"),
        )
        .to_string()
}

/// Every changed fact between two matrices, widening first.
pub fn changes(approved: &Matrix, current: &Matrix) -> Vec<Change> {
    let mut keys: BTreeSet<(&RowKey, &str)> = BTreeSet::new();
    for matrix in [approved, current] {
        // Every cell's identity is a column of its own matrix (an invariant of `Matrix`).
        keys.extend(matrix.cells().map(|(key, identity, _)| (key, identity)));
    }
    let empty = Cell::default();
    let mut out = Vec::new();
    for (key, identity) in keys {
        let old = approved.cell(key, identity).unwrap_or(&empty);
        let new = current.cell(key, identity).unwrap_or(&empty);
        let change = |direction, kind, from: String, to: String| Change {
            direction,
            identity: identity.to_string(),
            method: key.method.clone(),
            template: key.template.clone(),
            kind,
            from,
            to,
        };
        if old.outcomes != new.outcomes {
            let was = old.outcomes.contains(&Outcome::Allowed);
            let is = new.outcomes.contains(&Outcome::Allowed);
            let direction = match (was, is) {
                (false, true) => Direction::Widening,
                (true, false) => Direction::Narrowing,
                _ => Direction::Neutral,
            };
            out.push(change(
                direction,
                "outcome",
                matrix::outcomes_text(&old.outcomes),
                matrix::outcomes_text(&new.outcomes),
            ));
        }
        for class in new.data.difference(&old.data) {
            out.push(change(
                Direction::Widening,
                "data",
                "-".to_string(),
                format!("sees {class}"),
            ));
        }
        for class in old.data.difference(&new.data) {
            out.push(change(
                Direction::Narrowing,
                "data",
                format!("sees {class}"),
                "-".to_string(),
            ));
        }
    }
    out.extend(action_changes(approved, current));
    // Within one identity's row, the outcome reads first, then what data came with it, then
    // what it may change.
    let kind_order = |kind: &str| match kind {
        "outcome" => 0u8,
        "data" => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        (a.direction, &a.template, &a.identity, kind_order(a.kind)).cmp(&(
            b.direction,
            &b.template,
            &b.identity,
            kind_order(b.kind),
        ))
    });
    out
}

/// Every changed action fact. A new one widens when the identity is shown the action in a
/// page or a script or gets past its authorization check (as a new readable template does),
/// a lost one narrows when it was; a changed one widens when it gains either without losing
/// the other, narrows the other way round, and is neutral otherwise (a rule changing the
/// kind, a form becoming a script call).
fn action_changes(approved: &Matrix, current: &Matrix) -> Vec<Change> {
    let mut keys: BTreeSet<(&RowKey, &str)> = BTreeSet::new();
    for matrix in [approved, current] {
        keys.extend(matrix.actions().map(|(key, identity, _)| (key, identity)));
    }
    let mut out = Vec::new();
    for (key, identity) in keys {
        let old = approved.action(key, identity);
        let new = current.action(key, identity);
        if old == new {
            continue;
        }
        let reach = |fact: Option<&ActionFact>| fact.map_or((false, false), ActionFact::reach);
        let ((was_shown, was_past), (is_shown, is_past)) = (reach(old), reach(new));
        let gained = (is_shown && !was_shown) || (is_past && !was_past);
        let lost = (was_shown && !is_shown) || (was_past && !is_past);
        let direction = match (gained, lost) {
            (true, false) => Direction::Widening,
            (false, true) => Direction::Narrowing,
            _ => Direction::Neutral,
        };
        let text =
            |fact: Option<&ActionFact>| fact.map_or_else(|| "-".to_string(), ActionFact::text);
        out.push(Change {
            direction,
            identity: identity.to_string(),
            method: key.method.clone(),
            template: key.template.clone(),
            kind: "action",
            from: text(old),
            to: text(new),
        });
    }
    out
}

/// Promotes `NAME.snap.new` to `NAME.snap` (atomically: a rename). Checks that it parses.
pub fn accept(store: &Store, name: &str, ci: bool) -> Result<PathBuf, SnapshotError> {
    if ci {
        return Err(SnapshotError::InCi);
    }
    let pending = store.pending(name);
    let text = match std::fs::read_to_string(&pending) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(SnapshotError::NoPending { path: pending });
        }
        Err(source) => {
            return Err(SnapshotError::Read {
                path: pending,
                source,
            });
        }
    };
    Matrix::parse(&text, &pending)?;
    let approved = store.approved(name);
    let write = |source| SnapshotError::Write {
        path: approved.clone(),
        source,
    };
    std::fs::create_dir_all(&store.dir).map_err(write)?;
    // A fleet's pending snapshots may sit on another file system than the approved ones
    // (an artifact folder): then the text is written over and the pending file removed.
    if std::fs::rename(&pending, &approved).is_err() {
        atomic_file::write(&approved, text.as_bytes()).map_err(write)?;
        let _ = std::fs::remove_file(&pending);
    }
    Ok(approved)
}

/// Drops a pending snapshot.
pub fn reject(store: &Store, name: &str) -> Result<(), SnapshotError> {
    let pending = store.pending(name);
    std::fs::remove_file(&pending).map_err(|source| SnapshotError::Write {
        path: pending,
        source,
    })
}

/// A pending snapshot as `lowpriv snapshot review` shows it: what changed as facts (the
/// sentences a run prints, widening first) and, on request, as a unified diff.
#[derive(Clone, Debug)]
pub struct Pending {
    /// approved → pending; against nothing when none is approved yet (every fact is new).
    pub changes: Vec<Change>,
    /// A unified diff, approved → pending.
    pub diff: String,
}

/// The pending snapshot of NAME against the approved one, for review. Both files are parsed,
/// so a hand-edited broken one is named by file:line rather than shown as a diff.
pub fn pending(store: &Store, name: &str) -> Result<Pending, SnapshotError> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|source| SnapshotError::Read { path, source })
    };
    let pending_path = store.pending(name);
    let pending = read(pending_path.clone())?;
    let current = Matrix::parse(&pending, &pending_path)?;
    let approved_path = store.approved(name);
    let (approved, matrix) = match read(approved_path.clone()) {
        Ok(text) => {
            let matrix = Matrix::parse(&text, &approved_path)?;
            (text, matrix)
        }
        Err(SnapshotError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            (String::new(), Matrix::from_observations(name, &[], &[]))
        }
        Err(err) => return Err(err),
    };
    Ok(Pending {
        changes: changes(&matrix, &current),
        diff: unified_diff(&approved, &pending, &approved_path, name),
    })
}

#[cfg(test)]
mod tests;
