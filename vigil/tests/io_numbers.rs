//! `AsyncReadExt::read_<number>` and `AsyncWriteExt::write_<number>`: every
//! type in both byte orders round-trips through a pipe that takes random
//! short reads and writes, the bytes on the wire are the standard library's
//! encodings, a reader that ends inside a number is `UnexpectedEof`, and a
//! broken reader or writer gets an error instead of a spin.

mod io_support;

use io_support::{within, Broken, Chaos, Misbehaviour};
use std::io;
use std::time::Duration;
use vigil::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn every_number_round_trips_in_both_byte_orders_through_short_reads_and_writes() {
    vigil::block_on(async {
        let (a, b) = vigil::io::duplex(7);
        let mut writer = Chaos::new(a, 1);
        let mut reader = Chaos::new(b, 2);
        let write = async {
            for i in 0..50u64 {
                let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                writer.write_u8(x as u8).await?;
                writer.write_i8(x as i8).await?;
                writer.write_u16(x as u16).await?;
                writer.write_u16_le(x as u16).await?;
                writer.write_i16(x as i16).await?;
                writer.write_i16_le(x as i16).await?;
                writer.write_u32(x as u32).await?;
                writer.write_u32_le(x as u32).await?;
                writer.write_i32(x as i32).await?;
                writer.write_i32_le(x as i32).await?;
                writer.write_u64(x).await?;
                writer.write_u64_le(x).await?;
                writer.write_i64(x as i64).await?;
                writer.write_i64_le(x as i64).await?;
                writer.write_u128(u128::from(x) << 64 | 7).await?;
                writer.write_u128_le(u128::from(x) << 64 | 7).await?;
                writer.write_i128(-(i128::from(x))).await?;
                writer.write_i128_le(-(i128::from(x))).await?;
                writer.write_f32(x as f32 / 3.0).await?;
                writer.write_f32_le(x as f32 / 3.0).await?;
                writer.write_f64(x as f64 / 7.0).await?;
                writer.write_f64_le(x as f64 / 7.0).await?;
            }
            writer.flush().await?;
            writer.shutdown().await
        };
        let read = async {
            for i in 0..50u64 {
                let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                assert_eq!(reader.read_u8().await?, x as u8);
                assert_eq!(reader.read_i8().await?, x as i8);
                assert_eq!(reader.read_u16().await?, x as u16);
                assert_eq!(reader.read_u16_le().await?, x as u16);
                assert_eq!(reader.read_i16().await?, x as i16);
                assert_eq!(reader.read_i16_le().await?, x as i16);
                assert_eq!(reader.read_u32().await?, x as u32);
                assert_eq!(reader.read_u32_le().await?, x as u32);
                assert_eq!(reader.read_i32().await?, x as i32);
                assert_eq!(reader.read_i32_le().await?, x as i32);
                assert_eq!(reader.read_u64().await?, x);
                assert_eq!(reader.read_u64_le().await?, x);
                assert_eq!(reader.read_i64().await?, x as i64);
                assert_eq!(reader.read_i64_le().await?, x as i64);
                assert_eq!(reader.read_u128().await?, u128::from(x) << 64 | 7);
                assert_eq!(reader.read_u128_le().await?, u128::from(x) << 64 | 7);
                assert_eq!(reader.read_i128().await?, -(i128::from(x)));
                assert_eq!(reader.read_i128_le().await?, -(i128::from(x)));
                assert_eq!(reader.read_f32().await?, x as f32 / 3.0);
                assert_eq!(reader.read_f32_le().await?, x as f32 / 3.0);
                assert_eq!(reader.read_f64().await?, x as f64 / 7.0);
                assert_eq!(reader.read_f64_le().await?, x as f64 / 7.0);
            }
            // Nothing left over.
            assert_eq!(reader.read(&mut [0u8; 1]).await?, 0);
            Ok::<_, io::Error>(())
        };
        let (written, read) = vigil::join!(write, read);
        written.unwrap();
        read.unwrap();
    });
}

#[test]
fn the_bytes_on_the_wire_are_the_standard_encodings() {
    vigil::block_on(async {
        let mut wire = Vec::new();
        wire.write_u32(0x0102_0304).await.unwrap();
        wire.write_u32_le(0x0102_0304).await.unwrap();
        wire.write_i16(-2).await.unwrap();
        wire.write_f64_le(1.5).await.unwrap();
        let mut expected = Vec::new();
        expected.extend_from_slice(&[1, 2, 3, 4, 4, 3, 2, 1]);
        expected.extend_from_slice(&(-2i16).to_be_bytes());
        expected.extend_from_slice(&1.5f64.to_le_bytes());
        assert_eq!(wire, expected);
    });
}

#[test]
fn a_reader_that_ends_inside_a_number_is_unexpected_eof() {
    vigil::block_on(async {
        let mut short: &[u8] = &[1, 2, 3];
        let err = short.read_u32().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
        let mut empty: &[u8] = &[];
        let err = empty.read_u8().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    });
}

#[test]
fn broken_readers_and_writers_get_errors_not_spins() {
    within(Duration::from_secs(10), || {
        vigil::block_on(async {
            for how in [Misbehaviour::Interrupted, Misbehaviour::WouldBlockAsReady] {
                let mut broken = Broken::new(how);
                assert!(broken.read_u64().await.is_err());
                assert!(broken.write_u64(7).await.is_err());
            }
            let mut zero = Broken::new(Misbehaviour::Zero);
            let err = zero.write_u16(1).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WriteZero, "{err}");
        })
    });
}
