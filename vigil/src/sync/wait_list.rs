//! A FIFO queue of waiting futures, for the primitives in [`crate::sync`].
//!
//! Every primitive here has the same shape: state behind a lock, and a queue
//! of futures waiting for that state to change. Waiters must be served in
//! arrival order (a semaphore that let late arrivals barge ahead would
//! starve large acquires), and a waiter must be able to leave from the
//! middle of the queue in O(1) when its future is dropped (cancellation is
//! common: every `select!` and timeout cancels).
//!
//! So the queue is a doubly linked list whose nodes live in a [`Slab`]: the
//! slab owns the memory (one allocation, grown only to the peak number of
//! waiters and reused after that), the links give order and O(1) removal.
//!
//! A node has two owners in turn, and the split is what keeps keys valid:
//!
//! - The **waiting future** holds the node's key from [`WaitList::push_back`]
//!   until it calls [`WaitList::remove`], which it does exactly once: when it
//!   completes, or when it is dropped. No one else frees a node, so the key
//!   never points to another waiter's node.
//! - The **notifier** (whoever releases a permit, sends a value, ...) may
//!   [`unlink`](WaitList::pop_front) a node from the queue, which takes it out
//!   of the arrival order but leaves it in the slab, marked through its value
//!   (a flag, assigned permits) for the future to find when it is polled.
//!
//! The list does no locking and no waking itself: its users hold their own
//! lock around it and wake wakers after releasing that lock.

use slab::Slab;

/// A waiter's place in a [`WaitList`]; valid until passed to
/// [`WaitList::remove`].
pub(crate) type Key = usize;

/// Waiting futures in arrival order, each with a `T` of its own.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: Option<Key>,
    tail: Option<Key>,
    /// Nodes still linked (in the queue), as opposed to unlinked and
    /// waiting for their future to collect them.
    linked: usize,
}

#[derive(Debug)]
struct Node<T> {
    value: T,
    prev: Option<Key>,
    next: Option<Key>,
    linked: bool,
}

impl<T> WaitList<T> {
    /// An empty list (allocates nothing until the first waiter).
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            nodes: Slab::new(),
            head: None,
            tail: None,
            linked: 0,
        }
    }

    /// `true` if no waiter is queued (unlinked nodes do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Queues a new waiter at the back.
    pub(crate) fn push_back(&mut self, value: T) -> Key {
        let key = self.nodes.insert(Node {
            value,
            prev: self.tail,
            next: None,
            linked: true,
        });
        match self.tail {
            Some(tail) => self.nodes[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.linked += 1;
        key
    }

    /// The first queued waiter.
    pub(crate) fn front(&self) -> Option<Key> {
        self.head
    }

    /// Takes the first queued waiter out of the queue; its node stays until
    /// its future calls [`remove`](Self::remove).
    pub(crate) fn pop_front(&mut self) -> Option<Key> {
        let key = self.head?;
        self.unlink(key);
        Some(key)
    }

    /// `true` while the waiter is queued (not yet unlinked by a notifier).
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.nodes[key].linked
    }

    /// The value at `key`, if a node is there: for a waiter whose node
    /// another party may have freed (its key then may hold someone else's
    /// node, which the caller must tell apart by the value).
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.nodes.get(key).map(|node| &node.value)
    }

    /// The waiter's value.
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut T {
        &mut self.nodes[key].value
    }

    /// Frees the waiter's node, unlinking it first if it is still queued;
    /// called once by the waiter's own future.
    pub(crate) fn remove(&mut self, key: Key) -> T {
        if self.nodes[key].linked {
            self.unlink(key);
        }
        self.nodes.remove(key).value
    }

    /// Calls `f` on every queued waiter, front to back, unlinking those for
    /// which it returns `true`.
    pub(crate) fn drain_filter(&mut self, mut f: impl FnMut(&mut T) -> bool) {
        let mut cursor = self.head;
        while let Some(key) = cursor {
            cursor = self.nodes[key].next;
            if f(&mut self.nodes[key].value) {
                self.unlink(key);
            }
        }
    }

    fn unlink(&mut self, key: Key) {
        let node = &mut self.nodes[key];
        debug_assert!(node.linked, "unlinking a waiter twice");
        node.linked = false;
        let (prev, next) = (node.prev.take(), node.next.take());
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.head = next,
        }
        match next {
            Some(n) => self.nodes[n].prev = prev,
            None => self.tail = prev,
        }
        self.linked -= 1;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::WaitList;

    fn order(list: &mut WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        list.drain_filter(|v| {
            out.push(*v);
            false
        });
        out
    }

    #[test]
    fn keeps_arrival_order_and_removes_from_the_middle() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..5).map(|i| list.push_back(i)).collect();
        assert_eq!(list.remove(keys[2]), 2);
        assert_eq!(order(&mut list), [0, 1, 3, 4]);
        assert_eq!(list.remove(keys[0]), 0);
        assert_eq!(list.remove(keys[4]), 4);
        assert_eq!(order(&mut list), [1, 3]);
        let k = list.push_back(9);
        assert_eq!(order(&mut list), [1, 3, 9]);
        assert_eq!(list.remove(k), 9);
    }

    #[test]
    fn popped_nodes_stay_until_their_owner_removes_them() {
        let mut list = WaitList::new();
        let a = list.push_back(1);
        let b = list.push_back(2);
        assert_eq!(list.pop_front(), Some(a));
        assert!(!list.is_linked(a));
        assert!(list.is_linked(b));
        // The key stays valid and the value reachable after the pop.
        *list.get_mut(a) += 10;
        assert_eq!(order(&mut list), [2]);
        assert_eq!(list.remove(a), 11);
        assert_eq!(list.pop_front(), Some(b));
        assert!(list.is_empty());
        assert_eq!(list.front(), None);
        assert_eq!(list.remove(b), 2);
    }

    #[test]
    fn drain_filter_unlinks_what_it_selects() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..6).map(|i| list.push_back(i)).collect();
        list.drain_filter(|v| *v % 2 == 0);
        assert_eq!(order(&mut list), [1, 3, 5]);
        for k in keys {
            list.remove(k);
        }
        assert!(list.is_empty());
    }
}
