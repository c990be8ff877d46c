//! The `settle` binary: parse arguments, run the pipeline, print the error chain, set the exit code.
//!
//! Everything it prints goes through [`settle::console`], which never panics: the exit code is
//! always the run's own, even when stderr or stdout cannot be written.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use settle::cli::{Cli, Command, RunArgs, UsersCommand};
use settle::errln;
use settle::error::Error;
use settle::pipeline::{self, Failure, RunSummary};
use settle::progress::{Progress, Quiet};
use settle::serve::{self, ServeError, UsersError};
use settle::summary::Summary;

/// A run allocates and frees its group tables as they grow, a million entries at a time;
/// mimalloc reuses that memory where the system allocator hands it back and asks for it
/// again (about 7% of a ten-million-line run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: number 15 of `mi_option_e` in the mimalloc 3 header that
/// libmimalloc-sys 0.1.49 builds (pinned in Cargo.toml).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Return freed memory to the system at once rather than 10 ms later. A big run frees its
    // group tables as they grow, and the delay let the old tables and the new ones be resident
    // together: a peak of 0.96 to 1.00 GiB at ten million lines, against 0.82 to 0.85 GiB, for
    // time within the runs' noise of a few percent.
    // SAFETY: a plain C call that stores a number; made before any other thread exists.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0)
    };
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    let terminal = std::io::stderr().is_terminal();
    let spinner = Spinner::new(terminal);
    let progress: &dyn Progress = if terminal { &spinner } else { &Quiet };
    match cli.command {
        Command::Run(RunArgs {
            shard: Some(shard),
            stage: Some(stage),
            ..
        }) => {
            let lines = settle::shard::settle(&stage, shard, progress);
            spinner.finish();
            let lines = lines?;
            if terminal {
                errln!("settled shard {shard}: {lines} bill lines");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Split(args) => {
            let part = settle::shard::split(&args.into_config(), progress);
            spinner.finish();
            let part = part?;
            if terminal {
                errln!(
                    "part {}/{}: {} bill lines from {} file(s), for {} shards",
                    part.part,
                    part.parts,
                    part.lines,
                    part.bills.len(),
                    part.shards
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge(args) => {
            let summary = settle::shard::merge(&args.into_config(), progress);
            spinner.finish();
            let summary = summary?;
            for w in &summary.warnings {
                errln!("warning: {w}");
            }
            if summary.unchanged {
                unchanged(&summary.folder);
            } else if terminal {
                errln!(
                    "wrote {} files to {}",
                    summary.files,
                    summary.folder.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => {
            let started = Instant::now();
            let json = args.json;
            let result = pipeline::run(&args.into_config(), progress);
            spinner.finish();
            report(result, json, terminal, started)
        }
        Command::Close(args) => {
            let started = Instant::now();
            let json = args.run.json;
            let result = pipeline::close(&args.into_config(), progress);
            spinner.finish();
            report(result, json, terminal, started)
        }
        Command::Gen(args) => {
            let cfg = settle::synth::GenConfig {
                lines: args.lines,
                accounts: args.accounts,
                partners: args.partners,
                seed: args.seed,
                // A share from 0 to 1 (checked by clap), in millionths.
                mismatch_per_million: (args.mismatch * 1e6).round() as u64,
            };
            settle::synth::generate(&cfg, &args.out).map_err(|source| Error::Output {
                path: args.out.clone(),
                source,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate(args) => {
            let data = pipeline::validate(&args.inputs, progress);
            spinner.finish();
            let mut data = data?;
            let report = settle::render::report::validation(&data);
            // A closed pipe is not an error: the report is dropped, and the exit code stays.
            settle::console::stdout_bytes(report.as_bytes());
            if args.strict {
                pipeline::strict(&mut data)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            spinner.finish();
            Ok(portal(serve::run(&args.into_config())))
        }
        Command::Diff(args) => {
            spinner.finish();
            let report = match settle::diff::compare(&args.a, &args.b) {
                Ok(report) => report,
                Err(e) => {
                    errln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let bytes = if args.format == "csv" {
                settle::diff::csv(&report)
            } else {
                settle::diff::text(&report, &args.a, &args.b).into_bytes()
            };
            settle::console::stdout_bytes(&bytes);
            Ok(if report.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Explain(args) => {
            let format = args.format.clone();
            let cfg = args.into_config().map_err(Error::Invocation)?;
            let explained = pipeline::explain(&cfg, progress);
            spinner.finish();
            let e = explained?;
            let bytes = if format == "csv" {
                settle::explain::csv(&e.groups, &e.period, e.exports)
            } else if let Some(note) = &e.note {
                format!("{note}\n").into_bytes()
            } else {
                settle::explain::text(&e.groups, &e.period, e.exports).into_bytes()
            };
            settle::console::stdout_bytes(&bytes);
            Ok(ExitCode::SUCCESS)
        }
        Command::Users(args) => {
            spinner.finish();
            let result = match args.command {
                UsersCommand::Add(add) => add_user(&add),
                UsersCommand::Remove(a) => serve::users::remove(&a.users, &a.name).map(|()| {
                    errln!(
                        "removed user `{}` from `{}`; a running portal refuses them from its next request",
                        a.name,
                        a.users.display()
                    );
                }),
                UsersCommand::Passwd(a) => read_password().and_then(|password| {
                    serve::users::passwd(&a.users, &a.name, &password)?;
                    errln!(
                        "set the password of user `{}` in `{}`",
                        a.name,
                        a.users.display()
                    );
                    Ok(())
                }),
                UsersCommand::List(a) => serve::users::list(&a.users).map(|users| {
                    let mut text = String::new();
                    for u in users {
                        let login = if u.password_hash.is_some() {
                            "token, password"
                        } else {
                            "token"
                        };
                        text.push_str(&format!("{}\t{}\t{login}\n", u.name, u.scope));
                    }
                    settle::console::stdout_bytes(text.as_bytes());
                }),
            };
            Ok(portal(result.map_err(ServeError::from)))
        }
    }
}

/// What `settle run` and `settle close` print when they end: the warnings, the findings and
/// where the files went on a terminal, and with `--json` one summary line on stdout, also when
/// they fail.
fn report(
    result: Result<RunSummary, Box<Failure>>,
    json: bool,
    terminal: bool,
    started: Instant,
) -> Result<ExitCode, Error> {
    let summary = match result {
        Ok(summary) => summary,
        Err(failure) => {
            let Failure { error, known } = *failure;
            for w in &known.warnings {
                errln!("warning: {w}");
            }
            if !json {
                return Err(error);
            }
            errln!("error: {error}");
            let code = error.exit_code();
            let rejects = match &error {
                Error::Strict { rejects } => &rejects[..],
                _ => &[],
            };
            let report =
                Summary::failed(code, error.to_string(), known, rejects, started.elapsed());
            settle::console::stdout_bytes(report.to_line().as_bytes());
            return Ok(ExitCode::from(code));
        }
    };
    for w in &summary.warnings {
        errln!("warning: {w}");
    }
    if summary.unchanged {
        unchanged(&summary.folder);
    } else if terminal {
        if summary.reconciliation.is_empty() {
            errln!("reconciliation: no findings");
        } else {
            errln!("reconciliation findings:");
            for f in &summary.reconciliation {
                errln!(
                    "  {:<24} {:>6}  {:>14} {}",
                    f.finding,
                    f.count,
                    f.difference,
                    f.currency
                );
            }
        }
        errln!(
            "wrote {} files to {}",
            summary.files,
            summary.folder.display()
        );
    }
    if json {
        let report = Summary::ok(&summary.folder, summary.warnings, started.elapsed());
        settle::console::stdout_bytes(report.to_line().as_bytes());
    }
    Ok(ExitCode::SUCCESS)
}

/// The password on the first line of stdin, without its line end.
fn read_password() -> Result<String, UsersError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(UsersError::Stdin)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `settle users add`: the token goes to stdout, once, and nowhere else; when stdout cannot take
/// it, the user is not added (exit 1).
fn add_user(args: &settle::cli::UsersAddArgs) -> Result<(), UsersError> {
    let password = if args.password_stdin {
        Some(read_password()?)
    } else {
        None
    };
    serve::users::add(
        &args.users,
        &args.name,
        &args.scope,
        password.as_deref(),
        |token| {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{token}").and_then(|()| out.flush())
        },
    )?;
    errln!(
        "added user `{}` (scope `{}`) to `{}`; the token above is shown only this once",
        args.name,
        args.scope,
        args.users.display()
    );
    Ok(())
}

/// The exit code of a portal command, printing its error.
fn portal(result: Result<(), ServeError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A spinner on stderr that names the current stage, and a bar with the time left while a long
/// stage says how much work it has; invisible when stderr is not a terminal.
struct Spinner(Option<ProgressBar>);

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Spinner {
    fn new(terminal: bool) -> Spinner {
        Spinner(terminal.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(style("{spinner} {msg} ({elapsed})"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }))
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn stage(&self, what: &str) {
        if let Some(bar) = &self.0 {
            bar.set_style(style("{spinner} {msg} ({elapsed})"));
            bar.set_message(what.to_string());
            bar.unset_length();
        }
    }

    fn work(&self, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(0);
            bar.set_length(total);
            bar.set_style(style(
                "{spinner} {msg} {wide_bar} {percent:>3}% ({elapsed}, about {eta} left)",
            ));
        }
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(done);
        }
    }
}

/// What a run or merge over a month of record says when its documents would be the same.
fn unchanged(folder: &std::path::Path) {
    errln!(
        "nothing changed: `{}` is a closed month of record, and the current inputs give the same documents; nothing was written",
        folder.display()
    );
}
