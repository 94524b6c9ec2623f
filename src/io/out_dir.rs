//! The output directory of `bonemet run`: what it may replace, the lock that keeps two runs
//! from writing it at once, and the clean-up of what a killed run left beside it.
//!
//! A run writes into `.NAME.partial-PID` beside DIR and swaps it into place at the end, so DIR
//! always holds one whole report. It replaces DIR only when DIR is absent, empty, or the output
//! of an earlier run (its run.json names bonemet and the `run` command); anything else (other
//! files, a file, a symbolic link) is refused unless `--force`, and nothing is touched. While a
//! run writes, `.NAME.lock` beside DIR holds its process id.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// DIR's parent (the current directory for a bare name) and DIR's name.
fn parent_and_name(dir: &Path) -> (PathBuf, String) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "bonemet-run".into());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (parent, name)
}

/// Whether `dir/run.json` says bonemet's `run` wrote the directory.
fn written_by_a_run(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("run.json")) else {
        return false;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    json["bonemet_version"].is_string() && json["command"] == "run"
}

/// Why `dir` may not be replaced, if so: `None` when it is absent, empty or a previous run's
/// output.
fn foreign(dir: &Path) -> Result<Option<&'static str>> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    if meta.file_type().is_symlink() {
        return Ok(Some("is a symbolic link"));
    }
    if !meta.is_dir() {
        return Ok(Some("is a file, not a directory"));
    }
    let empty = std::fs::read_dir(dir)
        .map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .next()
        .is_none();
    if empty || written_by_a_run(dir) {
        Ok(None)
    } else {
        Ok(Some("holds files bonemet did not write"))
    }
}

/// Refuses an output directory the run did not write, unless `force`.
pub fn check_replaceable(dir: &Path, force: bool) -> Result<()> {
    match foreign(dir)? {
        Some(what) if !force => Err(Error::OutputNotOurs {
            path: dir.to_path_buf(),
            what,
        }),
        _ => Ok(()),
    }
}

/// Whether process `pid` is alive (a process of another user counts as alive). A zombie does
/// not: it has ended and holds nothing but its exit status until its parent reaps it, which
/// may be long after a kill (a run killed with its wrapper, `timeout` or a shell, is reparented
/// to an init that need not reap it promptly), and the run after it must not wait on it.
fn alive(pid: u32) -> bool {
    // Pid 0 would ask about this process's group, not a process.
    let Some(pid) = libc::pid_t::try_from(pid).ok().filter(|&p| p > 0) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let status = unsafe { libc::kill(pid, 0) };
    let exists = status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !zombie(pid)
}

/// Whether /proc says process `pid` has ended but not been reaped (state Z or X). Without
/// /proc, no process counts as one.
fn zombie(pid: libc::pid_t) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "PID (COMM) STATE ...": the command may hold spaces and parentheses, the state follows
    // the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z" || state == "X")
}

/// The lock on an output directory while a run writes it; released when dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock on `dir` (`.NAME.lock` beside it, holding this process's id). A lock
    /// left by a process that no longer runs is taken over; one held by a live process is an
    /// error naming it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        use std::io::Write;
        let (parent, name) = parent_and_name(dir);
        std::fs::create_dir_all(&parent).map_err(|source| Error::Write {
            path: parent.clone(),
            source,
        })?;
        let path = parent.join(format!(".{name}.lock"));
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id()).map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if alive(pid) => {
                            return Err(Error::OutputLocked {
                                path: dir.to_path_buf(),
                                pid,
                                lock: path,
                            })
                        }
                        // A stale lock (its run was killed): taken over.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(Error::Write { path, source }),
            }
        }
        Err(Error::Write {
            path,
            source: std::io::Error::other("the lock could not be taken"),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The temporary directory a run of this process writes `dir` into.
pub fn scratch_dir(dir: &Path) -> PathBuf {
    let (parent, name) = parent_and_name(dir);
    parent.join(format!(".{name}.partial-{}", std::process::id()))
}

/// Removes what killed runs left beside `dir` (their `.NAME.partial-PID` directories, whose
/// process no longer runs), and puts back a previous report a killed run had moved aside
/// (`.NAME.previous-PID`) when DIR itself is missing. Call it holding the lock.
pub fn clean_up_after_killed_runs(dir: &Path) -> Result<()> {
    let (parent, name) = parent_and_name(dir);
    let Ok(entries) = std::fs::read_dir(&parent) else {
        return Ok(());
    };
    let mut left: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        for (prefix, previous) in [
            (format!(".{name}.partial-"), false),
            (format!(".{name}.previous-"), true),
        ] {
            let Some(pid) = file_name.strip_prefix(&prefix) else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if pid != std::process::id() && !alive(pid) {
                left.push((entry.path(), previous));
            }
        }
    }
    left.sort();
    let remove = |path: &Path| {
        std::fs::remove_dir_all(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    for (path, previous) in left {
        if previous && !dir.exists() {
            std::fs::rename(&path, dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        } else {
            remove(&path)?;
        }
    }
    Ok(())
}

/// Puts the finished `scratch` in place of `dir`: an atomic exchange where the filesystem has
/// one (DIR always holds a whole report), else two renames, the previous report kept as
/// `.NAME.previous-PID` until the new one is in place (a run killed between the two leaves it
/// there, and the next run puts it back). The replaced report is removed.
pub fn swap_into_place(scratch: &Path, dir: &Path) -> Result<()> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    if !dir.exists() {
        return std::fs::rename(scratch, dir).map_err(write_err(dir));
    }
    if exchange(scratch, dir).is_ok() {
        // `scratch` now holds what DIR held (with --force, maybe a file or a link).
        return remove_any(scratch).map_err(write_err(scratch));
    }
    let (parent, name) = parent_and_name(dir);
    let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
    std::fs::rename(dir, &previous).map_err(write_err(dir))?;
    if let Err(source) = std::fs::rename(scratch, dir) {
        let _ = std::fs::rename(&previous, dir);
        return Err(Error::Write {
            path: dir.to_path_buf(),
            source,
        });
    }
    remove_any(&previous).map_err(write_err(&previous))
}

/// Removes a directory tree, a file or a symbolic link (not its target).
fn remove_any(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Exchanges two paths atomically (Linux renameat2 with RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: both paths are NUL-terminated C strings that live across the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absent_empty_or_previous_run_directory_is_replaceable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        assert_eq!(foreign(&dir).unwrap(), None);
        std::fs::create_dir(&dir).unwrap();
        assert_eq!(foreign(&dir).unwrap(), None);
        std::fs::write(dir.join("notes.txt"), "keep").unwrap();
        assert_eq!(
            foreign(&dir).unwrap(),
            Some("holds files bonemet did not write")
        );
        std::fs::write(
            dir.join("run.json"),
            r#"{"bonemet_version": "0.1.0", "command": "run"}"#,
        )
        .unwrap();
        assert_eq!(foreign(&dir).unwrap(), None);
        // validate's output is not a report a run may replace.
        std::fs::write(
            dir.join("run.json"),
            r#"{"bonemet_version": "0.1.0", "command": "validate"}"#,
        )
        .unwrap();
        assert!(foreign(&dir).unwrap().is_some());
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(foreign(&file).unwrap(), Some("is a file, not a directory"));
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        assert_eq!(foreign(&link).unwrap(), Some("is a symbolic link"));
        assert!(check_replaceable(&link, true).is_ok());
        assert!(check_replaceable(&link, false).is_err());
    }

    #[test]
    fn a_live_lock_is_refused_and_a_stale_one_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let lock = OutputLock::acquire(&dir).unwrap();
        let err = OutputLock::acquire(&dir).unwrap_err();
        assert!(matches!(err, Error::OutputLocked { .. }), "{err}");
        drop(lock);
        assert!(!tmp.path().join(".out.lock").exists());
        // A process that has ended holds nothing.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        std::fs::write(tmp.path().join(".out.lock"), pid.to_string()).unwrap();
        let lock = OutputLock::acquire(&dir).unwrap();
        drop(lock);
    }

    /// A run killed but not yet reaped (a zombie) holds neither its lock nor its temporary
    /// directory: the next run takes both over (found by the soak, scripts/soak.py, when the
    /// run was killed with its wrapper and init had not reaped it yet).
    #[test]
    fn a_killed_run_not_yet_reaped_holds_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(alive(pid));
        child.kill().unwrap();
        // Not reaped yet: a zombie until the wait below.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !zombie(pid as libc::pid_t) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(zombie(pid as libc::pid_t));
        assert!(!alive(pid));
        std::fs::write(tmp.path().join(".out.lock"), pid.to_string()).unwrap();
        let partial = tmp.path().join(format!(".out.partial-{pid}"));
        std::fs::create_dir(&partial).unwrap();
        let lock = OutputLock::acquire(&dir).unwrap();
        clean_up_after_killed_runs(&dir).unwrap();
        assert!(!partial.exists());
        drop(lock);
        child.wait().unwrap();
        assert!(!alive(0), "pid 0 is not a process");
        assert!(alive(std::process::id()));
    }

    #[test]
    fn what_a_killed_run_left_is_cleaned_and_a_moved_report_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let partial = tmp.path().join(format!(".out.partial-{dead}"));
        let previous = tmp.path().join(format!(".out.previous-{dead}"));
        std::fs::create_dir(&partial).unwrap();
        std::fs::create_dir(&previous).unwrap();
        std::fs::write(previous.join("report.md"), "yesterday").unwrap();
        clean_up_after_killed_runs(&dir).unwrap();
        assert!(!partial.exists() && !previous.exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("report.md")).unwrap(),
            "yesterday"
        );
        // Swapping a new report in replaces the old one whole.
        let scratch = tmp.path().join("new");
        std::fs::create_dir(&scratch).unwrap();
        std::fs::write(scratch.join("report.md"), "today").unwrap();
        swap_into_place(&scratch, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.md")).unwrap(),
            "today"
        );
        assert!(!scratch.exists());
        // With --force, a file or a link in DIR's place is replaced too; a link's target stays.
        let target = tmp.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("mine.txt"), "keep").unwrap();
        for what in ["file", "link"] {
            let dir = tmp.path().join(what);
            if what == "file" {
                std::fs::write(&dir, "x").unwrap();
            } else {
                std::os::unix::fs::symlink(&target, &dir).unwrap();
            }
            std::fs::create_dir(&scratch).unwrap();
            std::fs::write(scratch.join("report.md"), "today").unwrap();
            swap_into_place(&scratch, &dir).unwrap();
            assert!(dir.join("report.md").is_file(), "{what}");
            assert!(!scratch.exists(), "{what}");
        }
        assert!(target.join("mine.txt").is_file());
    }
}
