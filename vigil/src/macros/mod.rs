//! `select!`, `join!` and `try_join!`: waiting on several futures at once
//! from one task.
//!
//! Each macro is a thin `macro_rules!` wrapper that hands its input, with
//! `$crate` (the path of this crate, however the user imported it), to a
//! procedural macro in `vigil-macros`. The generated code pins every future
//! on the stack of the calling `async` block and polls them from a
//! `core::future::poll_fn`; [`support`] has the few helpers it calls.

pub(crate) mod support;

/// Waits for the first of several futures to finish, then runs that
/// branch's handler; the other futures are dropped unfinished.
///
/// Use it inside `async` code. Each branch has the form
///
/// ```text
/// <pattern> = <future> => <handler>,
/// <pattern> = <future>, if <precondition> => <handler>,
/// ```
///
/// where `<future>` is any expression of a type that implements
/// [`IntoFuture`](std::future::IntoFuture). A handler that is a block
/// `{ ... }` needs no comma after it. The branches may be preceded by
/// `biased;` and followed by one `else => <expression>` branch. The whole
/// macro evaluates to the value of the handler that ran, so all handlers
/// (and `else`) must have the same type.
///
/// # What happens, step by step
///
/// 1. Every `<precondition>` is evaluated, in order. A branch whose
///    precondition is `false` is *disabled* for this run of the macro.
/// 2. Every `<future>` expression is evaluated, in order, **including those
///    of disabled branches** (their futures are created, never polled, and
///    dropped at the end).
/// 3. The futures of the enabled branches are polled, concurrently, on the
///    current task. When one completes, its output is tested against the
///    branch's `<pattern>`:
///    * if it matches, all the futures are dropped, and the handler runs
///      with the pattern's bindings; its value is the macro's value;
///    * if not, that branch is disabled too and the wait goes on with the
///      others.
/// 4. When no branch is left enabled (from the start, or after outputs that
///    did not match), the `else` expression is evaluated and becomes the
///    macro's value. Without an `else` branch, the macro panics.
///
/// The state "disabled" lasts for one run of the macro only: each time a
/// loop comes back to a `select!`, the preconditions are checked afresh.
///
/// The handlers run after the futures have been dropped, in the code around
/// the macro, not inside a closure: `return`, `?`, and `break` or
/// `continue` of an enclosing loop do what they would do there, and a
/// handler may use whatever the futures had borrowed.
///
/// # Fairness and `biased;`
///
/// Each time the task is polled, the enabled futures are polled one after
/// the other, starting at a branch chosen at random (from a cheap per-thread
/// generator), so that in a loop a branch that is always ready cannot
/// starve the others. When several futures are ready in the same poll, the
/// first one polled wins.
///
/// With `biased;` as the first thing in the macro, the futures are polled in
/// the order they are written, every time. That saves the random number and
/// makes the winner predictable (useful when one branch, such as a shutdown
/// signal, must take precedence), but the fairness is then up to you: put
/// the branches that must not be starved first.
///
/// If the task's cooperative budget is already spent when the task is
/// polled, `select!` yields (and is woken at once) before polling anything,
/// so a branch that ignores the budget cannot keep winning over vigil's own
/// resources, which have been told to yield.
///
/// # Cancellation
///
/// Only one branch finishes; **the futures of all the other branches are
/// dropped** part-way through, which cancels whatever they were doing. In a
/// loop that is harmless only for futures that are *cancel safe*: dropping
/// them before they complete loses nothing, so the next iteration can call
/// them again. vigil documents this for each `async` method under a
/// "Cancel safety" heading. For example
/// [`AsyncReadExt::read`](crate::io::AsyncReadExt::read),
/// [`mpsc::Receiver::recv`](crate::sync::mpsc::Receiver::recv) and
/// [`TcpListener::accept`](crate::net::TcpListener::accept) are cancel safe,
/// while [`AsyncReadExt::read_exact`](crate::io::AsyncReadExt::read_exact)
/// and [`AsyncWriteExt::write_all`](crate::io::AsyncWriteExt::write_all)
/// are not (the bytes they had moved are lost with the future); see the
/// [I/O module's summary](crate::io#cancel-safety).
///
/// To carry one operation across iterations instead of restarting it, create
/// its future once, outside the loop, pin it, and give `select!` a mutable
/// reference to it (`&mut fut`): only the reference is dropped each time.
/// Once that future has completed it must not be polled again; a
/// precondition can turn its branch off (see the examples).
///
/// # Concurrency, not parallelism
///
/// All the futures run on the task that runs the `select!`, taking turns on
/// one thread. For work that should run in parallel, [`spawn`](crate::spawn)
/// it and select on the [`JoinHandle`](crate::task::JoinHandle)s (dropping
/// a `JoinHandle` does not stop its task).
///
/// # Panics
///
/// When every branch is disabled and there is no `else` branch. A branch is
/// disabled by a `false` precondition, or by an output that does not match
/// its pattern.
///
/// # Limits
///
/// At most 64 branches, besides `else`.
///
/// # Examples
///
/// The first of two channels to deliver:
///
/// ```
/// use vigil::sync::oneshot;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx1, rx1) = oneshot::channel::<&str>();
///     let (tx2, rx2) = oneshot::channel::<&str>();
///     vigil::spawn(async move { tx2.send("two").unwrap() });
///
///     let winner = vigil::select! {
///         Ok(message) = rx1 => message,
///         Ok(message) = rx2 => message,
///     };
///     assert_eq!(winner, "two");
///     drop(tx1);
/// }
/// ```
///
/// Receiving from two channels until both are closed. `recv` returns `None`
/// on a closed channel, which does not match `Some(..)`, and a precondition
/// keeps a closed channel's branch off on later iterations; once both are
/// off, `else` ends the loop:
///
/// ```
/// use vigil::sync::mpsc;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx_a, mut rx_a) = mpsc::channel(4);
///     let (tx_b, mut rx_b) = mpsc::channel(4);
///     vigil::spawn(async move {
///         for i in 0..3 {
///             tx_a.send(i).await.unwrap();
///             tx_b.send(i * 10).await.unwrap();
///         }
///     });
///
///     let (mut a_open, mut b_open) = (true, true);
///     let mut sum = 0;
///     loop {
///         vigil::select! {
///             message = rx_a.recv(), if a_open => match message {
///                 Some(n) => sum += n,
///                 None => a_open = false,
///             },
///             message = rx_b.recv(), if b_open => match message {
///                 Some(n) => sum += n,
///                 None => b_open = false,
///             },
///             else => break,
///         }
///     }
///     assert_eq!(sum, 33);
/// }
/// ```
///
/// One operation kept across iterations: a deadline, pinned once, selected
/// on by reference, with messages handled while it runs:
///
/// ```
/// use std::pin::pin;
/// use std::time::Duration;
/// use vigil::sync::mpsc;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     for i in 0..3 {
///         tx.send(i).unwrap();
///     }
///
///     let mut deadline = pin!(vigil::time::sleep(Duration::from_millis(50)));
///     let mut received = Vec::new();
///     loop {
///         vigil::select! {
///             _ = &mut deadline => break,
///             Some(n) = rx.recv() => received.push(n),
///         }
///     }
///     // `tx` is still alive, so the loop ended at the deadline.
///     assert_eq!(received, [0, 1, 2]);
/// }
/// ```
///
/// `biased;` to let a shutdown signal win over work that is always ready,
/// and `?` in a handler:
///
/// ```
/// use vigil::sync::{mpsc, oneshot};
///
/// async fn run(
///     mut shutdown: oneshot::Receiver<()>,
///     mut work: mpsc::UnboundedReceiver<Result<u32, String>>,
/// ) -> Result<u32, String> {
///     let mut done = 0;
///     loop {
///         vigil::select! {
///             biased;
///             _ = &mut shutdown => return Ok(done),
///             Some(job) = work.recv() => {
///                 done += job?;
///             }
///         }
///     }
/// }
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (stop, shutdown) = oneshot::channel();
///     let (tx, work) = mpsc::unbounded_channel();
///     tx.send(Ok(1)).unwrap();
///     stop.send(()).unwrap();
///     // The shutdown branch is polled first, so the job is never taken.
///     assert_eq!(run(shutdown, work).await, Ok(0));
///
///     let (_stop, shutdown) = oneshot::channel();
///     let (tx, work) = mpsc::unbounded_channel();
///     tx.send(Ok(1)).unwrap();
///     tx.send(Err("bad job".to_string())).unwrap();
///     assert_eq!(run(shutdown, work).await, Err("bad job".to_string()));
/// }
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__private::select_impl! { { $crate } $($input)* }
    };
}

/// Waits for all of several futures, polling them concurrently on the
/// current task, and returns their outputs as a tuple.
///
/// `join!(a, b, c)` evaluates the expressions `a`, `b` and `c` (anything
/// that implements [`IntoFuture`](std::future::IntoFuture)) in order, then
/// polls the futures until every one has completed, and evaluates to
/// `(output_a, output_b, output_c)`. A trailing comma is allowed; `join!()`
/// is `()` and `join!(a)` is the one-element tuple `(output_a,)`. Each
/// future is dropped as soon as it completes; its output is kept until all
/// are done. Use it inside `async` code.
///
/// The futures live on the stack of the calling `async` block (nothing is
/// allocated), so they may borrow local variables and need not be `Unpin`,
/// `Send` or `'static`.
///
/// `join!` waits for every future even if some return errors; to stop at
/// the first `Err`, use [`try_join!`](crate::try_join!).
///
/// # Fairness and `biased;`
///
/// Each time the task is polled, every future that has not completed is
/// polled once. The first one polled changes from one poll to the next, in
/// turn, so a future that takes long to poll does not always make the
/// others wait. With `biased;` before the futures, they are always polled
/// in the order written.
///
/// # One task, not parallelism
///
/// The futures run concurrently, taking turns on the one task that runs the
/// `join!`, never in parallel: if one blocks the thread, all of them wait.
/// To run work in parallel, [`spawn`](crate::spawn) it and join the
/// [`JoinHandle`](crate::task::JoinHandle)s.
///
/// # Cancellation
///
/// Dropping the `join!` before it completes (for example in a losing
/// [`select!`](crate::select!) branch, or on a [`timeout`](crate::time::timeout)) drops
/// every future still running, and every output already produced.
///
/// # Examples
///
/// ```
/// use vigil::sync::oneshot;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx, rx) = oneshot::channel();
///     let mut log = Vec::new();
///
///     // The second future can only finish after the first has sent, and
///     // the first borrows a local: both run on this task, interleaved.
///     let (sent, received) = vigil::join!(
///         async {
///             log.push("sending");
///             tx.send(42).unwrap();
///             "sent"
///         },
///         rx,
///     );
///     assert_eq!((sent, received), ("sent", Ok(42)));
///     assert_eq!(log, ["sending"]);
/// }
/// ```
///
/// Polled in the order written with `biased;`:
///
/// ```
/// use std::cell::RefCell;
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let order = RefCell::new(Vec::new());
///     let step = |name| {
///         let order = &order;
///         async move {
///             order.borrow_mut().push(name);
///             vigil::task::yield_now().await;
///             order.borrow_mut().push(name);
///         }
///     };
///     vigil::join!(biased; step("a"), step("b"), step("c"));
///     assert_eq!(*order.borrow(), ["a", "b", "c", "a", "b", "c"]);
/// }
/// ```
#[macro_export]
macro_rules! join {
    ($($input:tt)*) => {
        $crate::__private::join_impl! { { $crate } $($input)* }
    };
}

/// Waits for all of several fallible futures, returning their `Ok` values
/// as a tuple, or the first `Err`.
///
/// Each expression must give (through
/// [`IntoFuture`](std::future::IntoFuture)) a future whose output is a
/// `Result<T, E>`, with the same error type `E` for all of them.
/// `try_join!(a, b)` polls them concurrently on the current task, like
/// [`join!`](crate::join!), and evaluates to `Ok((t_a, t_b))` once every one has given
/// `Ok`. As soon as one gives `Err(e)`, it evaluates to `Err(e)` at once
/// and **the futures still running are dropped**, cancelling them (see
/// [`select!`](crate::select!)'s notes on cancel safety). A trailing comma and a leading
/// `biased;` are accepted as in [`join!`](crate::join!); `try_join!()` is `Ok(())`.
///
/// The futures run concurrently on the one task that runs the macro, not
/// in parallel; [`spawn`](crate::spawn) work that should run in parallel.
///
/// # Examples
///
/// ```
/// use vigil::sync::oneshot;
///
/// async fn parse(text: &str) -> Result<u32, String> {
///     text.parse().map_err(|_| format!("not a number: {text:?}"))
/// }
///
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() {
///     let both = vigil::try_join!(parse("4"), parse("2"));
///     assert_eq!(both, Ok((4, 2)));
///
///     // The error comes back as soon as it happens; the receiver, whose
///     // sender is never used, is dropped unfinished.
///     let (_tx, rx) = oneshot::channel::<u32>();
///     let failed = vigil::try_join!(
///         async { rx.await.map_err(|e| e.to_string()) },
///         parse("x"),
///     );
///     assert_eq!(failed, Err("not a number: \"x\"".to_string()));
/// }
/// ```
#[macro_export]
macro_rules! try_join {
    ($($input:tt)*) => {
        $crate::__private::try_join_impl! { { $crate } $($input)* }
    };
}
