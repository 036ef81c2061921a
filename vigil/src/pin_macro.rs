//! [`pin!`](crate::pin!): pinning futures to the stack by name, as Tokio's
//! `pin!` does.
//!
//! `std::pin::pin!` pins an expression; this form pins existing variables
//! in place (each is moved into a pinned temporary and shadowed, so the
//! unpinned value can no longer be reached), which is what `select!` loops
//! over a future created before the loop need. No `unsafe`: the pinning
//! itself is `std`'s.

/// Pins each named variable to the stack, shadowing it with a
/// `Pin<&mut T>`; or declares and pins variables with `let`.
///
/// Needed to poll a `!Unpin` future by reference several times, as a
/// `select!` in a loop does.
///
/// ```
/// # vigil::block_on(async {
/// let sleep = vigil::time::sleep(std::time::Duration::from_millis(1));
/// let work = async { 7 };
/// vigil::pin!(sleep, work);
/// // `sleep` and `work` are now `Pin<&mut _>`: they can be polled by
/// // reference, again and again.
/// assert_eq!(work.as_mut().await, 7);
/// sleep.as_mut().await;
///
/// vigil::pin! {
///     let answer = async { 42 };
/// }
/// assert_eq!(answer.await, 42);
/// # });
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => {
        $(
            #[allow(unused_mut)]
            let mut $name = ::std::pin::pin!($name);
        )*
    };
    ($(let $name:ident = $init:expr;)*) => {
        $(
            let $name = $init;
            $crate::pin!($name);
        )*
    };
}
