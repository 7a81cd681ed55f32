//! Start-up: the master key is found or created, and a wrong or missing one is a clear error.

use connector::{App, AppOptions, Settings, StartError};

fn settings(dir: &std::path::Path, key: Option<&str>) -> Settings {
    let mut s = Settings::defaults();
    s.database_url = format!("sqlite://{}", dir.join("ttwc.db").display());
    s.master_key = key.map(str::to_owned);
    s
}

#[tokio::test]
async fn the_key_file_is_created_beside_the_database_and_reused() {
    let dir = tempfile::tempdir().expect("dir");
    let first = App::open(settings(dir.path(), None), AppOptions::default())
        .await
        .expect("first start");
    let key_file = dir.path().join("ttwc.key");
    assert!(key_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let salt = first.installation().salt.clone();
    drop(first);
    let again = App::open(settings(dir.path(), None), AppOptions::default())
        .await
        .expect("restart");
    assert_eq!(
        again.installation().salt,
        salt,
        "the installation (and its deviceIds) survive restarts"
    );
}

/// Issue 19: the database and its `-wal` and `-shm` files are readable by their owner only,
/// created so (whatever the umask) and tightened when an older version left them open.
#[cfg(unix)]
#[tokio::test]
async fn the_database_files_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let files = ["ttwc.db", "ttwc.db-wal", "ttwc.db-shm"].map(|f| dir.path().join(f));
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let app = App::open(settings(dir.path(), None), AppOptions::default())
        .await
        .expect("first start");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    drop(app);

    // Files an older version made readable by everyone: tightened at the next start.
    for f in &files {
        // SQLite may have removed the WAL and shared memory as the last connection closed.
        let _ = std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644));
    }
    assert_eq!(mode(&files[0]), 0o644);
    let _app = App::open(settings(dir.path(), None), AppOptions::default())
        .await
        .expect("restart");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

#[tokio::test]
async fn a_wrong_or_missing_key_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let hex = "11".repeat(32);
    App::open(settings(dir.path(), Some(&hex)), AppOptions::default())
        .await
        .expect("start with env key");

    let other = "22".repeat(32);
    let err = App::open(settings(dir.path(), Some(&other)), AppOptions::default())
        .await
        .err()
        .expect("wrong key");
    assert!(matches!(err, StartError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");
    assert!(
        !err.to_string().contains(&other),
        "the key itself is never printed"
    );

    // No env key and no key file, but the database holds an installation: refuse.
    let err = App::open(settings(dir.path(), None), AppOptions::default())
        .await
        .err()
        .expect("missing key");
    assert!(matches!(err, StartError::KeyFileMissing(_)), "{err}");
    assert!(
        !dir.path().join("ttwc.key").exists(),
        "no new key was made up for old secrets"
    );

    let err = App::open(settings(dir.path(), Some("abc")), AppOptions::default())
        .await
        .err()
        .expect("bad hex");
    assert!(err.to_string().contains("64 hexadecimal"), "{err}");
}

/// PostgreSQL has no key file: the key must come from TTWC_MASTER_KEY, and a replica started
/// with another key than the installation's refuses to start.
#[tokio::test]
async fn postgres_requires_the_installations_key() {
    let Some(server) =
        crate::store::postgres_url("startup::postgres_requires_the_installations_key")
    else {
        return;
    };
    let schema = crate::store::PgSchema::create(&server).await;
    let settings = |key: Option<&str>| {
        let mut s = Settings::defaults();
        s.database_url = schema.url.clone();
        s.master_key = key.map(str::to_owned);
        s
    };
    assert_eq!(
        settings(None).key_file(),
        None,
        "no key file for PostgreSQL"
    );

    let err = App::open(settings(None), AppOptions::default())
        .await
        .err()
        .expect("no key");
    assert!(matches!(err, StartError::KeyRequired(_)), "{err}");
    assert!(err.to_string().contains("TTWC_MASTER_KEY"), "{err}");

    let hex = "11".repeat(32);
    let first = App::open(settings(Some(&hex)), AppOptions::default())
        .await
        .expect("first replica");
    let salt = first.installation().salt.clone();
    let second = App::open(settings(Some(&hex)), AppOptions::default())
        .await
        .expect("a second replica with the same key");
    assert_eq!(second.installation().salt, salt, "one installation");

    let other = "22".repeat(32);
    let err = App::open(settings(Some(&other)), AppOptions::default())
        .await
        .err()
        .expect("wrong key");
    assert!(matches!(err, StartError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");
    assert!(
        !err.to_string().contains(&other) && !err.to_string().contains(&hex),
        "no key is ever printed"
    );

    // Even an installation's own replica needs the key: there is nowhere else to find it.
    let err = App::open(settings(None), AppOptions::default())
        .await
        .err()
        .expect("no key");
    assert!(matches!(err, StartError::KeyRequired(_)), "{err}");
}
