//! Loom models for the broadcast channel.

use super::{channel, error::RecvError};
use crate::sync::loom_support::block_on;
use std::sync::Arc;

/// Two sends into a one-slot channel race the receiver and the
/// sender's drop: the receiver accounts for both values (received or
/// reported lagged), in order, then sees `Closed`; a lost wake-up
/// deadlocks the model.
#[test]
fn loom_broadcast_recv_races_send_and_close() {
    loom::model(|| {
        let (tx, mut rx) = channel(1);
        let sender = loom::thread::spawn(move || {
            tx.send(1u32).unwrap();
            tx.send(2).unwrap();
        });
        let (mut got, mut missed) = (Vec::new(), 0);
        block_on(async {
            loop {
                match rx.recv().await {
                    Ok(v) => got.push(v),
                    Err(RecvError::Lagged(n)) => missed += n,
                    Err(RecvError::Closed) => break,
                }
            }
        });
        sender.join().unwrap();
        assert_eq!(got.last(), Some(&2));
        assert_eq!(got.len() as u64 + missed, 2);
    });
}

/// A receiver leaving races a send: the value is released exactly
/// when the remaining receiver has read it.
#[test]
fn loom_broadcast_receiver_drop_races_send() {
    loom::model(|| {
        let token = Arc::new(());
        let (tx, mut rx1) = channel(2);
        let rx2 = tx.subscribe();
        let sender = {
            let token = token.clone();
            loom::thread::spawn(move || {
                // Fails only if both receivers were gone: not here.
                tx.send(token).unwrap();
            })
        };
        drop(rx2);
        let got = block_on(rx1.recv()).unwrap();
        sender.join().unwrap();
        drop(got);
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "a copy is stuck in the channel"
        );
        assert_eq!(block_on(rx1.recv()), Err(RecvError::Closed));
    });
}
