//! [`Child`]: a running (or finished) child process.

use super::orphanage;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use super::reaper::{self, Reapable};
use crate::io::AsyncReadExt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::process::{ExitStatus, Output};
use std::task::Poll;

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// Its standard streams, if they were set to
/// [`Stdio::piped`](std::process::Stdio::piped), are in the public fields;
/// take them out to use them from other tasks.
///
/// # Dropping
///
/// Dropping a `Child` does not wait for the process, and by default does
/// not kill it either (as with `std` and Tokio): it keeps running. Set
/// [`Command::kill_on_drop`](super::Command::kill_on_drop) to have it sent
/// `SIGKILL` instead. Either way it is reaped in the background once it
/// exits, so it does not linger as a zombie: a small task on the current
/// runtime awaits its process descriptor (see the [module
/// docs](super#reaping-dropped-children)).
pub struct Child {
    /// The writing end of the child's standard input, if piped.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
    /// `None` only while being dropped.
    inner: Option<Reapable>,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

impl Child {
    pub(crate) fn new(
        inner: Reapable,
        stdin: Option<ChildStdin>,
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
        kill_on_drop: bool,
    ) -> Child {
        Child {
            stdin,
            stdout,
            stderr,
            inner: Some(inner),
            status: None,
            kill_on_drop,
        }
    }

    fn inner(&mut self) -> &mut Reapable {
        self.inner.as_mut().expect("Child used while being dropped")
    }

    /// The OS process id, or `None` once the child has been reaped (by
    /// [`wait`](Child::wait) or [`try_wait`](Child::try_wait) returning its
    /// status), after which the id may belong to another process.
    pub fn id(&self) -> Option<u32> {
        match self.status {
            Some(_) => None,
            None => self.inner.as_ref().map(Reapable::id),
        }
    }

    /// Waits for the child to exit and returns its status.
    ///
    /// Drops [`stdin`](Child::stdin) first, as Tokio does, so that a child
    /// reading its standard input sees end of file rather than waiting for
    /// input that will never come. Once the status is known, every further
    /// call returns it again at once.
    ///
    /// The wait is a process descriptor (`pidfd`) in the reactor: no thread
    /// blocks, and timers and other tasks keep running, on a current-thread
    /// runtime too. Where `pidfd_open` is unavailable, a helper thread
    /// blocks in `waitid` instead (see the [module docs](super)).
    ///
    /// Cancel safe: dropping the future loses nothing; the child is still
    /// there to wait for again (only `stdin` has been closed).
    ///
    /// # Errors
    /// If the status cannot be collected (e.g. something else in the
    /// process reaped the child behind `std`'s back: `ECHILD`), or outside
    /// a runtime that can drive the wait.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = self.inner().wait().await?;
        self.status = Some(status);
        Ok(status)
    }

    /// Returns the exit status if the child has exited (reaping it), or
    /// `None` if it is still running. Does not close `stdin`.
    ///
    /// # Errors
    /// As [`wait`](Child::wait).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = self.inner().try_wait()?;
        self.status = status;
        Ok(status)
    }

    /// Sends `SIGKILL` to the child and returns at once, without waiting
    /// for it to exit. Killing a child that has already been reaped does
    /// nothing and succeeds (as `std`'s `Child::kill` does; Tokio returns an
    /// error there).
    ///
    /// No PID-reuse race: until it is reaped, the child keeps its PID.
    ///
    /// # Errors
    /// If the signal cannot be sent.
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.inner().start_kill()
    }

    /// Sends `SIGKILL` and waits for the child to exit (reaping it).
    ///
    /// Cancel safe, as [`wait`](Child::wait): the signal is sent on the
    /// first poll; a dropped future leaves a child that is dying, to be
    /// waited for (or reaped when the `Child` is dropped).
    ///
    /// # Errors
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(|_| ())
    }

    /// Closes `stdin`, reads `stdout` and `stderr` to their ends (those that
    /// are piped; the others give empty vectors) while waiting for the
    /// child to exit, and returns all three.
    ///
    /// Both pipes are read concurrently, so a child that fills the pipe
    /// buffer of one while the parent reads the other cannot deadlock. Like
    /// `std`'s, this reads until end of file: a grandchild that inherited
    /// the pipes and keeps running keeps this waiting.
    ///
    /// Not cancel safe: output read so far is lost with the future, and the
    /// `Child` (consumed) is dropped, which reaps it in the background (or
    /// kills it first, if [`kill_on_drop`](super::Command::kill_on_drop)
    /// was set).
    ///
    /// # Errors
    /// If a read or the wait fails.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = read_all(self.stdout.take());
        let stderr = read_all(self.stderr.take());
        let (stdout, stderr) = try_join(stdout, stderr).await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Reads `reader` to its end; no reader, no bytes.
async fn read_all<R: crate::io::AsyncRead + Unpin>(reader: Option<R>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut reader) = reader {
        reader.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// Polls both futures until both have succeeded or one has failed.
async fn try_join<A, B>(
    a: impl Future<Output = io::Result<A>>,
    b: impl Future<Output = io::Result<B>>,
) -> io::Result<(A, B)> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(res) = a.as_mut().poll(cx) {
                out_a = Some(res?);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(res) = b.as_mut().poll(cx) {
                out_b = Some(res?);
            }
        }
        match (out_a.is_some(), out_b.is_some()) {
            (true, true) => Poll::Ready(Ok((out_a.take().unwrap(), out_b.take().unwrap()))),
            _ => Poll::Pending,
        }
    })
    .await
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut inner) = self.inner.take() {
            if self.status.is_none() {
                if self.kill_on_drop {
                    let _ = inner.start_kill();
                }
                reaper::reap_in_background(inner);
            }
        }
        orphanage::reap_exited();
    }
}

#[cfg(test)]
impl Child {
    pub(crate) fn inner_for_tests(&mut self) -> &mut Reapable {
        self.inner()
    }
}
