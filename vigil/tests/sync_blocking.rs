//! The `blocking_*` methods of `vigil::sync`: synchronous threads trade
//! values and locks with async tasks, and calling one on a runtime thread
//! panics instead of deadlocking.

mod common;

use common::{current_thread, multi_thread, panic_message};
use std::sync::Arc;
use vigil::sync::{broadcast, mpsc, oneshot, Mutex, RwLock};

#[test]
fn a_plain_thread_receives_from_tasks() {
    let rt = multi_thread(2);
    let (tx, mut rx) = mpsc::channel(1);
    let (utx, mut urx) = mpsc::unbounded_channel();
    let (btx, mut brx) = broadcast::channel(4);
    let (otx, orx) = oneshot::channel();
    let reader = std::thread::spawn(move || {
        let got: Vec<u32> = std::iter::from_fn(|| rx.blocking_recv()).collect();
        let ugot: Vec<u32> = std::iter::from_fn(|| urx.blocking_recv()).collect();
        let b = brx.blocking_recv().unwrap();
        (got, ugot, b, orx.blocking_recv().unwrap())
    });
    rt.block_on(async move {
        vigil::spawn(async move {
            // Capacity 1: each send waits for the thread to take the last.
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
            for i in 0..10 {
                utx.send(i).unwrap();
            }
            drop((tx, utx));
            btx.send(7).unwrap();
            otx.send("done").unwrap();
        })
        .await
        .unwrap();
    });
    let (got, ugot, b, o) = reader.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert_eq!(ugot, (0..10).collect::<Vec<_>>());
    assert_eq!((b, o), (7, "done"));
}

#[test]
fn a_plain_thread_sends_into_a_full_channel() {
    let rt = current_thread();
    let (tx, mut rx) = mpsc::channel(1);
    let writer = std::thread::spawn(move || {
        for i in 0..50u32 {
            tx.blocking_send(i).unwrap();
        }
    });
    let sum = rt.block_on(async move {
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        sum
    });
    writer.join().unwrap();
    assert_eq!(sum, (0..50).sum::<u32>());
    // The receiver is gone: a blocking send gets its value back.
    let (tx, rx) = mpsc::channel::<u8>(1);
    drop(rx);
    assert_eq!(tx.blocking_send(3).unwrap_err().0, 3);
}

#[test]
fn plain_threads_take_locks_that_tasks_hold() {
    let rt = multi_thread(2);
    let lock = Arc::new(Mutex::new(0u32));
    let rw = Arc::new(RwLock::new(0u32));
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = {
        let (lock, rw) = (lock.clone(), rw.clone());
        rt.spawn(async move {
            let mut g = lock.lock().await;
            let mut w = rw.write().await;
            held_tx.send(()).unwrap();
            go_rx.await.unwrap();
            *g += 1;
            *w += 1;
        })
    };
    held_rx.recv().unwrap();
    let waiter = {
        let (lock, rw) = (lock.clone(), rw.clone());
        std::thread::spawn(move || {
            let g = lock.blocking_lock();
            let r = rw.blocking_read();
            (*g, *r)
        })
    };
    go_tx.send(()).unwrap();
    assert_eq!(waiter.join().unwrap(), (1, 1));
    *rw.blocking_write() += 1;
    assert_eq!(*rw.blocking_read(), 2);
    rt.block_on(task).unwrap();
}

#[test]
fn blocking_inside_a_runtime_panics_instead_of_deadlocking() {
    let rt = current_thread();
    let msg = panic_message(|| {
        rt.block_on(async {
            let (_tx, mut rx) = mpsc::channel::<u8>(1);
            rx.blocking_recv();
        })
    });
    assert!(msg.contains("`.await`"), "{msg}");
    let rt = multi_thread(1);
    let msg = rt.block_on(async {
        vigil::spawn(async {
            let lock = Mutex::new(());
            panic_message(|| drop(lock.blocking_lock()))
        })
        .await
        .unwrap()
    });
    assert!(msg.contains("`.await`"), "{msg}");
}
