//! The reactor's unit tests: delivery, reused numbers, release.

use super::*;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll, Waker};

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(ret, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn write_byte(fd: &OwnedFd) {
    // SAFETY: writes one byte from a valid static buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    assert_eq!(n, 1);
}

fn reactor() -> (Driver, Handle) {
    Handle::new(Unparker::new().unwrap(), DEFAULT_EVENTS_PER_TURN).unwrap()
}

#[test]
fn readiness_is_delivered_to_the_registration() {
    let (mut driver, handle) = reactor();
    let (r, w) = pipe();
    let (key, io) = handle.register(r.as_raw_fd()).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
    write_byte(&w);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
    handle.deregister(r.as_raw_fd(), key, &io);
}

#[test]
fn a_reused_descriptor_number_wakes_the_old_waiter_with_an_error() {
    let (mut driver, handle) = reactor();
    let (r, _w) = pipe();
    let fd = r.as_raw_fd();
    // `r` keeps owning the number `fd` (it is closed when the test ends).
    let (_old_key, old) = handle.register(fd).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(old.poll_ready(&mut cx, Direction::Read).is_pending());
    // Closed behind the runtime's back and the number reused: `dup2`
    // does both atomically (a parallel test cannot take the number).
    let (r2, w2) = pipe();
    // SAFETY: both are open descriptors; `fd` now refers to r2's pipe.
    assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
    let (key, new) = handle.register(fd).unwrap();
    let Poll::Ready(ev) = old.poll_ready(&mut cx, Direction::Read) else {
        panic!("the old waiter must be woken");
    };
    assert!(ev.is_shutdown);
    // Data on the new descriptor reaches the new registration only.
    write_byte(&w2);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    assert!(new.poll_ready(&mut cx, Direction::Read).is_ready());
    handle.deregister(fd, key, &new);
}

/// The epoll gotcha: a descriptor closed behind the runtime's back
/// stays in the epoll set as long as a duplicate keeps its file open, and
/// goes on reporting events with the old token, even after its number
/// was reused and registered again and after the old I/O object was
/// dropped. Those events must reach neither the new registration nor
/// the old waiter, and must find the old state still allocated.
#[test]
fn a_reused_number_with_the_old_file_still_open_never_wakes_the_old_waiter() {
    use crate::driver::test_support::Count;
    let (mut driver, handle) = reactor();
    let (r, w) = pipe();
    let fd = r.as_raw_fd();
    // A duplicate keeps the old pipe's read end open after `fd` is
    // reused, so the kernel keeps the old epoll entry.
    let _dup = r.try_clone().unwrap();
    let (old_key, old) = handle.register(fd).unwrap();
    let old_count = Arc::new(Count::default());
    let old_waker = Waker::from(old_count.clone());
    assert!(old
        .poll_ready(&mut Context::from_waker(&old_waker), Direction::Read)
        .is_pending());

    let (r2, w2) = pipe();
    // SAFETY: both are open descriptors; `fd` now refers to r2's pipe.
    assert_eq!(unsafe { libc::dup2(r2.as_raw_fd(), fd) }, fd);
    let (new_key, new) = handle.register(fd).unwrap();
    // Woken once, with an error (the number was reused).
    assert_eq!(old_count.0.load(Ordering::SeqCst), 1);

    // Data on the old pipe: reported with the old token only.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(new.poll_ready(&mut cx, Direction::Read).is_pending());
    let before = handle.events_dispatched();
    write_byte(&w);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    assert_eq!(
        handle.events_dispatched(),
        before + 1,
        "the old entry still reports"
    );
    assert!(new.poll_ready(&mut cx, Direction::Read).is_pending());
    let Poll::Ready(ev) = old.poll_ready(&mut cx, Direction::Read) else {
        panic!("shut down");
    };
    assert!(ev.is_shutdown && ev.ready.is_empty());

    // The old I/O object goes away; the kernel entry does not. The state
    // its token points to must stay allocated while the reactor lives.
    let old_state = Arc::downgrade(&old);
    handle.deregister(fd, old_key, &old);
    drop(old);
    write_byte(&w);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    driver.turn(&handle, Some(Duration::ZERO));
    assert!(old_state.upgrade().is_some());
    assert_eq!(old_count.0.load(Ordering::SeqCst), 1);

    // The new registration works normally throughout.
    write_byte(&w2);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    assert!(new.poll_ready(&mut cx, Direction::Read).is_ready());
    handle.deregister(fd, new_key, &new);
    drop(handle);
    assert!(old_state.upgrade().is_none(), "freed with the reactor");
}

#[test]
fn a_deregistered_state_is_freed_only_when_the_driver_turns_again() {
    let (mut driver, handle) = reactor();
    let (r, w) = pipe();
    let (key, io) = handle.register(r.as_raw_fd()).unwrap();
    write_byte(&w);
    let state = Arc::downgrade(&io);
    handle.deregister(r.as_raw_fd(), key, &io);
    drop(io);
    // Another thread might be dispatching an event for it right now.
    assert!(state.upgrade().is_some());
    driver.turn(&handle, Some(Duration::ZERO));
    assert!(state.upgrade().is_none());
}

#[test]
fn events_for_a_removed_registration_are_dropped() {
    let (mut driver, handle) = reactor();
    let (r, w) = pipe();
    let (key, io) = handle.register(r.as_raw_fd()).unwrap();
    write_byte(&w);
    handle.deregister(r.as_raw_fd(), key, &io);
    driver.turn(&handle, Some(Duration::ZERO));
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else {
        panic!("deregistered means shut down");
    };
    assert!(ev.is_shutdown);
    assert!(ev.ready.is_empty());
}

/// A reactor with `n` worker epolls.
fn reactor_with_workers(n: usize) -> (Driver, Arc<Handle>) {
    let (driver, handle) = reactor();
    handle.enable_worker_epolls(n).unwrap();
    (driver, Arc::new(handle))
}

/// Runs `f` on a fresh thread that acts as worker `index` of `handle`.
fn as_worker<T: Send>(
    handle: &Arc<Handle>,
    index: usize,
    f: impl FnOnce(&Handle) -> T + Send,
) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            handle.set_current_worker(index);
            f(handle)
        })
        .join()
        .unwrap()
    })
}

fn is_readable(io: &ScheduledIo) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    io.poll_ready(&mut cx, Direction::Read).is_ready()
}

/// A loopback connection whose two ends are both registered with one
/// reactor.
struct Pair {
    streams: [std::net::TcpStream; 2],
    regs: Vec<(usize, Arc<ScheduledIo>)>,
}

impl Pair {
    fn new(handle: &Arc<Handle>) -> Pair {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let streams = [client, server];
        let regs = streams
            .iter()
            .map(|s| handle.register(s.as_raw_fd()).unwrap())
            .collect();
        Pair { streams, regs }
    }

    fn fd(&self, end: usize) -> RawFd {
        self.streams[end].as_raw_fd()
    }

    fn io(&self, end: usize) -> &Arc<ScheduledIo> {
        &self.regs[end].1
    }

    /// A read wait on `end` from worker `k`.
    fn wait(&self, handle: &Arc<Handle>, k: usize, end: usize) {
        let (key, io) = &self.regs[end];
        as_worker(handle, k, |h| h.on_read_wait(*key, io, self.fd(end)));
    }

    /// The waits of a young connection, which leave it alone.
    fn young_waits(&self, handle: &Arc<Handle>, k: usize) {
        for _ in 1..placement::FIRST_LOOKUP_AT {
            for end in [0, 1] {
                self.wait(handle, k, end);
            }
        }
    }

    /// Once past their young waits, both ends wait once from worker `k`
    /// (each looks for the other, so the second decides both rules), the
    /// first again; returns the end that follows its task, which is now in
    /// worker `k`'s epoll.
    fn settle_on(&self, handle: &Arc<Handle>, k: usize) -> usize {
        self.young_waits(handle, k);
        for end in [0, 1, 0] {
            self.wait(handle, k, end);
        }
        let task_end = (0..2)
            .find(|&e| self.io(e).placement.follows_data() == Some(false))
            .expect("one end follows its task");
        assert_eq!(self.io(task_end).placement.home(), k as u32);
        task_end
    }

    /// Sends a byte to `end` (from the other end).
    fn send_to(&self, end: usize) {
        use std::io::Write;
        (&self.streams[1 - end]).write_all(b"x").unwrap();
    }

    fn deregister(&self, handle: &Handle) {
        for (end, (key, io)) in self.regs.iter().enumerate() {
            handle.deregister(self.fd(end), *key, io);
        }
    }
}

#[test]
fn registrations_start_shared_and_only_in_process_pairs_move() {
    let (_driver, handle) = reactor_with_workers(2);
    let (r, _w) = pipe();
    let fd = r.as_raw_fd();
    let (key, io) = as_worker(&handle, 1, |h| h.register(fd).unwrap());
    assert_eq!(io.placement.home(), placement::SHARED);
    for _ in 0..4 {
        as_worker(&handle, 1, |h| h.on_read_wait(key, &io, fd));
    }
    assert!(io.placement.shared_only(), "a pipe stays shared");
    assert_eq!(io.placement.home(), placement::SHARED);
    handle.deregister(fd, key, &io);

    let pair = Pair::new(&handle);
    let task_end = pair.settle_on(&handle, 1);
    assert_eq!(pair.io(1 - task_end).placement.follows_data(), Some(true));
    pair.deregister(&handle);
    assert!(handle.lock().loopback_ports.is_empty(), "ports forgotten");
}

#[test]
fn a_young_connection_is_left_alone() {
    let (_driver, handle) = reactor_with_workers(2);
    let pair = Pair::new(&handle);
    pair.young_waits(&handle, 1);
    for end in [0, 1] {
        let placement = &pair.io(end).placement;
        assert_eq!(placement.home(), placement::SHARED);
        assert_eq!(placement.follows_data(), None);
        assert!(!placement.shared_only());
        assert_eq!(placement.loopback_port(), None, "no lookup yet");
    }
    assert!(handle.lock().loopback_ports.is_empty());
    pair.deregister(&handle);
}

#[test]
fn a_moved_registration_is_harvested_by_its_worker() {
    let (_driver, handle) = reactor_with_workers(2);
    let pair = Pair::new(&handle);
    let end = pair.settle_on(&handle, 1);
    assert!(!is_readable(pair.io(end)));
    pair.send_to(end);
    // (Loopback delivers within the sending call: no wait needed.)
    assert_eq!(handle.harvest_worker(0), 0, "not in worker 0's epoll");
    assert!(!is_readable(pair.io(end)));
    assert_eq!(as_worker(&handle, 1, |h| h.harvest_own()), 1);
    assert!(is_readable(pair.io(end)));
    pair.deregister(&handle);
}

#[test]
fn a_busy_workers_events_wait_for_it_and_an_idle_workers_are_taken() {
    let (mut driver, handle) = reactor_with_workers(2);
    let pair = Pair::new(&handle);
    let end = pair.settle_on(&handle, 0);
    // Worker 0 is busy: the shared driver (on a thread that is no worker)
    // may hear of its epoll but leaves the event to it.
    pair.send_to(end);
    driver.turn(&handle, Some(Duration::from_millis(100)));
    assert!(
        !is_readable(pair.io(end)),
        "a busy worker harvests its own epoll"
    );
    // Idle now: reported again, and the shared driver takes it.
    handle.set_worker_idle(0, true);
    driver.turn(&handle, Some(Duration::from_secs(5)));
    assert!(is_readable(pair.io(end)));
    pair.deregister(&handle);
}

#[test]
fn an_idle_workers_epoll_stays_reported_after_a_harvest_for_it() {
    use std::io::Read;
    let (mut driver, handle) = reactor_with_workers(1);
    let pair = Pair::new(&handle);
    let end = pair.settle_on(&handle, 0);
    handle.set_worker_idle(0, true);
    for round in 0..3 {
        pair.send_to(end);
        driver.turn(&handle, Some(Duration::from_secs(5)));
        assert!(
            is_readable(pair.io(end)),
            "round {round}: the event was not reported"
        );
        // Drain the socket and forget the readiness, as a reader would.
        let mut buf = [0u8; 8];
        let _ = (&pair.streams[end]).read(&mut buf).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(ev) = pair.io(end).poll_ready(&mut cx, Direction::Read) else {
            unreachable!()
        };
        pair.io(end).clear_readiness(ev);
    }
    pair.deregister(&handle);
}

#[test]
fn the_task_end_follows_its_reader_to_another_worker() {
    let (_driver, handle) = reactor_with_workers(2);
    let pair = Pair::new(&handle);
    let end = pair.settle_on(&handle, 0);
    pair.wait(&handle, 1, end);
    assert_eq!(
        pair.io(end).placement.home(),
        0,
        "one wait away does not move it"
    );
    pair.wait(&handle, 1, end);
    assert_eq!(pair.io(end).placement.home(), 1, "two in a row do");
    pair.send_to(end);
    assert_eq!(handle.harvest_worker(0), 0);
    assert_eq!(handle.harvest_worker(1), 1);
    assert!(is_readable(pair.io(end)));
    pair.deregister(&handle);
}

#[test]
fn a_loopback_peer_outside_the_reactor_stays_shared() {
    let (_driver, handle) = reactor_with_workers(2);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_server, _) = listener.accept().unwrap();
    let fd = client.as_raw_fd();
    let (key, io) = handle.register(fd).unwrap();
    for _ in 0..16 {
        as_worker(&handle, 0, |h| h.on_read_wait(key, &io, fd));
    }
    assert!(io.placement.shared_only());
    assert_eq!(io.placement.home(), placement::SHARED);
    handle.deregister(fd, key, &io);
}

#[test]
fn a_deregistered_state_outlives_a_worker_harvest_that_was_running() {
    let (mut driver, handle) = reactor_with_workers(1);
    let pair = Pair::new(&handle);
    let end = pair.settle_on(&handle, 0);
    let Pair { streams, mut regs } = pair;
    let (key, io) = regs.remove(end);
    let state = Arc::downgrade(&io);
    // Deregistered (and a driver turn taken) while worker 0's harvest is
    // still dispatching: the state must survive that harvest.
    let workers = handle.workers.get().unwrap();
    let mut io = Some(io);
    workers.gate(0).harvest(|| {
        let io = io.take().unwrap();
        handle.deregister(streams[end].as_raw_fd(), key, &io);
        drop(io);
        driver.turn(&handle, Some(Duration::ZERO));
        assert!(state.upgrade().is_some(), "freed under a running harvest");
        0
    });
    driver.turn(&handle, Some(Duration::ZERO));
    assert!(state.upgrade().is_none(), "freed once the harvest finished");
    let (key, io) = regs.remove(0);
    handle.deregister(streams[1 - end].as_raw_fd(), key, &io);
}
