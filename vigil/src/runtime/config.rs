use super::hooks::ThreadHooks;

/// Scheduler tunables fixed at build time.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Tasks run between two non-blocking driver turns.
    pub(crate) event_interval: u32,
    /// Every this many ticks a worker checks the injection queue first.
    pub(crate) global_queue_interval: u32,
    /// The user's thread start/stop/park/unpark callbacks.
    pub(crate) hooks: ThreadHooks,
}
