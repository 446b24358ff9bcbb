//! The cross-language contract test. `npm run golden` has TypeScript compile every
//! scenario the project ships or tests with (the library, the test fixtures, and one
//! scenario made of every action's examples) to `tests/golden/<corpus>/<name>.json`; a
//! vitest test fails while those files are stale. Here the core reads each exactly as
//! it reads a run's config — its scenario parser, then a pipeline built from it — so a
//! key, type or value the two languages disagree on fails `cargo test`, not a run.

use qoslab_core::config::json::Value;
use qoslab_core::shape::compiled::Scenario;
use qoslab_core::shape::pipeline::{Options, Pipeline};
use qoslab_core::shape::trace::Trace;
use qoslab_core::Error;
use std::fs;
use std::path::{Path, PathBuf};

fn golden_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("tests/golden is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Trace files are named as the scenario wrote them (relative to its folder, which the
/// golden file does not record); the parser's job is the path, so any one stands in.
fn stand_in_trace(path: &str) -> Result<Trace, Error> {
    assert!(!path.is_empty(), "a trace path is empty");
    Trace::new(&[1, 2, 5, 10])
}

/// The `type` of every action as TypeScript wrote it, policy by policy.
fn written_types(text: &str) -> Vec<Vec<String>> {
    let root = Value::parse(text).expect("golden JSON parses");
    let policies = root
        .get("policies")
        .and_then(Value::as_array)
        .unwrap_or(&[]);
    policies
        .iter()
        .map(|p| {
            let actions = p.get("actions").and_then(Value::as_array).unwrap_or(&[]);
            actions
                .iter()
                .map(|a| {
                    a.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .collect()
}

/// Parses and builds one golden file; checks each action became the core action of the
/// same name. Returns the action type names seen.
fn build(path: &Path) -> Result<Vec<&'static str>, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let scenario = Scenario::parse_json(&text).map_err(|e| format!("parse: {e}"))?;
    Pipeline::with_traces(&scenario, Options::default(), &stand_in_trace)
        .map_err(|e| format!("build: {e}"))?;
    let read: Vec<Vec<&'static str>> = scenario
        .policies
        .iter()
        .map(|p| p.actions.iter().map(|a| a.config.type_name()).collect())
        .collect();
    if read != written_types(&text) {
        return Err(format!("action types differ: read {read:?}"));
    }
    Ok(read.into_iter().flatten().collect())
}

#[test]
fn every_compiled_scenario_parses_and_builds_a_pipeline() {
    let files = golden_files();
    // The library alone has 30-odd scenarios: an empty or misplaced folder must fail.
    assert!(files.len() >= 30, "only {} golden files", files.len());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| build(f).err().map(|e| format!("{}: {e}", f.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_registry_scenario_reaches_every_core_action() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/registry/every-action.json");
    let mut types = build(&path).unwrap_or_else(|e| panic!("{e}"));
    types.sort_unstable();
    types.dedup();
    // TypeScript's every action example (loss gives two core types: 13 actions, 14 types
    // today); each arrived as the core action of its own name (checked in `build`).
    assert!(types.len() >= 14, "only {types:?}");
}
