//! The layers of ARCHITECTURE.md, held by a test: no module imports one
//! above it, only the window imports egui, only the camera imports nokhwa,
//! only the store holds SQL. Test code (`tests.rs`, `#[cfg(test)]` modules)
//! may use anything.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module's layer, bottom up (see ARCHITECTURE.md).
fn layer(module: &str) -> Option<u8> {
    Some(match module {
        "text" => 0,
        "code" | "frame" | "worker" | "task" | "paths" | "sound" | "assets" => 1,
        "store" => 2,
        "camera" | "photo" | "scan" | "roster" | "export" | "pdf" => 3,
        "station" | "simulate" | "settings" => 4,
        "app" | "ui" | "main" | "cli" => 5,
        // Items of lib.rs itself (version, start time).
        "LONG_VERSION" | "process_start" => 0,
        _ => return None,
    })
}

/// Imports between modules of one layer that would still be a step up.
const FORBIDDEN_PEERS: [(&str, &str); 7] = [
    // The views sit below the app: they get state and give commands.
    ("ui", "app"),
    ("camera", "photo"),
    ("camera", "scan"),
    ("photo", "camera"),
    ("photo", "scan"),
    ("camera", "roster"),
    ("camera", "export"),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-test code of a file, comments removed.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let body = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    body.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a source file belongs to.
fn module_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn no_module_imports_a_layer_above_it_and_each_outside_library_has_one_home() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = BTreeSet::new();
    for path in &files {
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let module = module_of(&src, path);
        if module == "lib" {
            continue;
        }
        let Some(own) = layer(&module) else {
            problems.insert(format!("{module}: not in the layer table (ARCHITECTURE.md and this test)"));
            continue;
        };
        let code = code_of(path);
        let shown = path.strip_prefix(&src).unwrap().display().to_string();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let used: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if used == module {
                continue;
            }
            match layer(&used) {
                Some(l) if l > own => problems.insert(format!("{shown}: {module} imports {used}, a layer above")),
                Some(_) if FORBIDDEN_PEERS.contains(&(module.as_str(), used.as_str())) => {
                    problems.insert(format!("{shown}: {module} imports its peer {used}"))
                }
                Some(_) => false,
                None => problems.insert(format!("{shown}: crate::{used} is not a module in the layer table")),
            };
        }
        let mentions = |name: &str| code.contains(&format!("{name}::")) || code.contains(&format!("use {name}"));
        if (mentions("egui") || mentions("eframe")) && !matches!(module.as_str(), "app" | "ui") {
            problems.insert(format!("{shown}: egui/eframe outside app.rs and ui/"));
        }
        if mentions("nokhwa") && module != "camera" {
            problems.insert(format!("{shown}: nokhwa outside camera/"));
        }
        if mentions("rusqlite") && module != "store" {
            problems.insert(format!("{shown}: SQL outside store/"));
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.into_iter().collect::<Vec<_>>().join("\n"));
}
