//! [`Command`]: `std::process::Command` with async `status`/`output` and a
//! [`Child`] whose pipes and exit are awaited through the reactor.

use super::child::Child;
use super::orphanage;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use super::reaper::Reapable;
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A process builder, with the methods of [`std::process::Command`] and
/// Tokio's `tokio::process::Command`.
///
/// Builder methods take and return `&mut Command`, so they chain;
/// [`spawn`](Command::spawn), [`status`](Command::status) and
/// [`output`](Command::output) may be called more than once.
///
/// ```
/// use vigil::io::{AsyncReadExt, AsyncWriteExt};
/// use vigil::process::Command;
/// use std::process::Stdio;
///
/// # vigil::block_on(async {
/// // Run to completion, capturing the output.
/// let out = Command::new("echo").arg("hello").output().await?;
/// assert!(out.status.success());
/// assert_eq!(out.stdout, b"hello\n");
///
/// // Talk to a child through its pipes.
/// let mut child = Command::new("cat")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let mut stdin = child.stdin.take().unwrap();
/// stdin.write_all(b"ping").await?;
/// drop(stdin); // `cat` sees end of file
/// let mut echoed = String::new();
/// child.stdout.take().unwrap().read_to_string(&mut echoed).await?;
/// assert_eq!(echoed, "ping");
/// assert!(child.wait().await?.success());
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether stdin/stdout/stderr were set through this wrapper, so that
    /// `output` knows which defaults to apply (`std`'s are per call, and
    /// `std` does not say whether a stream was set).
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
    /// Tests: wait for exits on helper threads, as when `pidfd_open` fails.
    force_thread_wait: bool,
}

impl Command {
    /// A command to run `program`: no arguments, the parent's environment
    /// and working directory, standard streams inherited (for
    /// [`spawn`](Command::spawn) and [`status`](Command::status)).
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Clears the child's environment (variables set afterwards are kept).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input; [`Stdio::piped`] makes
    /// [`Child::stdin`] a [`ChildStdin`].
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's standard output; [`Stdio::piped`] makes
    /// [`Child::stdout`] a [`ChildStdout`].
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's standard error; [`Stdio::piped`] makes
    /// [`Child::stderr`] a [`ChildStderr`].
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] before its exit was collected sends
    /// it `SIGKILL` (default `false`: it keeps running). It is reaped in
    /// the background either way.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether the child will be killed if its [`Child`] is dropped early
    /// (see [`kill_on_drop`](Command::kill_on_drop)).
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// Runs the child as user `id` (`setuid` in the child before `exec`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::uid(&mut self.std, id);
        self
    }

    /// Runs the child with group `id` (`setgid` in the child before
    /// `exec`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::gid(&mut self.std, id);
        self
    }

    /// The child's `argv[0]`, in place of the program name.
    pub fn arg0<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        std::os::unix::process::CommandExt::arg0(&mut self.std, arg);
        self
    }

    /// Puts the child in process group `pgroup` (`0`: a new group whose
    /// id is the child's pid), so that, for example, a terminal's
    /// `SIGINT` to the parent's group does not reach it.
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        std::os::unix::process::CommandExt::process_group(&mut self.std, pgroup);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`.
    ///
    /// # Safety
    /// As for [`std::os::unix::process::CommandExt::pre_exec`]: `f` runs
    /// in a copy of a multi-threaded process (every vigil runtime has
    /// several threads) where only async-signal-safe operations are
    /// sound: no allocation, no locks another thread may have held at the
    /// fork, no vigil or runtime calls.
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: the caller upholds `CommandExt::pre_exec`'s contract,
        // which this function's own `# Safety` section repeats.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut self.std, f) };
        self
    }

    /// The wrapped `std` command.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The wrapped `std` command, for what this type has no method for.
    /// Standard streams set through it are not seen by
    /// [`output`](Command::output), which then sets stdout and stderr to
    /// piped over them; set them through this type instead.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The wrapped `std` command, giving up this wrapper's own settings
    /// (`kill_on_drop`).
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Waits for exits on helper threads, as when `pidfd_open` is not
    /// available (for tests of that path).
    #[cfg(test)]
    pub(crate) fn force_thread_wait(&mut self) -> &mut Command {
        self.force_thread_wait = true;
        self
    }

    /// Starts the program, returning its [`Child`].
    ///
    /// Must be called inside a vigil runtime: the child's pipes and its
    /// process descriptor are registered with the runtime's reactor.
    ///
    /// # Errors
    /// Outside a runtime (nothing is started then); if the program cannot
    /// be started (`NotFound` for a program that does not exist,
    /// `PermissionDenied`, ...); if the process is out of descriptors.
    pub fn spawn(&mut self) -> io::Result<Child> {
        if crate::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "vigil::process::Command::spawn must be called inside a vigil runtime: call it \
                 from a task or inside `Runtime::block_on`",
            ));
        }
        orphanage::reap_exited();
        let mut std = self.std.spawn()?;
        let wrapped = (|| {
            let stdin = std.stdin.take().map(ChildStdin::from_std).transpose()?;
            let stdout = std.stdout.take().map(ChildStdout::from_std).transpose()?;
            let stderr = std.stderr.take().map(ChildStderr::from_std).transpose()?;
            io::Result::Ok((stdin, stdout, stderr))
        })();
        let (stdin, stdout, stderr) = match wrapped {
            Ok(pipes) => pipes,
            Err(e) => {
                abandon(std);
                return Err(e);
            }
        };
        match Reapable::new(std, self.force_thread_wait) {
            Ok(inner) => Ok(Child::new(inner, stdin, stdout, stderr, self.kill_on_drop)),
            Err((e, std)) => {
                abandon(std);
                Err(e)
            }
        }
    }

    /// Spawns the command and waits for it to exit. Standard streams are
    /// inherited unless set otherwise; any that were set to piped are
    /// closed at once (stdin first, so a child reading it sees end of file).
    ///
    /// Cancel safe in the sense of [`Child::wait`]: dropping the future
    /// drops the `Child`, which keeps running (or is killed, with
    /// [`kill_on_drop`](Command::kill_on_drop)) and is reaped in the
    /// background.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().await
    }

    /// Spawns the command, collects all of its standard output and standard
    /// error, and waits for it to exit.
    ///
    /// As with `std` and Tokio, stdout and stderr default to piped (so they
    /// are captured) and stdin to null, unless set through this `Command`;
    /// the defaults are stored in the command (which affects a later
    /// [`spawn`](Command::spawn)).
    ///
    /// Not cancel safe: dropping the future loses the output read so far,
    /// and the child is reaped in the background (killed first, with
    /// [`kill_on_drop`](Command::kill_on_drop)).
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn) and [`Child::wait_with_output`].
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.stderr(Stdio::piped());
        }
        self.spawn()?.wait_with_output().await
    }
}

/// Kills and reaps a child that could not be wrapped (blocking, briefly:
/// after `SIGKILL` the exit is imminent).
fn abandon(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            force_thread_wait: false,
        }
    }
}
