//! `benchgate history ...` (the results history on the `benchgate-history` branch: append, push, pull,
//! import, export, list) and `benchgate trend` (change points over that history).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use git2::Repository;

use super::{Project, exit_code};
use crate::history::{self, Appended, Merged, Pushed};
use crate::model::Results;

/// The history subcommands.
#[derive(Subcommand)]
pub(super) enum HistoryCommand {
    /// Add a results file to the history of its commit (a new commit on the `benchgate-history` branch;
    /// the work tree, index and HEAD are untouched). The same results twice are kept once.
    Append {
        results: PathBuf,
        /// Runner class (default: `[baseline] runner_class`, else BENCHGATE_RUNNER_CLASS, else
        /// `<os>-<arch>`).
        #[arg(long)]
        runner_class: Option<String>,
    },
    /// Fetch the remote's history, merge it into the local one, and push the result (retried when the
    /// remote moved meanwhile).
    Push {
        #[arg(long, default_value = "origin")]
        remote: String,
    },
    /// Fetch the remote's history and merge it into the local one.
    Pull {
        #[arg(long, default_value = "origin")]
        remote: String,
    },
    /// Append results files, or every `.json` file under directories (an `export` folder keeps each
    /// file's runner class: `<class>/<commit>/<key>.json`).
    Import {
        #[arg(required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Runner class for every file (default: from an export's layout, else as for `append`).
        #[arg(long)]
        runner_class: Option<String>,
    },
    /// Write every results file of the history to `DIR/<class>/<commit>/<key>.json`.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print, per runner class, how many commits and runs the history holds.
    List,
}

/// `benchgate trend`'s options.
#[derive(clap::Args)]
pub(super) struct TrendArgs {
    /// The revision whose first-parent history orders the commits.
    #[arg(long = "ref", value_name = "REV", default_value = "HEAD")]
    rev: String,
    /// Runner class (default: `[baseline] runner_class`, else BENCHGATE_RUNNER_CLASS, else `<os>-<arch>`).
    #[arg(long)]
    runner_class: Option<String>,
    /// Only benchmarks whose id matches this glob (e.g. `compression/*`).
    #[arg(long, value_name = "GLOB")]
    bench: Option<String>,
    /// Folder for trend.json, trend.md and charts/.
    #[arg(long)]
    out: PathBuf,
    /// Draw a chart of every series, not only of those with a change point.
    #[arg(long)]
    all_charts: bool,
}

fn open(project: &Project) -> anyhow::Result<Repository> {
    Repository::discover(&project.root)
        .with_context(|| format!("{} is not in a git repository: the history is kept in one", project.root.display()))
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// Runs a history subcommand.
pub(super) fn history(manifest: Option<&Path>, config: Option<&Path>, cmd: HistoryCommand) -> anyhow::Result<i32> {
    let project = Project::find(manifest, config)?;
    let repo = open(&project)?;
    match cmd {
        HistoryCommand::Append { results, runner_class } => {
            let class = project.class(runner_class.as_deref())?;
            append_file(&repo, &class, &results)?;
        }
        HistoryCommand::Push { remote } => {
            let how = match history::push(&repo, &remote)? {
                Pushed::UpToDate => "already on the remote",
                Pushed::Pushed(Merged::Merged) => "merged with the remote's and pushed",
                Pushed::Pushed(_) => "pushed",
            };
            eprintln!("benchgate: history {how} ({remote} {})", history::HISTORY_BRANCH);
        }
        HistoryCommand::Pull { remote } => {
            let how = match history::pull(&repo, &remote)? {
                Merged::RemoteHasNone => "the remote has no history branch",
                Merged::UpToDate => "already up to date",
                Merged::FastForward => "fast-forwarded to the remote's",
                Merged::Merged => "merged with the remote's",
            };
            eprintln!("benchgate: history {how} ({remote} {})", history::HISTORY_BRANCH);
        }
        HistoryCommand::Import { paths, runner_class } => {
            let mut files = Vec::new();
            for p in &paths {
                if p.is_dir() {
                    json_files(p, p, &mut files)?;
                } else {
                    files.push((p.clone(), None));
                }
            }
            let default = project.class(runner_class.as_deref())?;
            let (mut added, mut present) = (0, 0);
            for (file, layout_class) in &files {
                let class = if runner_class.is_some() { &default } else { layout_class.as_ref().unwrap_or(&default) };
                match append_file(&repo, class, file)? {
                    Appended::Added { .. } => added += 1,
                    Appended::AlreadyPresent { .. } => present += 1,
                }
            }
            eprintln!("benchgate: imported {} files: {added} added, {present} already in the history", files.len());
        }
        HistoryCommand::Export { out } => {
            let n = history::export(&repo, &out)?;
            eprintln!("benchgate: exported {n} results files to {}", out.display());
        }
        HistoryCommand::List => {
            let locations = history::locations(&repo)?;
            let mut text = String::new();
            if locations.is_empty() {
                text = format!("no history (no {} branch)\n", history::HISTORY_BRANCH);
            }
            let mut by_class: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            let mut runs: BTreeMap<&str, usize> = BTreeMap::new();
            for l in &locations {
                by_class.entry(&l.class).or_default().insert(&l.commit);
                *runs.entry(&l.class).or_default() += 1;
            }
            for (class, commits) in by_class {
                text += &format!("{class}: {} commits, {} runs\n", commits.len(), runs[class]);
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(exit_code::OK)
}

fn append_file(repo: &Repository, class: &str, file: &Path) -> anyhow::Result<Appended> {
    let results = Results::load(file)?;
    history::check_commit(repo, &results).with_context(|| format!("{}", file.display()))?;
    let appended = history::append(repo, class, &results).with_context(|| format!("{}", file.display()))?;
    match &appended {
        Appended::Added { path, commit } => {
            eprintln!("benchgate: added {path} to the history ({})", short(commit));
        }
        Appended::AlreadyPresent { path } => eprintln!("benchgate: {path} already in history"),
    }
    Ok(appended)
}

/// Every `.json` file under `dir`, sorted, with the runner class its place names when it sits at
/// `<class>/<commit>/<key>.json` below `root`.
fn json_files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Option<String>)>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(root, &p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            let rel: Vec<String> = p
                .strip_prefix(root)
                .map(|r| r.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            let class = (rel.len() == 3).then(|| rel[0].clone()).filter(|c| crate::baseline::check_class(c).is_ok());
            out.push((p, class));
        }
    }
    Ok(())
}

/// Runs `benchgate trend`.
pub(super) fn trend(manifest: Option<&Path>, config: Option<&Path>, args: TrendArgs) -> anyhow::Result<i32> {
    let project = Project::find(manifest, config)?;
    let repo = open(&project)?;
    let class = project.class(args.runner_class.as_deref())?;
    let glob = match &args.bench {
        Some(g) => Some(globset::Glob::new(g).with_context(|| format!("--bench {g}"))?.compile_matcher()),
        None => None,
    };
    let t = crate::trend::analyse(&repo, &class, &args.rev, glob.as_ref())?;
    if t.runs == 0 {
        eprintln!(
            "benchgate: warning: no run of runner class {class} in the history is on the first-parent history of {}",
            args.rev
        );
    }
    let files = crate::trend::write(&t, &args.out, args.all_charts)?;
    eprintln!(
        "benchgate: {} change points in {} series ({} runs); wrote {} files to {}",
        t.change_points.len(),
        t.series.len(),
        t.runs,
        files.len(),
        args.out.display()
    );
    Ok(exit_code::OK)
}
