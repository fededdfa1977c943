//! Records, for run manifests and reports, the git commit the binary was
//! built from and the compiler version. Both are optional: a build from a
//! source tarball, or on a machine without git, simply has no commit.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=PATIENTFLOW_GIT_COMMIT={commit}");
    }
    // Rebuild when HEAD moves: HEAD itself (a branch switch) and the branch's
    // ref file (a commit). In a worktree these live in different directories.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let head = Path::new(&dir).join("HEAD");
        println!("cargo:rerun-if-changed={}", head.display());
        if let (Some(common), Some(name)) = (
            git(&["rev-parse", "--git-common-dir"]),
            git(&["symbolic-ref", "-q", "HEAD"]),
        ) {
            let reference = Path::new(&common).join(name);
            if reference.exists() {
                println!("cargo:rerun-if-changed={}", reference.display());
            }
            let packed = Path::new(&common).join("packed-refs");
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
        }
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    if let Ok(out) = Command::new(rustc).arg("--version").output()
        && out.status.success()
        && let Ok(v) = String::from_utf8(out.stdout)
    {
        println!("cargo:rustc-env=PATIENTFLOW_RUSTC_VERSION={}", v.trim());
    }
}
