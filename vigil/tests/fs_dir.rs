//! `vigil::fs`'s directory, link and metadata functions, on every engine.

mod fs_support;

use fs_support::{engines, TempDir};
use futures_core::Stream;
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use vigil::fs;

#[test]
fn directories_are_created_listed_and_removed() {
    for (name, rt) in engines() {
        let dir = TempDir::new("dirs");
        rt.block_on(async {
            let a = dir.join("a");
            fs::create_dir(&a).await.unwrap();
            let err = fs::create_dir(&a).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{name}");
            fs::create_dir_all(dir.join("a/b/c")).await.unwrap();
            fs::write(dir.join("a/file"), b"x").await.unwrap();

            let mut entries = fs::read_dir(&a).await.unwrap();
            let mut seen = BTreeSet::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                let kind = entry.file_type().await.unwrap();
                let kind = if kind.is_dir() { "dir" } else { "file" };
                assert_eq!(entry.path(), a.join(entry.file_name()), "{name}");
                assert!(entry.ino() > 0, "{name}");
                assert_eq!(
                    entry.metadata().await.unwrap().is_dir(),
                    kind == "dir",
                    "{name}"
                );
                seen.insert((entry.file_name().into_string().unwrap(), kind));
            }
            let expected: BTreeSet<_> = [("b".to_string(), "dir"), ("file".to_string(), "file")]
                .into_iter()
                .collect();
            assert_eq!(seen, expected, "{name}");
            assert!(
                entries.next_entry().await.unwrap().is_none(),
                "{name}: stays at the end"
            );

            let err = fs::remove_dir(&a).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty, "{name}");
            fs::remove_dir(dir.join("a/b/c")).await.unwrap();
            assert!(!fs::try_exists(dir.join("a/b/c")).await.unwrap(), "{name}");
            fs::remove_dir_all(&a).await.unwrap();
            assert!(!fs::try_exists(&a).await.unwrap(), "{name}");
        });
    }
}

#[test]
fn dir_builder_sets_the_mode_and_creates_parents_only_when_recursive() {
    for (name, rt) in engines() {
        let dir = TempDir::new("dir-builder");
        rt.block_on(async {
            let one = dir.join("one");
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&one)
                .await
                .unwrap();
            let mode = fs::metadata(&one).await.unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{name}");
            let err = fs::DirBuilder::new().create(&one).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{name}");
            let deep = dir.join("x/y/z");
            let err = fs::DirBuilder::new().create(&deep).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}");

            let mut builder = fs::DirBuilder::new();
            builder.recursive(true).mode(0o750);
            builder.create(&deep).await.unwrap();
            builder.create(&deep).await.unwrap();
            for path in [dir.join("x"), deep] {
                let mode = fs::metadata(&path).await.unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o750 & !umask(), "{name}: {path:?}");
            }
        });
    }
}

/// The process's file-mode creation mask, from `/proc/self/status`.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

#[test]
fn read_dir_is_a_stream_and_batches_large_directories() {
    for (name, rt) in engines() {
        let dir = TempDir::new("stream");
        rt.block_on(async {
            // More entries than one batch of the blocking pool.
            for i in 0..100 {
                fs::write(dir.join(&format!("f{i:03}")), b"").await.unwrap();
            }
            let mut entries = fs::read_dir(dir.path()).await.unwrap();
            let mut names = Vec::new();
            while let Some(entry) =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut entries).poll_next(cx)).await
            {
                names.push(entry.unwrap().file_name().into_string().unwrap());
            }
            names.sort();
            let expected: Vec<_> = (0..100).map(|i| format!("f{i:03}")).collect();
            assert_eq!(names, expected, "{name}");
        });
    }
}

#[test]
fn rename_link_copy_and_remove() {
    for (name, rt) in engines() {
        let dir = TempDir::new("links");
        rt.block_on(async {
            let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
            fs::write(&a, b"contents").await.unwrap();
            fs::rename(&a, &b).await.unwrap();
            assert!(!fs::try_exists(&a).await.unwrap(), "{name}");
            let err = fs::rename(&a, &c).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}");

            fs::hard_link(&b, &c).await.unwrap();
            assert_eq!(fs::read(&c).await.unwrap(), b"contents", "{name}");
            use std::os::unix::fs::MetadataExt;
            assert_eq!(fs::metadata(&b).await.unwrap().nlink(), 2, "{name}");

            let link = dir.join("link");
            fs::symlink("b", &link).await.unwrap();
            assert_eq!(
                fs::read_link(&link).await.unwrap(),
                std::path::Path::new("b"),
                "{name}"
            );
            assert!(
                fs::symlink_metadata(&link)
                    .await
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                "{name}"
            );
            assert!(fs::metadata(&link).await.unwrap().is_file(), "{name}");
            assert_eq!(
                fs::canonicalize(&link).await.unwrap(),
                std::fs::canonicalize(&b).unwrap(),
                "{name}"
            );

            let copy = dir.join("copy");
            assert_eq!(fs::copy(&b, &copy).await.unwrap(), 8, "{name}");
            assert_eq!(fs::read(&copy).await.unwrap(), b"contents", "{name}");

            fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600))
                .await
                .unwrap();
            let mode = fs::metadata(&copy).await.unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");

            for path in [&b, &c, &link, &copy] {
                fs::remove_file(path).await.unwrap();
            }
            let err = fs::remove_file(&b).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}");
            let err = fs::metadata(&b).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}");
        });
    }
}

#[test]
fn paths_with_a_nul_byte_are_invalid_input() {
    for (name, rt) in engines() {
        rt.block_on(async {
            for err in [
                fs::remove_file("a\0b").await.unwrap_err(),
                fs::create_dir("a\0b").await.unwrap_err(),
                fs::rename("a\0b", "c").await.unwrap_err(),
                fs::symlink("a", "b\0c").await.unwrap_err(),
            ] {
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
            }
        });
    }
}

/// Many file operations in flight at once from many tasks: more than the
/// ring's submission queue holds at a time.
#[test]
fn hundreds_of_operations_in_flight() {
    for (name, rt) in engines() {
        let dir = TempDir::new("many");
        rt.block_on(async {
            let mut tasks = vigil::task::JoinSet::new();
            for i in 0..600 {
                let path = dir.join(&format!("f{i}"));
                tasks.spawn(async move {
                    fs::write(&path, i.to_string()).await.unwrap();
                    let back = fs::read_to_string(&path).await.unwrap();
                    fs::remove_file(&path).await.unwrap();
                    back == i.to_string()
                });
            }
            let mut ok = 0;
            while let Some(res) = tasks.join_next().await {
                ok += res.unwrap() as usize;
            }
            assert_eq!(ok, 600, "{name}");
        });
    }
}
