//! The files in `deploy/` parse, and they call the binary with flags it really has: each
//! `--flag` they pass must be in the `--help` of the command they call (`run`, `serve`, `split`,
//! `merge`). The Kubernetes files name the image the Containerfile builds, the systemd units
//! alert on failure, and the crontab's retry wrapper retries exit code 1 only.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `--flags` of `settle <sub> --help`.
fn flags(sub: &str) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args([sub, "--help"])
        .output()
        .expect("settle runs");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
        .collect()
}

/// Checks a command line given as words: the binary, `run`, and only known flags, with
/// `--inputs`, `--templates` and `--out` given a value (the dataset's config passed explicitly,
/// not found from the working folder). Returns the flags' values.
fn check_command(words: &[&str], what: &str) -> BTreeMap<String, String> {
    let values = check_sub(words, what, "run");
    for flag in ["--inputs", "--templates", "--out"] {
        assert!(
            values.get(flag).is_some_and(|v| !v.is_empty()),
            "{what}: `{flag}` is given: {values:?}"
        );
    }
    values
}

/// [`check_command`] for `settle serve`: `--out` and `--users` are given.
fn check_serve(words: &[&str], what: &str) -> BTreeMap<String, String> {
    let values = check_sub(words, what, "serve");
    for flag in ["--out", "--users", "--audit", "--bind"] {
        assert!(
            values.get(flag).is_some_and(|v| !v.is_empty()),
            "{what}: `{flag}` is given: {values:?}"
        );
    }
    values
}

fn check_sub(words: &[&str], what: &str, sub: &str) -> BTreeMap<String, String> {
    let known = flags(sub);
    let at = words
        .iter()
        .position(|w| w.ends_with("settle") && !w.starts_with('-'))
        .unwrap_or_else(|| panic!("{what}: no settle binary in {words:?}"));
    assert_eq!(words.get(at + 1), Some(&sub), "{what}: `settle {sub}`");
    let mut values = BTreeMap::new();
    let mut rest = words[at + 2..].iter().peekable();
    while let Some(w) = rest.next() {
        assert!(w.starts_with("--"), "{what}: `{w}` is not a flag");
        assert!(
            known.iter().any(|k| k == w),
            "{what}: `{w}` is not in `settle {sub} --help`: {known:?}"
        );
        let value = match rest.peek() {
            Some(v) if !v.starts_with("--") && !v.starts_with('>') => {
                rest.next().map(|v| v.to_string())
            }
            _ => None,
        };
        if let Some(v) = value {
            values.insert(w.to_string(), v);
        } else if matches!(
            *w,
            "--inputs"
                | "--out"
                | "--period"
                | "--templates"
                | "--users"
                | "--audit"
                | "--bind"
                | "--stage"
                | "--shard"
                | "--shards"
                | "--part"
        ) {
            panic!("{what}: `{w}` needs a value");
        } else {
            values.insert(w.to_string(), String::new());
        }
        if rest.peek().is_some_and(|v| v.starts_with('>')) {
            break;
        }
    }
    values
}

/// A systemd unit file: `[Section]` → key → values.
fn unit(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            sections.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: `{line}` is not `Key=value`", n + 1));
        let section = current
            .clone()
            .unwrap_or_else(|| panic!("line {}: outside a section", n + 1));
        sections
            .entry(section)
            .or_default()
            .insert(key.trim().to_string(), value.trim().to_string());
    }
    sections
}

/// The image the Containerfile builds, as its header says to tag it.
const IMAGE: &str = "settle:0.1.0";

#[test]
fn the_containerfile_builds_the_image_the_deploy_files_name() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Containerfile"))
        .expect("Containerfile");
    assert!(text.contains(&format!("-t {IMAGE}")), "tagged {IMAGE}");
    assert_eq!(
        IMAGE.rsplit(':').next(),
        Some(env!("CARGO_PKG_VERSION")),
        "the tag is the crate's version"
    );
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "build, then runtime: {stages:?}");
    assert!(text.contains("cargo build --release --locked"));
    assert!(text.contains("COPY templates /usr/local/share/settle/templates"));
    let user = text
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER");
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/settle\"]"));
    // Every instruction is one Containerfile knows, and continued lines end with `\`.
    let known = [
        "FROM",
        "ARG",
        "WORKDIR",
        "COPY",
        "RUN",
        "USER",
        "ENTRYPOINT",
        "CMD",
        "ENV",
        "LABEL",
    ];
    let mut continued = false;
    for line in text.lines() {
        let t = line.trim();
        if !continued && !t.is_empty() && !t.starts_with('#') {
            let word = t.split_whitespace().next().unwrap_or_default();
            assert!(known.contains(&word), "unknown instruction `{word}`");
        }
        if !t.starts_with('#') {
            continued = t.ends_with('\\');
        }
    }
    // The build context leaves the build folder out.
    let ignore =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".dockerignore"))
            .expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"));
}

/// A Job's spec (a Job's own, or a CronJob's `jobTemplate`): exit codes, image, flags, volumes.
fn check_job(job: &Yaml, what: &str) -> BTreeMap<String, String> {
    let pod = &job["template"]["spec"];
    assert_eq!(
        pod["restartPolicy"].as_str(),
        Some("Never"),
        "{what}: podFailurePolicy needs it"
    );
    let container = &pod["containers"][0];
    let name = container["name"].as_str().expect("a container name");
    assert_eq!(container["image"].as_str(), Some(IMAGE), "{what}");

    // Exit codes: 2, 3 and 137 (the OOM killer) fail the Job, 1 is retried; evictions are
    // ignored, and that rule comes first, since an eviction's kill is also 137.
    let rules = job["podFailurePolicy"]["rules"].as_vec().expect("rules");
    assert_eq!(
        rules[0]["onPodConditions"][0]["type"].as_str(),
        Some("DisruptionTarget"),
        "{what}"
    );
    assert_eq!(rules[0]["action"].as_str(), Some("Ignore"));
    let mut actions = BTreeMap::new();
    for rule in rules {
        let on = &rule["onExitCodes"];
        if on.is_badvalue() {
            continue;
        }
        assert_eq!(on["containerName"].as_str(), Some(name));
        assert_eq!(on["operator"].as_str(), Some("In"));
        for code in on["values"].as_vec().expect("codes") {
            actions.insert(
                code.as_i64().expect("a code"),
                rule["action"].as_str().expect("an action"),
            );
        }
    }
    assert_eq!(
        actions,
        BTreeMap::from([
            (1, "Count"),
            (2, "FailJob"),
            (3, "FailJob"),
            (137, "FailJob")
        ]),
        "{what}"
    );

    let mut words: Vec<&str> = vec!["settle"];
    words.extend(
        container["args"]
            .as_vec()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("text")),
    );
    let values = check_command(&words, what);
    assert_eq!(values["--templates"], "/usr/local/share/settle/templates");
    let mounts = mounts(container);
    let volumes = claims(pod);
    for flag in ["--inputs", "--out"] {
        let path = &values[flag];
        let (volume, _, _) = mounts
            .iter()
            .find(|(_, at, _)| path.starts_with(at))
            .unwrap_or_else(|| panic!("{what}: `{flag} {path}` is on a mounted volume"));
        assert!(
            volumes.contains_key(volume),
            "volume `{volume}` is declared"
        );
    }
    let (_, _, read_only) = mounts
        .iter()
        .find(|(_, at, _)| values["--inputs"].starts_with(at))
        .expect("mounted");
    assert!(read_only, "{what}: inputs are read only");
    values
}

/// A container's mounts: volume, path, read-only.
fn mounts(container: &Yaml) -> Vec<(String, String, bool)> {
    container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("a name").to_string(),
                m["mountPath"].as_str().expect("a path").to_string(),
                m["readOnly"] == Yaml::Boolean(true),
            )
        })
        .collect()
}

/// A pod's volumes: name → claim (or the kind of volume).
fn claims(pod: &Yaml) -> BTreeMap<String, String> {
    pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .map(|v| {
            let claim = v["persistentVolumeClaim"]["claimName"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| "other".into());
            (v["name"].as_str().expect("a name").to_string(), claim)
        })
        .collect()
}

fn yaml(file: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&deploy(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_kubernetes_cronjob() {
    let docs = yaml("kubernetes/cronjob.yaml");
    let cron = &docs[0];
    assert_eq!(cron["kind"].as_str(), Some("CronJob"));
    let spec = &cron["spec"];
    assert_eq!(spec["concurrencyPolicy"].as_str(), Some("Forbid"));
    let schedule: Vec<&str> = spec["schedule"]
        .as_str()
        .expect("a schedule")
        .split(' ')
        .collect();
    assert_eq!(schedule.len(), 5);
    let day: u32 = schedule[2].parse().expect("one day of the month");
    assert!(
        day >= 6,
        "after Huawei's bills are final on the 5th: {schedule:?}"
    );
    assert!(spec["timeZone"].as_str().is_some());
    check_job(&spec["jobTemplate"]["spec"], "cronjob.yaml");
}

#[test]
fn the_kubernetes_rerun_job() {
    let docs = yaml("kubernetes/job.yaml");
    assert_eq!(docs[0]["kind"].as_str(), Some("Job"));
    let values = check_job(&docs[0]["spec"], "job.yaml");
    assert!(values.contains_key("--period"), "a re-run names its month");
}

#[test]
fn the_kubernetes_portal_serves_the_cronjobs_outputs() {
    let docs = yaml("kubernetes/portal.yaml");
    let deployment = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("a Deployment");
    let service = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Service"))
        .expect("a Service");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"].as_str(), Some(IMAGE));
    let mut words: Vec<&str> = vec!["settle"];
    words.extend(
        container["args"]
            .as_vec()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("text")),
    );
    let values = check_serve(&words, "portal.yaml");
    // The outputs the portal serves are on the claim the CronJob writes to.
    let cron = &yaml("kubernetes/cronjob.yaml")[0];
    let job_pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let job_claims = claims(job_pod);
    let job_out = mounts(&job_pod["containers"][0])
        .into_iter()
        .find(|(name, _, _)| name == "outputs")
        .expect("the job's outputs");
    assert_eq!(job_out.0, "outputs");
    let (volume, _, read_only) = mounts(container)
        .into_iter()
        .find(|(_, at, _)| values["--out"].starts_with(at.as_str()))
        .expect("--out is mounted");
    assert!(read_only, "the portal only reads the outputs");
    assert_eq!(
        claims(pod)[&volume],
        job_claims["outputs"],
        "the same claim"
    );
    // The Service reaches the container's port; the bind address is reachable from the pod.
    let port = &container["ports"][0];
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"].as_str(),
        port["name"].as_str()
    );
    assert!(values["--bind"].ends_with(&format!(
        ":{}",
        port["containerPort"].as_i64().expect("a port")
    )));
    assert_eq!(
        service["spec"]["selector"]["app"],
        deployment["spec"]["template"]["metadata"]["labels"]["app"]
    );
}

#[test]
fn the_systemd_service_and_timer() {
    let service = unit(&deploy("systemd/settle.service"));
    let s = &service["Service"];
    assert_eq!(s["Type"], "oneshot");
    let words: Vec<&str> = s["ExecStart"].split_whitespace().collect();
    assert!(
        words[0].starts_with('/'),
        "ExecStart names the binary by its path"
    );
    check_command(&words, "settle.service");
    let no_retry: Vec<&str> = s["RestartPreventExitStatus"].split_whitespace().collect();
    assert_eq!(no_retry, ["2", "3"], "a bad dataset is not retried");
    assert_eq!(s["Restart"], "on-failure");

    assert_eq!(
        service["Unit"]["OnFailure"], "settle-alert@%n.service",
        "a failed month alerts"
    );
    assert_eq!(s["LogsDirectory"], "settle");
    let alert = unit(&deploy("systemd/settle-alert@.service"));
    assert_eq!(alert["Service"]["Type"], "oneshot");
    assert!(alert["Service"]["ExecStart"].contains("%i"));

    let portal = unit(&deploy("systemd/settle-portal.service"));
    let p = &portal["Service"];
    let words: Vec<&str> = p["ExecStart"].split_whitespace().collect();
    assert!(words[0].starts_with('/'));
    let values = check_serve(&words, "settle-portal.service");
    assert!(p["ReadWritePaths"].contains("/var/log/settle"));
    assert!(values["--audit"].starts_with("/var/log/settle/"));
    assert!(
        p["ExecReload"].contains("-HUP"),
        "reload re-reads the users file"
    );
    assert_eq!(portal["Install"]["WantedBy"], "multi-user.target");

    // Nothing else makes the folders the units write to.
    let tmpfiles = deploy("systemd/settle.tmpfiles");
    for dir in ["/srv/settle", "/srv/settle/outputs", "/var/log/settle"] {
        assert!(
            tmpfiles
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(dir) && l.starts_with('d')),
            "{dir} is made"
        );
    }
    assert!(deploy("systemd/settle.sysusers").contains("u settle "));

    let timer = unit(&deploy("systemd/settle.timer"));
    let t = &timer["Timer"];
    assert!(
        t["OnCalendar"].starts_with("*-*-06 "),
        "after Huawei's bills are final on the 5th: {}",
        t["OnCalendar"]
    );
    assert_eq!(t["Persistent"], "true");
    assert_eq!(t["Unit"], "settle.service");
    assert_eq!(timer["Install"]["WantedBy"], "timers.target");
}

#[test]
fn the_crontab_line() {
    let text = deploy("crontab");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.contains('='))
        .collect();
    assert_eq!(lines.len(), 1, "one job");
    let words: Vec<&str> = lines[0].split_whitespace().collect();
    for (field, range) in words[..5].iter().zip([0..60, 0..24, 1..32, 1..13, 0..8]) {
        if *field != "*" {
            let n: u32 = field.parse().expect("a number or `*`");
            assert!(range.contains(&n), "`{field}` is in {range:?}");
        }
    }
    assert_eq!(words[2], "6", "after Huawei's bills are final on the 5th");
    assert_eq!(words[5], "settle", "the user");
    let retry = words
        .iter()
        .position(|w| w.ends_with("/retry"))
        .expect("the retry wrapper");
    let binary = words
        .iter()
        .position(|w| w.ends_with("/settle"))
        .expect("the binary");
    assert_eq!(retry + 1, binary, "the wrapper runs settle");
    check_command(&words[6..], "crontab");
}

/// Counts how many times `deploy/retry.sh` runs a command that exits with `code`.
fn tries(code: i32) -> (usize, Option<i32>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-retry-{code}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let count = dir.join("count");
    let status = Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/retry.sh"))
        .args(["sh", "-c", &format!("echo x >> \"$0\"; exit {code}")])
        .arg(&count)
        .env("RETRY_DELAY", "0")
        .env("RETRIES", "3")
        .stderr(std::process::Stdio::null())
        .status()
        .expect("sh runs");
    let n = std::fs::read_to_string(&count)
        .unwrap_or_default()
        .lines()
        .count();
    (n, status.code())
}

#[test]
fn the_crontabs_retry_wrapper_retries_exit_1_only() {
    assert_eq!(tries(1), (4, Some(1)), "1 is retried 3 times");
    for code in [0, 2, 3, 101] {
        assert_eq!(tries(code), (1, Some(code)), "{code} is not retried");
    }
}

/// An Indexed Job whose pods pass their index as `flag`'s `I/N`, `N` being its completions, from
/// the environment, and fail or are retried one index at a time.
fn indexed(
    spec: &Yaml,
    container: &Yaml,
    values: &BTreeMap<String, String>,
    flag: &str,
    what: &str,
) {
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"), "{what}");
    assert!(
        spec["backoffLimitPerIndex"].as_i64().is_some(),
        "{what}: retried per index"
    );
    let n = spec["completions"].as_i64().expect("completions");
    assert_eq!(
        spec["parallelism"].as_i64(),
        Some(n),
        "{what}: every index at once"
    );
    assert_eq!(
        values[flag],
        format!("$(JOB_COMPLETION_INDEX)/{n}"),
        "{what}"
    );
    assert_eq!(
        container["env"][0]["name"].as_str(),
        Some("JOB_COMPLETION_INDEX"),
        "{what}: the index is in the environment the args are expanded from"
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']"),
        "{what}"
    );
}

/// The sharded month (`kubernetes/sharded.yaml`): an Indexed Job of the split's parts, one of
/// shards and a merge, each calling `settle` with flags its `--help` lists, sharing one stage
/// volume; a part's or a shard's failure fails its own index only.
#[test]
fn the_kubernetes_sharded_month() {
    let docs = yaml("kubernetes/sharded.yaml");
    let job = |name: &str| {
        docs.iter()
            .find(|d| d["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("a Job `{name}`"))
    };
    let (split, shards, merge) = (
        job("settle-split"),
        job("settle-shards"),
        job("settle-merge"),
    );
    let mut stage_claims = Vec::new();
    let mut stage_paths = Vec::new();
    for (doc, sub, fail) in [
        (split, "split", "FailIndex"),
        (shards, "run", "FailIndex"),
        (merge, "merge", "FailJob"),
    ] {
        assert_eq!(doc["kind"].as_str(), Some("Job"));
        let spec = &doc["spec"];
        let what = format!("sharded.yaml, {sub}");
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"].as_str(), Some("Never"), "{what}");
        let container = &pod["containers"][0];
        assert_eq!(container["image"].as_str(), Some(IMAGE), "{what}");
        let name = container["name"].as_str().expect("a container name");
        let rules = spec["podFailurePolicy"]["rules"].as_vec().expect("rules");
        assert_eq!(
            rules[0]["onPodConditions"][0]["type"].as_str(),
            Some("DisruptionTarget"),
            "{what}: an eviction is ignored, first"
        );
        assert_eq!(rules[0]["action"].as_str(), Some("Ignore"));
        let mut actions = BTreeMap::new();
        for rule in rules.iter().skip(1) {
            let on = &rule["onExitCodes"];
            assert_eq!(on["containerName"].as_str(), Some(name));
            assert_eq!(on["operator"].as_str(), Some("In"));
            for code in on["values"].as_vec().expect("codes") {
                actions.insert(
                    code.as_i64().expect("a code"),
                    rule["action"].as_str().expect("an action"),
                );
            }
        }
        assert_eq!(
            actions,
            BTreeMap::from([(1, "Count"), (2, fail), (3, fail), (137, fail)]),
            "{what}"
        );
        let mut words: Vec<&str> = vec!["settle"];
        words.extend(
            container["args"]
                .as_vec()
                .expect("args")
                .iter()
                .map(|a| a.as_str().expect("text")),
        );
        let values = check_sub(&words, &what, sub);
        let mounts = mounts(container);
        let volumes = claims(pod);
        let on_volume = |path: &str| {
            let (volume, _, read_only) = mounts
                .iter()
                .find(|(_, at, _)| path.starts_with(at.as_str()))
                .unwrap_or_else(|| panic!("{what}: `{path}` is on a mounted volume"));
            (volumes[volume].clone(), *read_only)
        };
        let stage = match sub {
            "split" => {
                assert!(
                    on_volume(&values["--inputs"]).1,
                    "{what}: inputs are read only"
                );
                assert_eq!(
                    values["--shards"],
                    shards["spec"]["completions"]
                        .as_i64()
                        .expect("completions")
                        .to_string()
                );
                indexed(spec, container, &values, "--part", &what);
                values["--out"].clone()
            }
            "run" => {
                indexed(spec, container, &values, "--shard", &what);
                values["--stage"].clone()
            }
            _ => {
                assert_eq!(values["--templates"], "/usr/local/share/settle/templates");
                assert!(!on_volume(&values["--out"]).1, "{what}: writes its outputs");
                values["--stage"].clone()
            }
        };
        stage_claims.push(on_volume(&stage).0);
        stage_paths.push(stage);
    }
    assert!(
        stage_claims.iter().all(|c| c == "settle-stage"),
        "one stage claim: {stage_claims:?}"
    );
    assert!(
        stage_paths.windows(2).all(|w| w[0] == w[1]),
        "one stage: {stage_paths:?}"
    );
}
