//! Where things are (repository root, target dir, cargo home) and helpers to build, print and run
//! child processes with inherited stdio.

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Context {
    /// The workspace root (the parent of `xtask/`).
    pub repo_root: PathBuf,
    /// The `CARGO_TARGET_DIR` given to every cargo call, or `None` for the default `target/`.
    pub target_dir: Option<PathBuf>,
    /// `$CARGO_HOME`, by default `~/.cargo`; `cargo install` puts binaries in its `bin/`.
    pub cargo_home: PathBuf,
    /// A ready site for the end-to-end test (`E2E_DIST`), served instead of a trunk build.
    pub e2e_dist: Option<PathBuf>,
    /// The cargo that runs this xtask (`$CARGO`), so every check uses the same toolchain.
    cargo: OsString,
    /// `PATH` for children, with `$CARGO_HOME/bin` added when it was missing.
    path: OsString,
}

impl Context {
    pub fn from_env() -> Result<Self, String> {
        let repo_root = repo_root(
            env::var_os("CARGO_PKG_NAME").as_deref(),
            env::var_os("CARGO_MANIFEST_DIR").as_deref(),
            Path::new(env!("CARGO_MANIFEST_DIR")),
        )?;
        let home = non_empty_var("HOME").map(PathBuf::from);
        let cargo_home = match non_empty_var("CARGO_HOME") {
            Some(dir) => PathBuf::from(dir),
            None => home.as_ref().ok_or("neither CARGO_HOME nor HOME is set")?.join(".cargo"),
        };

        let (target_dir, why) = if let Some(dir) = non_empty_var("CARGO_TARGET_DIR") {
            (Some(PathBuf::from(dir)), "from CARGO_TARGET_DIR")
        } else if non_empty_var("CI").is_some() {
            let home = home.ok_or("CI is set but HOME is not: cannot place the CI target dir")?;
            let dir = home.join(".cache").join("firefly-playground").join("target");
            (Some(dir), "CI is set: kept between runs on this machine")
        } else {
            (None, "cargo's default")
        };
        let shown = target_dir.clone().unwrap_or_else(|| repo_root.join("target"));
        println!("==> target dir: {} ({why})", shown.display());

        let cargo_bin = cargo_home.join("bin");
        let mut dirs: Vec<PathBuf> =
            env::split_paths(&env::var_os("PATH").unwrap_or_default()).collect();
        if !dirs.contains(&cargo_bin) {
            dirs.insert(0, cargo_bin);
        }
        let path = env::join_paths(dirs).map_err(|e| format!("cannot build PATH: {e}"))?;

        let e2e_dist = non_empty_var("E2E_DIST").map(PathBuf::from);

        Ok(Self {
            repo_root,
            target_dir,
            cargo_home,
            e2e_dist,
            cargo: env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            path,
        })
    }

    /// A command for `program`, run in the repository root with the context's `PATH`.
    pub fn command(&self, program: impl Into<OsString>, args: &[&str]) -> Command {
        let mut cmd = Command::new(program.into());
        cmd.args(args).current_dir(&self.repo_root).env("PATH", &self.path);
        cmd
    }

    /// Where `cargo xtask dist` puts the deployable site: `<repo>/dist`, whatever the target dir.
    pub fn dist_dir(&self) -> PathBuf {
        self.repo_root.join("dist")
    }

    pub fn target_dir_or_default(&self) -> PathBuf {
        self.target_dir.clone().unwrap_or_else(|| self.repo_root.join("target"))
    }

    /// A command for `program` (one that runs cargo, such as trunk) with the context's
    /// `CARGO_TARGET_DIR` (if any).
    pub fn command_with_target_dir(&self, program: impl Into<OsString>, args: &[&str]) -> Command {
        let mut cmd = self.command(program, args);
        if let Some(dir) = &self.target_dir {
            cmd.env("CARGO_TARGET_DIR", dir);
        }
        cmd
    }

    pub fn cargo(&self, args: &[&str]) -> Command {
        self.command_with_target_dir(&self.cargo, args)
    }

    /// A cargo command that ignores the checks' target dir (for tool installs).
    pub fn cargo_without_target_dir(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(&self.cargo, args);
        cmd.env_remove("CARGO_TARGET_DIR");
        cmd
    }

    pub fn find_in_path(&self, program: &str) -> Option<PathBuf> {
        env::split_paths(&self.path)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }

    /// Runs `program args` quietly and returns its stdout if it exits successfully.
    pub fn probe(&self, program: &str, args: &[&str]) -> Option<String> {
        let output =
            self.command(program, args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Whether `cargo <args>` runs and exits successfully (output hidden).
    pub fn cargo_probe(&self, args: &[&str]) -> bool {
        self.cargo(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Prints `$ ENV=… program args` and runs the command with inherited stdio; an error names the
/// command and its exit status.
pub fn run(mut cmd: Command) -> Result<(), String> {
    let shown = show(&cmd);
    println!("    $ {shown}");
    let status =
        cmd.stdin(Stdio::null()).status().map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{shown}` exited with {status}")) }
}

/// The command as a shell-like line, with the environment it sets (except `PATH`).
fn show(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter(|(key, _)| *key != "PATH")
        .filter_map(|(key, value)| {
            value.map(|v| format!("{}={}", key.to_string_lossy(), v.to_string_lossy()))
        })
        .collect();
    let program = Path::new(cmd.get_program());
    // Show `cargo` rather than the full path of the toolchain's cargo binary.
    let program = match program.file_name() {
        Some(name) if name == "cargo" => name.to_string_lossy(),
        _ => program.to_string_lossy(),
    };
    parts.push(program.into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// The workspace root: the parent of xtask's manifest dir as `cargo run` (which `cargo xtask`
/// is) gives it to the running xtask (`CARGO_MANIFEST_DIR`, with `CARGO_PKG_NAME=xtask`), else
/// the one compiled in (`compiled`, when xtask runs outside cargo). The compiled-in dir alone is
/// not enough: cargo reuses a binary built in another checkout that shares the target dir, and
/// its compiled-in dir names that checkout (with `CARGO_TARGET_DIR=<other>/target`, the target
/// dir's parent), so the site, the trunk build and every path under the root would go there.
fn repo_root(
    pkg_name: Option<&OsStr>, manifest_dir: Option<&OsStr>, compiled: &Path,
) -> Result<PathBuf, String> {
    let manifest_dir = match manifest_dir.filter(|dir| !dir.is_empty()) {
        Some(dir) if pkg_name == Some(OsStr::new("xtask")) => Path::new(dir),
        _ => compiled,
    };
    manifest_dir
        .parent()
        .filter(|root| !root.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("xtask's manifest dir {} has no parent", manifest_dir.display()))
}

/// The words of a command line written out as one string (split at spaces: for the words of a
/// command, never for a path).
pub fn words(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

pub fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

fn non_empty_var(name: &str) -> Option<OsString> {
    env::var_os(name).filter(|value| !value.is_empty())
}

#[cfg(unix)]
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
pub fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(repo_root: PathBuf, target_dir: Option<PathBuf>) -> Context {
        Context {
            repo_root,
            target_dir,
            cargo_home: PathBuf::from("/home/user/.cargo"),
            e2e_dist: None,
            cargo: "cargo".into(),
            path: OsString::new(),
        }
    }

    #[test]
    fn dist_is_the_repositorys_whatever_the_target_dir() {
        // `cargo xtask` in /repo with CARGO_TARGET_DIR=/elsewhere/target, running a binary that
        // cargo built in the checkout /elsewhere (same target dir, so the same binary).
        let root = repo_root(
            Some(OsStr::new("xtask")),
            Some(OsStr::new("/repo/xtask")),
            Path::new("/elsewhere/xtask"),
        )
        .unwrap();
        assert_eq!(root, PathBuf::from("/repo"));
        let ctx = context(root, Some(PathBuf::from("/elsewhere/target")));
        assert_eq!(ctx.dist_dir(), PathBuf::from("/repo/dist"));
        assert_eq!(ctx.target_dir_or_default(), PathBuf::from("/elsewhere/target"));
        let ctx = context(PathBuf::from("/repo"), None);
        assert_eq!(ctx.dist_dir(), PathBuf::from("/repo/dist"));
        assert_eq!(ctx.target_dir_or_default(), PathBuf::from("/repo/target"));
    }

    #[test]
    fn repo_root_falls_back_to_the_compiled_in_dir() {
        let compiled = Path::new("/repo/xtask");
        let expected = Ok(PathBuf::from("/repo"));
        // Run outside cargo, or by cargo for another package (its manifest dir is not ours).
        assert_eq!(repo_root(None, None, compiled), expected);
        assert_eq!(repo_root(Some(OsStr::new("xtask")), Some(OsStr::new("")), compiled), expected);
        assert_eq!(
            repo_root(Some(OsStr::new("firefly-playground")), Some(OsStr::new("/other")), compiled),
            expected
        );
        assert_eq!(repo_root(None, Some(OsStr::new("/other/xtask")), compiled), expected);
        assert!(repo_root(None, None, Path::new("/")).is_err());
        assert!(repo_root(None, None, Path::new("xtask")).is_err());
    }
}
