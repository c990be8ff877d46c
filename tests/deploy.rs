//! The scheduler files in `deploy/` parse, and they call the binary with flags it really has:
//! each `--flag` they pass must be in `settle run --help`.

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

/// The `--flags` of `settle run --help`.
fn run_flags() -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["run", "--help"])
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
/// `--inputs` and `--out` given a value. Returns the flags' values.
fn check_command(words: &[&str], what: &str) -> BTreeMap<String, String> {
    let known = run_flags();
    let at = words
        .iter()
        .position(|w| w.ends_with("settle") && !w.starts_with('-'))
        .unwrap_or_else(|| panic!("{what}: no settle binary in {words:?}"));
    assert_eq!(words.get(at + 1), Some(&"run"), "{what}: `settle run`");
    let mut values = BTreeMap::new();
    let mut rest = words[at + 2..].iter().peekable();
    while let Some(w) = rest.next() {
        assert!(w.starts_with("--"), "{what}: `{w}` is not a flag");
        assert!(
            known.iter().any(|k| k == w),
            "{what}: `{w}` is not in `settle run --help`: {known:?}"
        );
        let value = match rest.peek() {
            Some(v) if !v.starts_with("--") && !v.starts_with('>') => {
                rest.next().map(|v| v.to_string())
            }
            _ => None,
        };
        if let Some(v) = value {
            values.insert(w.to_string(), v);
        } else if w.starts_with("--") && matches!(*w, "--inputs" | "--out" | "--period") {
            panic!("{what}: `{w}` needs a value");
        } else {
            values.insert(w.to_string(), String::new());
        }
        if rest.peek().is_some_and(|v| v.starts_with('>')) {
            break;
        }
    }
    assert!(
        values.contains_key("--inputs") && values.contains_key("--out"),
        "{what}: {values:?}"
    );
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

#[test]
fn the_kubernetes_cronjob() {
    let docs = YamlLoader::load_from_str(&deploy("kubernetes/cronjob.yaml")).expect("YAML");
    let cron = &docs[0];
    assert_eq!(cron["kind"].as_str(), Some("CronJob"));
    let spec = &cron["spec"];
    assert_eq!(spec["concurrencyPolicy"].as_str(), Some("Forbid"));
    assert_eq!(
        spec["schedule"].as_str().map(|s| s.split(' ').count()),
        Some(5)
    );
    let job = &spec["jobTemplate"]["spec"];
    let pod = &job["template"]["spec"];
    assert_eq!(
        pod["restartPolicy"].as_str(),
        Some("Never"),
        "podFailurePolicy needs it"
    );
    let container = &pod["containers"][0];
    let name = container["name"].as_str().expect("a container name");
    assert!(container["image"].as_str().is_some());

    // Exit codes: 2 and 3 fail the Job, 1 is retried.
    let mut actions = BTreeMap::new();
    for rule in job["podFailurePolicy"]["rules"].as_vec().expect("rules") {
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
        BTreeMap::from([(1, "Count"), (2, "FailJob"), (3, "FailJob")])
    );

    let mut words: Vec<&str> = vec!["settle"];
    words.extend(
        container["args"]
            .as_vec()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("text")),
    );
    let values = check_command(&words, "cronjob.yaml");
    let mounts: Vec<(&str, &str)> = container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("a name"),
                m["mountPath"].as_str().expect("a path"),
            )
        })
        .collect();
    let volumes: Vec<&str> = pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for flag in ["--inputs", "--out"] {
        let path = &values[flag];
        let (volume, _) = mounts
            .iter()
            .find(|(_, at)| path.starts_with(at))
            .unwrap_or_else(|| panic!("`{flag} {path}` is on a mounted volume"));
        assert!(volumes.contains(volume), "volume `{volume}` is declared");
    }
    let inputs = mounts
        .iter()
        .position(|(_, at)| values["--inputs"].starts_with(at))
        .expect("mounted");
    assert_eq!(
        container["volumeMounts"][inputs]["readOnly"],
        Yaml::Boolean(true),
        "inputs are read only"
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

    let timer = unit(&deploy("systemd/settle.timer"));
    let t = &timer["Timer"];
    assert!(t.contains_key("OnCalendar"));
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
    check_command(&words[6..], "crontab");
}
