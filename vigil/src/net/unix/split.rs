//! Splitting a [`UnixStream`] into a reading and a writing half (see
//! `net::split_halves` for how the halves work).

crate::net::split_halves::stream_halves!(UnixStream, "Unix", super::SocketAddr);
