//! The layers, checked. The code is one package (shared/DESIGN.md fixes that), so the compiler
//! does not stop an upward import; this test does. `docs/architecture.md` ("Layers") says why
//! the layers are modules rather than crates.
//!
//! domain ← store ← service ← http ← server/cli (and `evidence`, beside the domain, used by
//! http and cli; `sync`, beside http, used by the server): each may use the ones to its left, never one
//! to its right, and only the outer layers may touch the web and TLS machinery.

use std::path::{Path, PathBuf};

/// A layer's folder, and what its files must not name.
const RULES: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "crate::store",
            "crate::service",
            "crate::http",
            "crate::server",
            "crate::cli",
            "crate::tls",
            "crate::discovery",
            "crate::import",
            "crate::demo",
            "crate::auth",
            "crate::metrics",
            "axum",
            "hyper",
            "redb",
            "tokio",
            "rustls",
        ],
    ),
    (
        "store",
        &[
            "crate::service",
            "crate::http",
            "crate::server",
            "crate::cli",
            "crate::demo",
            "axum",
            "hyper",
            "rustls",
        ],
    ),
    (
        "service",
        &[
            "crate::http",
            "crate::server",
            "crate::cli",
            "axum",
            "hyper",
            "rustls",
        ],
    ),
    ("http", &["crate::server", "crate::cli"]),
    // The box's side of sync: it uses the store, the services and TLS, and is started by the
    // server; it never reaches into the web layer.
    (
        "sync",
        &[
            "crate::http",
            "crate::server",
            "crate::cli",
            "axum",
            "hyper",
        ],
    ),
    // An adapter like `import`: domain values to files and back, checked offline by the CLI.
    (
        "evidence",
        &[
            "crate::store",
            "crate::service",
            "crate::http",
            "crate::server",
            "crate::cli",
            "crate::discovery",
            "axum",
            "hyper",
            "redb",
            "tokio",
            "rustls",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its tests (`#[cfg(test)]` to the end) and comments.
fn code_of(text: &str) -> String {
    let body = text.split("#[cfg(test)]").next().unwrap_or(text);
    body.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn names(code: &str, forbidden: &str) -> bool {
    if forbidden.starts_with("crate::") {
        return code.contains(forbidden);
    }
    // An external crate: `use x::`, `x::` at a path's start, or `x::` after a space or `(`.
    [" ", "(", "<", "&", "\n", "{"]
        .iter()
        .any(|before| code.contains(&format!("{before}{forbidden}::")))
}

#[test]
fn no_layer_reaches_outward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("appliance/src");
    let mut broken = Vec::new();
    for (layer, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        assert!(!files.is_empty(), "no files in {layer}");
        for f in files {
            let code = code_of(&std::fs::read_to_string(&f).unwrap_or_default());
            for name in *forbidden {
                if names(&code, name) {
                    broken.push(format!("{} uses {name}", f.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layers crossed:\n{}", broken.join("\n"));
}

#[test]
fn the_check_sees_a_crossing() {
    assert!(names("use axum::Json;", "axum"));
    assert!(names("fn f() { crate::http::x() }", "crate::http"));
    assert!(!names(&code_of("// see axum::Json\nfn f() {}"), "axum"));
    assert!(!names("use tokio_stream::x;", "tokio"));
}
