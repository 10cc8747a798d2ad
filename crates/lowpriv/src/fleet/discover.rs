//! The fleet's members: scenario files given on the command line and every `*.toml` below
//! the folders given, each loaded (or kept with the reason it could not be).

use std::path::{Path, PathBuf};

use crate::scenario::{self, Scenario, ScenarioError};

/// Bad usage that stops a fleet before any Site is run.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read the folder {}", path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no scenario (*.toml) found in {}", paths.join(", "))]
    Empty { paths: Vec<String> },
    #[error("cannot read the roster {}", path.display())]
    Roster {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the fleet report {}", path.display())]
    ReadReport {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a lowpriv fleet report (fleet.json, schema 1): {why}", path.display())]
    NotAFleetReport { path: PathBuf, why: String },
    #[error("the shard reports disagree on the number of shards: {counts}")]
    ShardCounts { counts: String },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

/// One scenario of the fleet.
#[derive(Debug)]
pub struct Member {
    /// `[site] name`, or the file stem when the scenario cannot be read that far.
    pub name: String,
    pub path: PathBuf,
    /// The loaded scenario, or why it is not one (that Site's error row, never the fleet's).
    pub scenario: Result<Scenario, ScenarioError>,
}

/// Scenario files, in a stable order: the files given, and every `*.toml` below each folder
/// (hidden entries skipped), sorted by path, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FleetError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(FleetError::Missing { path: path.clone() });
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(FleetError::Empty {
            paths: paths.iter().map(|p| p.display().to_string()).collect(),
        });
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), FleetError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FleetError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| FleetError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    Ok(())
}

/// Loads every file; a scenario that does not load is kept as that Site's error.
pub fn load(files: Vec<PathBuf>, env: &dyn Fn(&str) -> Option<String>) -> Vec<Member> {
    files
        .into_iter()
        .map(|path| {
            let scenario = scenario::load(&path, env);
            let name = match &scenario {
                Ok(s) => s.site.name.clone(),
                Err(_) => name_of_broken(&path),
            };
            Member {
                name,
                path,
                scenario,
            }
        })
        .collect()
}

/// The name a scenario that does not load is known by: its `[site] name` when the TOML
/// holds one that is file-name safe (an unset variable elsewhere should not rename a Site
/// and move it to another shard), else the file stem.
fn name_of_broken(path: &Path) -> String {
    let stem = || {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return stem();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return stem();
    };
    table
        .get("site")
        .and_then(|s| s.get("name"))
        .and_then(|n| n.as_str())
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !n.starts_with('.')
        })
        .map_or_else(stem, str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_every_toml_below_them_sorted_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/deeper")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for file in [
            "b/deeper/z.toml",
            "b/a.toml",
            "c.toml",
            "notes.md",
            ".git/x.toml",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let given = vec![root.to_path_buf(), root.join("c.toml")];
        let found = discover(&given).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["b/a.toml", "b/deeper/z.toml", "c.toml"]);
        assert!(matches!(
            discover(&[root.join("nope")]),
            Err(FleetError::Missing { .. })
        ));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            discover(&[empty.path().to_path_buf()]),
            Err(FleetError::Empty { .. })
        ));
    }

    #[test]
    fn a_broken_scenario_keeps_its_site_name_when_it_has_one() {
        let dir = tempfile::tempdir().unwrap();
        let unset = dir.path().join("unset.toml");
        std::fs::write(
            &unset,
            "[site]\nname = \"hr-tool\"\nbase_url = \"${NOPE_NOT_SET}\"\n",
        )
        .unwrap();
        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "[site\nname = ").unwrap();
        let hostile = dir.path().join("hostile.toml");
        std::fs::write(&hostile, "[site]\nname = \"../../etc\"\n").unwrap();
        let members = load(vec![unset, broken, hostile], &|_| None);
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["hr-tool", "broken", "hostile"]);
        assert!(members.iter().all(|m| m.scenario.is_err()));
    }
}
