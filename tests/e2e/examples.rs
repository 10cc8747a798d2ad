//! The CI and Kubernetes examples (`examples/`): every YAML file parses, and every field the
//! examples rely on holds (the shard count agrees everywhere, the merge reads every shard's
//! `fleet.json` and runs after the shards however they ended, the secrets reach the shards and
//! only them, code scanning reads the merge's SARIF folder). Each check is run on a changed
//! copy too, which must fail.
//!
//! [`example_commands`] extracts the exact `lowpriv ...` command lines from the YAML, so a test
//! can run them against demo Sites.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::common::*;

fn examples_dir() -> PathBuf {
    repo().join("examples")
}

fn read(relative: &str) -> String {
    let path = examples_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn parse(name: &str, text: &str) -> Result<Vec<Yaml>, String> {
    YamlLoader::load_from_str(text).map_err(|e| format!("{name}: {e}"))
}

fn string(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| v.iter().filter_map(string).collect())
        .unwrap_or_default()
}

/// Keys of a mapping, in file order.
fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash()
        .map(|h| h.keys().filter_map(string).collect())
        .unwrap_or_default()
}

/// Pushes `what` onto `problems` unless `ok`.
fn check(problems: &mut Vec<String>, ok: bool, what: impl Into<String>) {
    if !ok {
        problems.push(what.into());
    }
}

/// The words after `flag` in a command line (`--out DIR` → `DIR`).
fn flag_value(words: &[String], flag: &str) -> Option<String> {
    words
        .iter()
        .position(|w| w == flag)
        .and_then(|i| words.get(i + 1))
        .cloned()
}

/// A command line's words, `placeholder` (which holds spaces) kept whole.
fn words(line: &str, placeholder: &str) -> Vec<String> {
    line.replace(placeholder, "\u{0}")
        .split_whitespace()
        .map(|w| w.replace('\u{0}', placeholder))
        .collect()
}

/// Whether `pattern` (one `*`, as sh expands it within a path component) matches `path`.
fn glob_matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((prefix, suffix)) => {
            path.len() >= prefix.len() + suffix.len()
                && path.starts_with(prefix)
                && path.ends_with(suffix)
                && !path[prefix.len()..path.len() - suffix.len()].contains('/')
        }
    }
}

// ---------------------------------------------------------------------------------------
// The commands, for a test that runs them

/// The `lowpriv` command lines of both examples, exactly as the YAML has them.
#[derive(Clone, Debug)]
pub struct ExampleCommands {
    pub github: ExampleCommand,
    pub kubernetes: ExampleCommand,
}

/// One example's shard and merge commands.
#[derive(Clone, Debug)]
pub struct ExampleCommand {
    /// The shard command line, starting `lowpriv run`, with the shard's placeholder in it.
    pub shard: String,
    /// What stands for the shard in `shard`: `${{ matrix.shard }}` (1-based, the matrix value)
    /// or `$(JOB_COMPLETION_INDEX)` (0-based, set by the Job controller).
    pub placeholder: &'static str,
    /// The environment variable the scheduler sets to the placeholder's value, if any.
    pub index_env: Option<&'static str>,
    /// How many shards the example runs.
    pub shards: u32,
    /// The merge command line, starting `lowpriv merge`, its glob unexpanded.
    pub merge: String,
}

/// A command to run: arguments after `lowpriv`, extra environment, working directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl ExampleCommand {
    /// Shard `k` of `shards` (1-based, as `--shard K/N` counts), run in `root`: the
    /// placeholder replaced as the scheduler would, and absolute paths (`/sites`, `/out`,
    /// the container's mounts) moved under `root`.
    pub fn shard(&self, k: u32, root: &Path) -> Invocation {
        assert!(
            (1..=self.shards).contains(&k),
            "shard {k} of {}",
            self.shards
        );
        let value = match self.index_env {
            Some(_) => k - 1,
            None => k,
        };
        let line = self.shard.replace(self.placeholder, &value.to_string());
        Invocation {
            args: words_after_lowpriv(&line, root),
            env: self
                .index_env
                .map(|var| (var.to_string(), value.to_string()))
                .into_iter()
                .collect(),
            cwd: root.to_path_buf(),
        }
    }

    /// The merge, run in `root` after the shards: its glob expanded as sh would (sorted; left
    /// as written when nothing matches), absolute paths moved under `root`.
    pub fn merge(&self, root: &Path) -> Invocation {
        let mut args = Vec::new();
        for word in words_after_lowpriv(&self.merge, root) {
            if word.contains('*') {
                let matched = expand(&word, root);
                if matched.is_empty() {
                    args.push(word);
                } else {
                    args.extend(matched);
                }
            } else {
                args.push(word);
            }
        }
        Invocation {
            args,
            env: Vec::new(),
            cwd: root.to_path_buf(),
        }
    }
}

fn words_after_lowpriv(line: &str, root: &Path) -> Vec<String> {
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("lowpriv"), "{line}");
    words
        .map(|w| match w.strip_prefix('/') {
            Some(inside) => root.join(inside).display().to_string(),
            None => w.to_string(),
        })
        .collect()
}

/// `dir/shard-*/fleet.json` → the existing paths it names (one `*`, in one component).
fn expand(pattern: &str, root: &Path) -> Vec<String> {
    let absolute = Path::new(pattern).is_absolute();
    let base = if absolute {
        PathBuf::from("/")
    } else {
        root.to_path_buf()
    };
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut found = vec![base];
    for component in components {
        let mut next = Vec::new();
        for dir in &found {
            if component.contains('*') {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.') && glob_matches(component, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| dir.join(n)));
            } else if dir.join(component).exists() {
                next.push(dir.join(component));
            }
        }
        found = next;
    }
    found
        .into_iter()
        .map(|p| {
            if absolute {
                p.display().to_string()
            } else {
                p.strip_prefix(root).unwrap().display().to_string()
            }
        })
        .collect()
}

const GITHUB: &str = "github-actions/lowpriv-fleet.yml";
const MATRIX_SHARD: &str = "${{ matrix.shard }}";
const COMPLETION_INDEX: &str = "$(JOB_COMPLETION_INDEX)";

/// The shard and merge command lines of both examples, read from their YAML.
pub fn example_commands() -> ExampleCommands {
    let workflow = &parse(GITHUB, &read(GITHUB)).unwrap()[0];
    let github = ExampleCommand {
        shard: github_shard_line(workflow).expect("the shard job runs `lowpriv run`"),
        placeholder: MATRIX_SHARD,
        index_env: None,
        shards: github_shards(workflow).expect("the shard job runs --shard K/N"),
        merge: run_line(&workflow["jobs"]["merge"], "lowpriv merge")
            .expect("the merge job runs `lowpriv merge`"),
    };
    let manifests = Manifests::read();
    let shard_job = manifests.cronjob("lowpriv-shards");
    let merge_job = manifests.cronjob("lowpriv-merge");
    let kubernetes = ExampleCommand {
        shard: kubernetes_shard_line(shard_job).expect("the shard container runs lowpriv"),
        placeholder: COMPLETION_INDEX,
        index_env: Some("JOB_COMPLETION_INDEX"),
        shards: kubernetes_shards(shard_job).expect("the shard container runs --shards N"),
        merge: kubernetes_merge_line(merge_job).expect("the merge container runs lowpriv merge"),
    };
    ExampleCommands { github, kubernetes }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions

/// The `run:` line of a step of `job` that starts with `prefix`.
fn run_line(job: &Yaml, prefix: &str) -> Option<String> {
    job["steps"].as_vec()?.iter().find_map(|step| {
        step["run"]
            .as_str()?
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
    })
}

fn github_shard_line(workflow: &Yaml) -> Option<String> {
    run_line(&workflow["jobs"]["shard"], "lowpriv run")
}

/// N in the shard command's `--shard ${{ matrix.shard }}/N`.
fn github_shards(workflow: &Yaml) -> Option<u32> {
    let line = github_shard_line(workflow)?;
    let (_, after) = line.split_once(&format!("--shard {MATRIX_SHARD}/"))?;
    after.split_whitespace().next()?.parse().ok()
}

/// The step of `job` using `action` (`actions/upload-artifact@v4`), if one does.
fn step_using<'a>(job: &'a Yaml, action: &str) -> Vec<&'a Yaml> {
    job["steps"]
        .as_vec()
        .map(|steps| {
            steps
                .iter()
                .filter(|s| s["uses"].as_str() == Some(action))
                .collect()
        })
        .unwrap_or_default()
}

fn trim_slash(path: &str) -> &str {
    path.trim_end_matches('/')
}

/// Every way the workflow text fails what the example promises; empty when it holds.
fn github_problems(text: &str) -> Vec<String> {
    let docs = match parse(GITHUB, text) {
        Ok(docs) => docs,
        Err(e) => return vec![e],
    };
    let Some(workflow) = docs.first() else {
        return vec!["empty workflow".to_string()];
    };
    let mut p = Vec::new();
    let shard = &workflow["jobs"]["shard"];
    let merge = &workflow["jobs"]["merge"];
    check(
        &mut p,
        workflow["on"].is_hash(),
        "the workflow has triggers",
    );

    // The shards: one job per matrix value 1..=N, N the command's own.
    let line = github_shard_line(workflow).unwrap_or_default();
    let words = words(&line, MATRIX_SHARD);
    let n = github_shards(workflow);
    check(
        &mut p,
        n.is_some(),
        format!("--shard {MATRIX_SHARD}/N in `{line}`"),
    );
    let matrix = strings(&shard["strategy"]["matrix"]["shard"]);
    if let Some(n) = n {
        let expected: Vec<String> = (1..=n).map(|k| k.to_string()).collect();
        check(
            &mut p,
            matrix == expected,
            format!("matrix.shard {matrix:?} is 1..={n}"),
        );
    }
    check(
        &mut p,
        shard["strategy"]["fail-fast"].as_bool() == Some(false),
        "fail-fast: false, so a shard with findings does not cancel the others",
    );
    check(&mut p, line.contains("--jobs "), "the shard sets --jobs");
    let out = flag_value(&words, "--out").unwrap_or_default();
    check(
        &mut p,
        out.contains(MATRIX_SHARD),
        format!("the shard's --out `{out}` is its own"),
    );

    // Secrets reach the shard as env, from `${{ secrets.NAME }}` under the same name, and
    // nothing else sees them.
    let env = shard["env"].as_hash();
    check(
        &mut p,
        env.is_some_and(|e| !e.is_empty()),
        "the shard job has env",
    );
    for (key, value) in env.into_iter().flatten() {
        let (key, value) = (
            string(key).unwrap_or_default(),
            string(value).unwrap_or_default(),
        );
        check(
            &mut p,
            value == format!("${{{{ secrets.{key} }}}}"),
            format!("env {key} is ${{{{ secrets.{key} }}}}, not `{value}`"),
        );
    }
    for job in keys(&workflow["jobs"]).into_iter().filter(|j| j != "shard") {
        let job_text = format!("{:?}", workflow["jobs"][job.as_str()]);
        check(
            &mut p,
            !job_text.contains("secrets."),
            format!("job {job} sees no secret"),
        );
    }

    // Each shard uploads its --out folder under a name of its own, even when it failed.
    let uploads = step_using(shard, "actions/upload-artifact@v4");
    check(&mut p, uploads.len() == 1, "the shard uploads one artifact");
    let artifact = uploads
        .first()
        .and_then(|u| u["with"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    if let Some(upload) = uploads.first() {
        check(
            &mut p,
            artifact.contains(MATRIX_SHARD),
            format!("artifact name `{artifact}` is unique per shard"),
        );
        check(
            &mut p,
            trim_slash(upload["with"]["path"].as_str().unwrap_or_default()) == trim_slash(&out),
            "the shard uploads its --out folder",
        );
        check(
            &mut p,
            upload["if"].as_str() == Some("always()"),
            "the upload runs when the shard failed too",
        );
    }

    // The merge: after every shard, however they ended, reading each one's fleet.json.
    let needs = match &merge["needs"] {
        Yaml::String(s) => vec![s.clone()],
        other => strings(other),
    };
    check(
        &mut p,
        needs.contains(&"shard".to_string()),
        "merge needs shard",
    );
    check(
        &mut p,
        merge["if"].as_str() == Some("always()"),
        "merge runs if: always()",
    );
    let downloads: Vec<&Yaml> = step_using(merge, "actions/download-artifact@v4")
        .into_iter()
        .filter(|d| !d["with"]["pattern"].is_badvalue())
        .collect();
    check(
        &mut p,
        downloads.len() == 1,
        "merge downloads the shards by pattern",
    );
    let mut downloaded_fleets = Vec::new();
    if let Some(download) = downloads.first() {
        let pattern = download["with"]["pattern"].as_str().unwrap_or_default();
        check(
            &mut p,
            download["with"]["merge-multiple"].as_bool() == Some(false),
            "merge-multiple: false (one folder per shard)",
        );
        let path = trim_slash(download["with"]["path"].as_str().unwrap_or(".")).to_string();
        for k in &matrix {
            let name = artifact.replace(MATRIX_SHARD, k);
            check(
                &mut p,
                glob_matches(pattern, &name),
                format!("pattern `{pattern}` matches artifact `{name}`"),
            );
            // Where the download puts shard k's fleet.json, and where the shard wrote it.
            let landed = format!("{path}/{name}/fleet.json");
            let written = format!("{}/fleet.json", trim_slash(&out.replace(MATRIX_SHARD, k)));
            check(
                &mut p,
                landed == written,
                format!("shard {k}: downloaded to {landed}, written as {written}"),
            );
            downloaded_fleets.push(landed);
        }
    }
    let merge_line = run_line(merge, "lowpriv merge").unwrap_or_default();
    let merge_words: Vec<String> = merge_line.split_whitespace().map(str::to_string).collect();
    let inputs: Vec<&String> = merge_words
        .iter()
        .skip(2)
        .take_while(|w| !w.starts_with("--"))
        .collect();
    check(
        &mut p,
        !downloaded_fleets.is_empty()
            && downloaded_fleets
                .iter()
                .all(|f| inputs.iter().any(|i| glob_matches(i, f))),
        format!("`{merge_line}` reads every shard's fleet.json {downloaded_fleets:?}"),
    );
    let fleet = flag_value(&merge_words, "--out").unwrap_or_default();
    check(&mut p, !fleet.is_empty(), "the merge writes --out DIR");

    // The summary and code scanning read the merge's output, also when the fleet failed.
    let steps = merge["steps"].as_vec().cloned().unwrap_or_default();
    let summary = steps.iter().find(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("GITHUB_STEP_SUMMARY"))
    });
    check(
        &mut p,
        summary.is_some_and(|s| {
            s["run"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("cat {fleet}/fleet.md >> \"$GITHUB_STEP_SUMMARY\""))
                && s["if"].as_str() == Some("always()")
        }),
        format!("{fleet}/fleet.md is appended to $GITHUB_STEP_SUMMARY, always"),
    );
    let sarif = step_using(merge, "github/codeql-action/upload-sarif@v3");
    check(
        &mut p,
        sarif.len() == 1
            && sarif[0]["with"]["sarif_file"].as_str() == Some(&format!("{fleet}/sarif"))
            && sarif[0]["if"].as_str() == Some("always()"),
        format!("upload-sarif@v3 reads the folder {fleet}/sarif, always"),
    );
    let write = |perms: &Yaml| perms["security-events"].as_str() == Some("write");
    check(
        &mut p,
        write(&merge["permissions"]),
        "the merge job may write security events",
    );
    check(
        &mut p,
        !write(&workflow["permissions"]) && !write(&shard["permissions"]),
        "only the merge job may write security events",
    );
    p
}

#[test]
fn the_github_workflow_holds_what_the_example_promises() {
    let problems = github_problems(&read(GITHUB));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_changed_github_workflow_fails_the_check() {
    let text = read(GITHUB);
    let changes: &[(&str, &str, &str)] = &[
        ("a shard missing", "shard: [1, 2, 3]", "shard: [1, 2]"),
        (
            "the shard count",
            "--shard ${{ matrix.shard }}/3",
            "--shard ${{ matrix.shard }}/4",
        ),
        ("fail-fast", "fail-fast: false", "fail-fast: true"),
        (
            "an env not from secrets",
            "${{ secrets.WIKI_API_TOKEN }}",
            "hunter2",
        ),
        (
            "a secret under another name",
            "${{ secrets.WIKI_API_TOKEN }}",
            "${{ secrets.TOKEN }}",
        ),
        (
            "one artifact name for all",
            "name: shard-${{ matrix.shard }}",
            "name: shards",
        ),
        (
            "uploading another folder",
            "path: out/shard-${{ matrix.shard }}/",
            "path: out/",
        ),
        ("merge not after shard", "needs: shard", "needs: build"),
        (
            "merge only on success",
            "    if: always()\n    runs-on",
            "    if: success()\n    runs-on",
        ),
        (
            "merged downloads",
            "merge-multiple: false",
            "merge-multiple: true",
        ),
        (
            "a pattern that misses",
            "pattern: shard-*",
            "pattern: shards-*",
        ),
        (
            "merge reads one shard",
            "merge out/shard-*/fleet.json",
            "merge out/shard-1/fleet.json",
        ),
        (
            "SARIF from elsewhere",
            "sarif_file: fleet/sarif",
            "sarif_file: fleet/sarif/fleet-1.sarif",
        ),
        (
            "no security-events",
            "security-events: write",
            "security-events: read",
        ),
        (
            "the summary from elsewhere",
            "cat fleet/fleet.md",
            "cat fleet.md",
        ),
        (
            "a secret in the merge job",
            "    if: always()\n    runs-on: ubuntu-latest\n",
            "    if: always()\n    runs-on: ubuntu-latest\n    env:\n      T: ${{ secrets.WIKI_API_TOKEN }}\n",
        ),
        ("not YAML", "jobs:", "jobs: ["),
    ];
    for (what, from, to) in changes {
        assert!(
            text.contains(from),
            "{what}: `{from}` is not in the workflow any more"
        );
        let changed = text.replacen(from, to, 1);
        assert!(!github_problems(&changed).is_empty(), "{what}: not caught");
    }
}

// ---------------------------------------------------------------------------------------
// Kubernetes

const KUBERNETES: &str = "kubernetes";

/// The Kubernetes manifests, by file name, parsed.
struct Manifests {
    files: BTreeMap<String, Vec<Yaml>>,
}

impl Manifests {
    fn read() -> Manifests {
        Manifests::parse(&kubernetes_texts()).unwrap()
    }

    fn parse(texts: &BTreeMap<String, String>) -> Result<Manifests, String> {
        let mut files = BTreeMap::new();
        for (name, text) in texts {
            files.insert(name.clone(), parse(name, text)?);
        }
        Ok(Manifests { files })
    }

    /// Every object of `kind`, with its file's name.
    fn of_kind(&self, kind: &str) -> Vec<&Yaml> {
        self.files
            .values()
            .flatten()
            .filter(|d| d["kind"].as_str() == Some(kind))
            .collect()
    }

    fn named(&self, kind: &str, name: &str) -> Option<&Yaml> {
        self.of_kind(kind)
            .into_iter()
            .find(|d| d["metadata"]["name"].as_str() == Some(name))
    }

    fn cronjob(&self, name: &str) -> &Yaml {
        self.named("CronJob", name)
            .unwrap_or_else(|| panic!("no CronJob {name}"))
    }
}

/// Every YAML file of examples/kubernetes, by name.
fn kubernetes_texts() -> BTreeMap<String, String> {
    let dir = examples_dir().join(KUBERNETES);
    let mut texts = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            texts.insert(name.clone(), read(&format!("{KUBERNETES}/{name}")));
        }
    }
    texts
}

fn pod_spec(cronjob: &Yaml) -> &Yaml {
    &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

fn container<'a>(cronjob: &'a Yaml, name: &str) -> &'a Yaml {
    pod_spec(cronjob)["containers"]
        .as_vec()
        .and_then(|cs| cs.iter().find(|c| c["name"].as_str() == Some(name)))
        .unwrap_or(&Yaml::BadValue)
}

fn kubernetes_shard_line(shards: &Yaml) -> Option<String> {
    let c = container(shards, "lowpriv");
    let mut words = strings(&c["command"]);
    words.extend(strings(&c["args"]));
    (words.first().map(String::as_str) == Some("lowpriv")).then(|| words.join(" "))
}

fn kubernetes_shards(shards: &Yaml) -> Option<u32> {
    let line = kubernetes_shard_line(shards)?;
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    flag_value(&words, "--shards")?.parse().ok()
}

/// The script's `lowpriv merge` line (after `exec`, if any).
fn kubernetes_merge_line(merge: &Yaml) -> Option<String> {
    let command = strings(&container(merge, "merge")["command"]);
    let script = command.get(2)?;
    script
        .lines()
        .map(|l| l.trim().trim_start_matches("exec ").trim())
        .find(|l| l.starts_with("lowpriv merge"))
        .map(str::to_string)
}

/// `M H * * *` → minutes after midnight.
fn daily_minute(schedule: &str) -> Option<i64> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    match fields.as_slice() {
        [m, h, "*", "*", "*"] => Some(h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
        _ => None,
    }
}

/// Where `cronjob`'s pod mounts the volume backed by `source` (`configMap` or
/// `persistentVolumeClaim`) named `name`, in container `container_name`.
fn mount_of(cronjob: &Yaml, container_name: &str, source: &str, name: &str) -> Option<String> {
    let volume = pod_spec(cronjob)["volumes"].as_vec()?.iter().find(|v| {
        let key = if source == "configMap" {
            "name"
        } else {
            "claimName"
        };
        v[source][key].as_str() == Some(name)
    })?;
    let volume = volume["name"].as_str()?;
    container(cronjob, container_name)["volumeMounts"]
        .as_vec()?
        .iter()
        .find(|m| m["name"].as_str() == Some(volume))
        .and_then(|m| m["mountPath"].as_str())
        .map(str::to_string)
}

/// Every `${VAR}` a scenario text reads.
fn scenario_vars(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}").unwrap();
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

fn kubernetes_problems(texts: &BTreeMap<String, String>) -> Vec<String> {
    let m = match Manifests::parse(texts) {
        Ok(m) => m,
        Err(e) => return vec![e],
    };
    let mut p = Vec::new();

    // kubectl apply -k applies every manifest here.
    let kustomization = m.files.get("kustomization.yaml").and_then(|d| d.first());
    let listed: BTreeSet<String> = kustomization
        .map(|k| strings(&k["resources"]).into_iter().collect())
        .unwrap_or_default();
    let present: BTreeSet<String> = texts
        .keys()
        .filter(|n| n.as_str() != "kustomization.yaml")
        .cloned()
        .collect();
    check(
        &mut p,
        listed == present,
        format!("kustomization lists {listed:?}, the folder holds {present:?}"),
    );

    let (Some(shards), Some(merge)) = (
        m.named("CronJob", "lowpriv-shards"),
        m.named("CronJob", "lowpriv-merge"),
    ) else {
        p.push("CronJobs lowpriv-shards and lowpriv-merge".to_string());
        return p;
    };

    // An Indexed Job of N pods at once, N the command's --shards.
    let job = &shards["spec"]["jobTemplate"]["spec"];
    check(
        &mut p,
        job["completionMode"].as_str() == Some("Indexed"),
        "completionMode: Indexed (the controller sets JOB_COMPLETION_INDEX)",
    );
    let n = kubernetes_shards(shards);
    check(&mut p, n.is_some(), "the shard runs --shards N");
    let n = n.map(i64::from);
    check(
        &mut p,
        job["completions"].as_i64() == n && job["parallelism"].as_i64() == n,
        format!(
            "completions {:?} and parallelism {:?} equal --shards {n:?}",
            job["completions"].as_i64(),
            job["parallelism"].as_i64()
        ),
    );
    check(
        &mut p,
        pod_spec(shards)["restartPolicy"].as_str() == Some("Never"),
        "restartPolicy: Never (podFailurePolicy needs it)",
    );
    let c = container(shards, "lowpriv");
    let line = kubernetes_shard_line(shards).unwrap_or_default();
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let out = flag_value(&words, "--out").unwrap_or_default();
    check(
        &mut p,
        out.contains(COMPLETION_INDEX),
        format!("the shard's --out `{out}` is its own"),
    );
    check(&mut p, line.contains("--jobs "), "the shard sets --jobs");
    check(
        &mut p,
        !format!("{:?}", c["env"]).contains("JOB_COMPLETION_INDEX"),
        "JOB_COMPLETION_INDEX is the controller's, not set by hand",
    );
    // $(VAR) is expanded in command and args only: anywhere else it stays literal.
    for doc in m.files.values().flatten() {
        let text = format!("{doc:?}");
        let uses = text.matches(COMPLETION_INDEX).count();
        let expanded: usize = [
            pod_spec(doc)["containers"].clone(),
            pod_spec(doc)["initContainers"].clone(),
        ]
        .iter()
        .filter_map(|cs| cs.as_vec().cloned())
        .flatten()
        .map(|c| {
            strings(&c["command"])
                .iter()
                .chain(strings(&c["args"]).iter())
                .map(|w| w.matches(COMPLETION_INDEX).count())
                .sum::<usize>()
        })
        .sum();
        check(
            &mut p,
            uses == expanded,
            "$(JOB_COMPLETION_INDEX) only in command and args",
        );
    }

    // The scenarios from the ConfigMap, the passwords from the Secret.
    let sites = flag_value(&words, "run").unwrap_or_default();
    let config_map = m.of_kind("ConfigMap").into_iter().next();
    let config_name = config_map
        .and_then(|c| c["metadata"]["name"].as_str())
        .unwrap_or_default();
    check(
        &mut p,
        mount_of(shards, "lowpriv", "configMap", config_name).as_deref() == Some(sites.as_str()),
        format!("ConfigMap {config_name} is mounted at {sites}, the folder run reads"),
    );
    let secret = m.of_kind("Secret").into_iter().next();
    let secret_name = secret
        .and_then(|s| s["metadata"]["name"].as_str())
        .unwrap_or_default();
    let refs: Vec<String> = c["envFrom"]
        .as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|e| e["secretRef"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    check(
        &mut p,
        !secret_name.is_empty() && refs == [secret_name.to_string()],
        format!("envFrom secretRef {refs:?} is the Secret {secret_name}"),
    );
    check(
        &mut p,
        !format!("{merge:?}").contains("secretRef"),
        "the merge sees no secret",
    );
    let secret_keys: BTreeSet<String> = secret
        .map(|s| {
            keys(&s["stringData"])
                .into_iter()
                .chain(keys(&s["data"]))
                .collect()
        })
        .unwrap_or_default();
    let needed: BTreeSet<String> = config_map
        .and_then(|c| c["data"].as_hash())
        .map(|d| {
            d.values()
                .filter_map(|v| v.as_str())
                .flat_map(scenario_vars)
                .collect()
        })
        .unwrap_or_default();
    check(
        &mut p,
        !needed.is_empty() && needed == secret_keys,
        format!("the scenarios read {needed:?}, the Secret holds {secret_keys:?}"),
    );

    // One volume for every shard's output and the merge, shared across nodes.
    let pvc = m.of_kind("PersistentVolumeClaim").into_iter().next();
    let claim = pvc
        .and_then(|v| v["metadata"]["name"].as_str())
        .unwrap_or_default();
    check(
        &mut p,
        pvc.is_some_and(|v| strings(&v["spec"]["accessModes"]).contains(&"ReadWriteMany".into())),
        "the output volume is ReadWriteMany (shard pods run at once)",
    );
    let shard_mount = mount_of(shards, "lowpriv", "persistentVolumeClaim", claim);
    let merge_mount = mount_of(merge, "merge", "persistentVolumeClaim", claim);
    check(
        &mut p,
        shard_mount.is_some() && shard_mount == merge_mount,
        format!("shards and merge mount claim {claim} alike ({shard_mount:?}, {merge_mount:?})"),
    );
    check(
        &mut p,
        shard_mount
            .as_deref()
            .is_some_and(|m| out.starts_with(&format!("{}/", trim_slash(m)))),
        format!("the shard writes {out} on the shared volume"),
    );

    // The merge: through sh (so the glob expands), reading every shard's fleet.json, after
    // the shards are done.
    let command = strings(&container(merge, "merge")["command"]);
    check(
        &mut p,
        command.len() == 3 && command[0] == "sh" && command[1] == "-c",
        "the merge runs through sh -c",
    );
    let merge_line = kubernetes_merge_line(merge).unwrap_or_default();
    let merge_words: Vec<String> = merge_line.split_whitespace().map(str::to_string).collect();
    let inputs: Vec<&String> = merge_words
        .iter()
        .skip(2)
        .take_while(|w| !w.starts_with("--"))
        .collect();
    let fleets: Vec<String> = (0..n.unwrap_or(0))
        .map(|i| {
            format!(
                "{}/fleet.json",
                out.replace(COMPLETION_INDEX, &i.to_string())
            )
        })
        .collect();
    check(
        &mut p,
        !fleets.is_empty()
            && fleets
                .iter()
                .all(|f| inputs.iter().any(|i| glob_matches(i, f))),
        format!("`{merge_line}` reads every shard's fleet.json {fleets:?}"),
    );
    check(
        &mut p,
        flag_value(&merge_words, "--out").is_some_and(|o| !glob_matches(&out, &o)),
        "the merge writes its own folder",
    );
    let start = daily_minute(shards["spec"]["schedule"].as_str().unwrap_or_default());
    let merged = daily_minute(merge["spec"]["schedule"].as_str().unwrap_or_default());
    let deadline = job["activeDeadlineSeconds"].as_i64();
    check(
        &mut p,
        match (start, merged, deadline) {
            (Some(s), Some(m), Some(d)) => m - s > d / 60,
            _ => false,
        },
        format!(
            "the merge ({merged:?}) starts after the shards ({start:?}) are stopped ({deadline:?} s)"
        ),
    );
    p
}

#[test]
fn the_kubernetes_manifests_hold_what_the_example_promises() {
    let problems = kubernetes_problems(&kubernetes_texts());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn changed_kubernetes_manifests_fail_the_check() {
    let texts = kubernetes_texts();
    let changes: &[(&str, &str, &str, &str)] = &[
        (
            "cronjob-shards.yaml",
            "not Indexed",
            "completionMode: Indexed",
            "completionMode: NonIndexed",
        ),
        (
            "cronjob-shards.yaml",
            "fewer completions",
            "completions: 3",
            "completions: 2",
        ),
        (
            "cronjob-shards.yaml",
            "less parallelism",
            "parallelism: 3",
            "parallelism: 1",
        ),
        (
            "cronjob-shards.yaml",
            "another shard count",
            "- --shards\n                - \"3\"",
            "- --shards\n                - \"4\"",
        ),
        (
            "cronjob-shards.yaml",
            "one --out for all",
            "- /out/shard-$(JOB_COMPLETION_INDEX)",
            "- /out/shard",
        ),
        (
            "cronjob-shards.yaml",
            "another Secret",
            "name: lowpriv-site-secrets",
            "name: other-secrets",
        ),
        (
            "cronjob-shards.yaml",
            "another ConfigMap",
            "name: lowpriv-sites",
            "name: other-sites",
        ),
        (
            "cronjob-shards.yaml",
            "restarting pods",
            "restartPolicy: Never",
            "restartPolicy: OnFailure",
        ),
        (
            "cronjob-shards.yaml",
            "the index set by hand",
            "envFrom:",
            "env:\n                - name: JOB_COMPLETION_INDEX\n                  value: \"0\"\n              envFrom:",
        ),
        (
            "cronjob-shards.yaml",
            "the index in an env value",
            "envFrom:",
            "env:\n                - name: SHARD\n                  value: $(JOB_COMPLETION_INDEX)\n              envFrom:",
        ),
        (
            "cronjob-shards.yaml",
            "the merge too early",
            "schedule: \"0 3 * * *\"",
            "schedule: \"0 4 * * *\"",
        ),
        (
            "cronjob-merge.yaml",
            "merge reads one shard",
            "merge /out/shard-*/fleet.json",
            "merge /out/shard-0/fleet.json",
        ),
        (
            "cronjob-merge.yaml",
            "no shell for the glob",
            "                - sh\n                - -c\n",
            "                - lowpriv\n                - -c\n",
        ),
        (
            "cronjob-merge.yaml",
            "another volume",
            "claimName: lowpriv-out",
            "claimName: other-out",
        ),
        (
            "pvc.yaml",
            "one node only",
            "- ReadWriteMany",
            "- ReadWriteOnce",
        ),
        (
            "secret.yaml",
            "a password missing",
            "  WIKI_API_TOKEN: replace-me\n",
            "",
        ),
        (
            "configmap.yaml",
            "a password not in the Secret",
            "${WIKI_API_TOKEN}",
            "${WIKI_TOKEN}",
        ),
        (
            "kustomization.yaml",
            "a manifest not applied",
            "  - pvc.yaml\n",
            "",
        ),
        ("cronjob-merge.yaml", "not YAML", "spec:", "spec: ["),
    ];
    for (file, what, from, to) in changes {
        let mut changed = texts.clone();
        let text = changed.get_mut(*file).unwrap();
        assert!(
            text.contains(from),
            "{what}: `{from}` is not in {file} any more"
        );
        *text = text.replacen(from, to, 1);
        assert!(
            !kubernetes_problems(&changed).is_empty(),
            "{what}: not caught"
        );
    }
}

#[test]
fn the_example_scenarios_are_valid_and_need_only_the_secrets_given() {
    let manifests = Manifests::read();
    let config_map = manifests.of_kind("ConfigMap")[0];
    let dir = temp_dir();
    let mut files = Vec::new();
    let mut vars = BTreeSet::new();
    for (name, text) in config_map["data"].as_hash().unwrap() {
        let (name, text) = (name.as_str().unwrap(), text.as_str().unwrap());
        std::fs::write(dir.path().join(name), text).unwrap();
        files.push(name.to_string());
        vars.extend(scenario_vars(text));
    }
    let env: Vec<(String, String)> = vars
        .iter()
        .map(|v| (v.clone(), "example-value".to_string()))
        .collect();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let out = lowpriv_in(dir.path(), &args, &env_refs);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Without one secret a lint job's check still passes, naming it; `--require-env` asks
    // for every value, so the same files without it are refused.
    let out = lowpriv_in(dir.path(), &args, &env_refs[1..]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!(
            "not set, checked for form only: {}",
            env_refs[0].0
        )),
        "{}",
        text(&out.stdout)
    );
    let mut strict = args.clone();
    strict.insert(1, "--require-env");
    let out = lowpriv_in(dir.path(), &strict, &env_refs[1..]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(env_refs[0].0),
        "{}",
        text(&out.stderr)
    );
    let out = lowpriv_in(dir.path(), &strict, &env_refs);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The GitHub shards get the same variables from secrets of the same names.
    let workflow = &parse(GITHUB, &read(GITHUB)).unwrap()[0];
    let github_env: BTreeSet<String> = keys(&workflow["jobs"]["shard"]["env"])
        .into_iter()
        .collect();
    assert_eq!(github_env, vars);
}

#[test]
fn every_yaml_file_in_the_examples_parses_and_the_readme_names_it() {
    let readme = read("README.md");
    let mut seen = 0;
    let mut stack = vec![examples_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let docs = parse(&name, &text).unwrap();
            assert!(
                !docs.is_empty() && docs.iter().all(Yaml::is_hash),
                "{path:?}"
            );
            assert!(readme.contains(&name), "README.md names {name}");
            seen += 1;
        }
    }
    assert!(seen >= 7, "{seen} YAML files");
    // The negative: a broken file is told apart.
    assert!(parse("broken.yaml", "a: [1, 2").is_err());
}

#[test]
fn the_commands_are_extracted_as_written() {
    let commands = example_commands();
    assert_eq!(
        commands.github.shard,
        "lowpriv run sites/ --shard ${{ matrix.shard }}/3 --jobs 8 --out out/shard-${{ matrix.shard }}"
    );
    assert_eq!(
        commands.github.merge,
        "lowpriv merge out/shard-*/fleet.json --out fleet"
    );
    assert_eq!(
        commands.kubernetes.shard,
        "lowpriv run /sites --shards 3 --jobs 8 --out /out/shard-$(JOB_COMPLETION_INDEX)"
    );
    assert_eq!(
        commands.kubernetes.merge,
        "lowpriv merge /out/shard-*/fleet.json --out /out/fleet"
    );
    assert_eq!((commands.github.shards, commands.kubernetes.shards), (3, 3));

    let root = temp_dir();
    let root = root.path();
    // GitHub's K is the matrix value; Kubernetes' pod gets K - 1 and `--shards`.
    assert_eq!(
        commands.github.shard(2, root),
        Invocation {
            args: "run sites/ --shard 2/3 --jobs 8 --out out/shard-2"
                .split(' ')
                .map(str::to_string)
                .collect(),
            env: vec![],
            cwd: root.to_path_buf(),
        }
    );
    let k8s = commands.kubernetes.shard(2, root);
    let r = root.display();
    assert_eq!(
        k8s.args,
        format!("run {r}/sites --shards 3 --jobs 8 --out {r}/out/shard-1")
            .split(' ')
            .map(str::to_string)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        k8s.env,
        [("JOB_COMPLETION_INDEX".to_string(), "1".to_string())]
    );

    // The merge's glob: every shard folder with a fleet.json, sorted; nothing else.
    for k in [2, 1, 3] {
        std::fs::create_dir_all(root.join(format!("out/shard-{k}"))).unwrap();
        std::fs::write(root.join(format!("out/shard-{k}/fleet.json")), "{}").unwrap();
    }
    std::fs::create_dir_all(root.join("out/other")).unwrap();
    std::fs::write(root.join("out/other/fleet.json"), "{}").unwrap();
    std::fs::create_dir_all(root.join("out/shard-4")).unwrap();
    assert_eq!(
        commands.github.merge(root).args,
        [
            "merge",
            "out/shard-1/fleet.json",
            "out/shard-2/fleet.json",
            "out/shard-3/fleet.json",
            "--out",
            "fleet"
        ]
    );
    let empty = temp_dir();
    assert_eq!(
        commands.kubernetes.merge(empty.path()).args[1],
        format!("{}/out/shard-*/fleet.json", empty.path().display()),
        "no match: the glob stays as written, as sh leaves it"
    );
}
