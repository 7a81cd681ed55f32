//! The SQLite backend's times as stored: every write path writes the sortable form (see
//! `times`), leases end as times do, and `0004_sortable_times.sql` rewrites what was written
//! before it.

use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::{MIGRATOR, SqliteStore, engine, times};
use crate::store::{
    Finished, Installation, NewOrder, SendOutcome, SessionRow, Store, WritebackEnd,
};
use crate::text::Text;

/// Every time column of the SQLite schema: (table, column).
const TIME_COLUMNS: [(&str, &str); 22] = [
    ("installation", "created_at"),
    ("sessions", "created_at"),
    ("sessions", "last_seen_at"),
    ("connections", "created_at"),
    ("connections", "connected_at"),
    ("connections", "disconnected_at"),
    ("connections", "updated_at"),
    ("connections", "last_sent_at"),
    ("connections", "last_error_at"),
    ("connections", "reconcile_cursor"),
    ("connections", "send_not_before"),
    ("activity", "at"),
    ("granted_keys", "created_at"),
    ("orders", "run_at"),
    ("orders", "lease_until"),
    ("orders", "last_error_at"),
    ("orders", "created_at"),
    ("orders", "first_attempt_at"),
    ("orders", "sent_at"),
    ("writebacks", "run_at"),
    ("writebacks", "lease_until"),
    ("writebacks", "created_at"),
];

/// Time columns added after `0004_sortable_times.sql`, which never held another form: known
/// to the schema check and written by `every_write_stores_the_sortable_form`, but outside the
/// rewrite the older columns' tests check.
const LATER_TIME_COLUMNS: [(&str, &str); 2] = [
    ("left_out_orders", "noted_at"),
    ("orders", "woo_modified_at"),
];

/// The named leases' deadline: beside `TIME_COLUMNS`, since the readiness probe writes one
/// that is not a time (an empty string, a lease always over) and deletes it at once.
const LEASE_UNTIL: (&str, &str) = ("leases", "until");

/// The stored form, as a GLOB.
const SORTABLE: &str = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]Z";

async fn store(dir: &tempfile::TempDir) -> (String, SqliteStore) {
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    (url, store)
}

async fn connect(url: &str) -> SqliteConnection {
    let options = SqliteConnectOptions::from_str(url)
        .unwrap()
        .create_if_missing(true);
    SqliteConnection::connect_with(&options).await.unwrap()
}

/// For each time column: (table.column, values set, values not in the stored form).
async fn census(c: &mut SqliteConnection) -> Vec<(String, i64, Vec<String>)> {
    let mut found = Vec::new();
    for (table, column) in TIME_COLUMNS.into_iter().chain([LEASE_UNTIL]) {
        // Names from the constants above.
        let set: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL"
        )))
        .fetch_one(&mut *c)
        .await
        .unwrap();
        let other: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} NOT GLOB ?"
        )))
        .bind(SORTABLE)
        .fetch_all(&mut *c)
        .await
        .unwrap();
        found.push((format!("{table}.{column}"), set, other));
    }
    found
}

/// `TIME_COLUMNS` is every column of the schema that holds a time, and the migration rewrites
/// each of them: a time column added later fails here until it is listed (and stored through
/// `times`).
#[tokio::test]
async fn every_time_column_is_known_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _store) = store(&dir).await;
    let mut c = connect(&url).await;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
         AND (p.name LIKE '%\\_at' ESCAPE '\\' OR p.name IN ('at', 'until', 'lease_until', \
              'send_not_before', 'reconcile_cursor'))",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut timelike: Vec<(String, String)> = columns
        .into_iter()
        // TrackingTech's own text, kept as it came (PostgreSQL keeps it as text too).
        .filter(|(t, c)| (t.as_str(), c.as_str()) != ("orders", "tt_updated_at"))
        .collect();
    timelike.sort();
    let mut known: Vec<(String, String)> = TIME_COLUMNS
        .into_iter()
        .chain([LEASE_UNTIL])
        .chain(LATER_TIME_COLUMNS)
        .map(|(t, c)| (t.to_owned(), c.to_owned()))
        .collect();
    known.sort();
    assert_eq!(timelike, known);

    let migration = include_str!("../../../migrations/sqlite/0004_sortable_times.sql");
    for (table, column) in TIME_COLUMNS.into_iter().chain([LEASE_UNTIL]) {
        assert!(
            migration.contains(&format!("UPDATE {table} SET {column} = ")),
            "0004 does not rewrite {table}.{column}"
        );
        assert!(
            migration.contains(&format!("SELECT {column} FROM {table}\n")),
            "0004 does not gather {table}.{column}"
        );
    }
}

/// Every write path of the backend, sqlx's and the writer thread's, stores its times in the
/// sortable form: every time column is set by something here, and none holds another form.
#[tokio::test]
async fn every_write_stores_the_sortable_form() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = store(&dir).await;
    let s: &dyn Store = &store;
    let now = crate::store::now();
    let whole = datetime!(2024-05-01 12:00:01 UTC);

    s.installation(&Installation {
        salt: "s".into(),
        key_id: "k".into(),
        created_at: whole,
    })
    .await
    .unwrap();
    let mut session = SessionRow {
        id_hash: "h".into(),
        csrf_token: "c".into(),
        created_at: whole,
        last_seen_at: whole,
        owner: None,
        user_json: None,
        tt_token: None,
        wizard: None,
    };
    s.insert_session(&session).await.unwrap();
    session.last_seen_at = now;
    s.update_session(&session).await.unwrap();
    s.purge_sessions(whole).await.unwrap();

    // A connection inserted in SQL (a ConnectionRow written out here would follow every change
    // of its fields), then written through the store.
    let mut c = connect(&url).await;
    sqlx::query(
        "INSERT INTO connections (id, owner, owner_email, tenant_code, tenant_name, api_base_url, \
         store_url, device_id, tt_store_id, tt_store_name, state, created_at, updated_at) \
         VALUES ('con_a', 'o', 'e', 'T', 'N', 'https://tt.example', 'https://a.example', 'd', '1', \
         'B', 'connected', ?1, ?1)",
    )
    .bind(times::encode(whole).unwrap())
    .execute(&mut c)
    .await
    .unwrap();
    let mut row = s.connection("con_a").await.unwrap().unwrap();
    row.connected_at = Some(whole);
    row.last_sent_at = Some(now);
    row.last_error_at = Some(now);
    s.update_connection(&row).await.unwrap();
    let mut other = row.clone();
    other.id = "con_b".into();
    other.store_url = "https://b.example".into();
    other.disconnected_at = Some(whole);
    s.upsert_connection(&other).await.unwrap();
    // upsert clears these on a reconnect; update sets them.
    s.update_connection(&other).await.unwrap();
    s.set_reconcile_cursor("con_a", whole).await.unwrap();

    s.put_granted_keys("g", &[1]).await.unwrap();
    s.add_activity("con_a", "k", &Text::legacy("m"))
        .await
        .unwrap();
    assert!(
        s.note_left_out("con_a", 99, &Text::legacy("left out"))
            .await
            .unwrap()
    );
    for id in 1..=4 {
        assert!(
            s.enqueue_order(NewOrder {
                connection_id: "con_a".into(),
                order_id: id,
                order_number: id.to_string(),
                woo_status: "processing".into(),
                // The writer thread's path; `note_woo_status` below is sqlx's.
                woo_modified_at: (id % 2 == 1).then_some(whole),
                source: None,
            })
            .await
            .unwrap()
        );
    }
    for id in [1, 2] {
        let noted = s
            .note_woo_status("con_a", id, "on-hold", Some(now))
            .await
            .unwrap();
        assert!(noted.is_some_and(|n| n.kept), "order {id}");
    }
    assert_eq!(
        s.claim_sends("w", Duration::MINUTE, 10, 10)
            .await
            .unwrap()
            .len(),
        4
    );
    let sent = SendOutcome::Sent {
        tt_id: "t".into(),
        tracking_id: "T".into(),
        status: "created".into(),
        status_name: "Creado".into(),
        writeback: "wb".into(),
    };
    let retry = SendOutcome::Retry {
        run_at: now + Duration::HOUR,
        error: Text::legacy("429"),
        hold_connection_until: Some(whole),
    };
    let failed = SendOutcome::Failed {
        error: Text::legacy("x"),
    };
    let relogin = SendOutcome::NeedsRelogin {
        error: Text::legacy("401"),
    };
    let m = Text::legacy("m");
    let finished = |order_id, outcome| Finished {
        connection_id: "con_a",
        order_id,
        outcome,
        activity: Some(("k", &m)),
    };
    s.finish_sends(
        "w",
        &[
            finished(1, &sent),
            finished(2, &retry),
            finished(3, &failed),
            finished(4, &relogin),
        ],
    )
    .await
    .unwrap();
    // Order 4 is queued again, its connection waiting for a login: back to connected.
    row = s.connection("con_a").await.unwrap().unwrap();
    row.state = crate::store::ConnectionState::Connected;
    s.update_connection(&row).await.unwrap();
    s.resend("con_a", Some(3)).await.unwrap();
    s.update_tracking("con_a", 1, "in_transit", "En tránsito", "t", "wb2")
        .await
        .unwrap();
    let wbs = s.claim_writebacks("w", Duration::MINUTE, 10).await.unwrap();
    assert_eq!(wbs.len(), 2);
    s.finish_writebacks(
        "w",
        &[WritebackEnd {
            id: wbs[0].id,
            retry_at: Some(now),
            error: Some("503"),
            warning: Some(&Text::legacy("warned")),
        }],
    )
    .await
    .unwrap();
    assert_eq!(s.release_retries("https://tt.example").await.unwrap(), 1);
    // Orders 2 (released), 3 (resent) and 4 (back from the login) leased again, and left so.
    assert_eq!(
        s.claim_sends("w", Duration::MINUTE, 10, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        s.try_lease("reconcile", "w", Duration::MINUTE)
            .await
            .unwrap()
    );
    s.ready().await.unwrap();

    for (table, column) in LATER_TIME_COLUMNS {
        let values: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert!(!values.is_empty(), "{table}.{column}: the test set none");
        for v in values {
            assert!(
                v.len() == 30 && v.ends_with('Z') && v.as_bytes()[10] == b'T',
                "{table}.{column}: {v:?}"
            );
        }
    }
    for (column, set, other) in census(&mut c).await {
        assert!(set > 0, "{column}: nothing here wrote it");
        assert_eq!(other, Vec::<String>::new(), "{column}");
    }
}

/// Orders' and write-backs' leases end as times do: one ending at a whole second has ended
/// 0.1 s into that second, one ending 0.3 s into it has not. (The conformance suite cannot set
/// a lease's end to the nanosecond: the store takes it from its own clock.)
#[tokio::test]
async fn leases_ending_within_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = store(&dir).await;
    let mut c = connect(&url).await;
    for id in ["con_a", "con_b"] {
        sqlx::query(
            "INSERT INTO connections (id, owner, owner_email, tenant_code, tenant_name, \
             api_base_url, store_url, device_id, tt_store_id, tt_store_name, state, created_at, \
             updated_at) VALUES (?1, 'o', 'e', 'T', 'N', 'https://tt.example', ?1, 'd', '1', 'B', \
             'connected', ?2, ?2)",
        )
        .bind(id)
        .bind(times::encode(crate::store::now()).unwrap())
        .execute(&mut c)
        .await
        .unwrap();
    }
    // A whole second over 2 s away: what is enqueued now is due a second before it.
    let ahead = crate::store::now() + Duration::seconds(3);
    let second = ahead - Duration::nanoseconds(i64::from(ahead.nanosecond()));
    let leased = |now, lease_until| engine::Claim {
        owner: "w1".into(),
        now,
        lease_until,
        limit: 1,
        per_connection: 10,
    };
    // Order a:1 leased until the whole second, b:1 until 0.3 s into it.
    for (connection_id, until) in [
        ("con_a", second),
        ("con_b", second + Duration::milliseconds(300)),
    ] {
        store
            .enqueue_order(NewOrder {
                connection_id: connection_id.into(),
                order_id: 1,
                order_number: "1".into(),
                woo_status: "processing".into(),
                woo_modified_at: None,
                source: None,
            })
            .await
            .unwrap();
        let claim = leased(second - Duration::SECOND, until);
        let claimed = store
            .writer
            .run(move |c| engine::claim_sends(c, &claim))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].lease_until, Some(until));
        store
            .update_tracking(connection_id, 1, "created", "Creado", "t", connection_id)
            .await
            .unwrap();
        let wbs = store
            .writer
            .run(move |c| engine::claim_writebacks(c, "w1", second - Duration::SECOND, until, 1))
            .await
            .unwrap();
        assert_eq!(wbs.len(), 1);
    }

    let tenth = second + Duration::milliseconds(100);
    let mut taken_over = leased(tenth, tenth + Duration::MINUTE);
    taken_over.owner = "w2".into();
    taken_over.limit = 10;
    let claimed = store
        .writer
        .run(move |c| engine::claim_sends(c, &taken_over))
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|o| (o.connection_id.as_str(), o.attempts))
            .collect::<Vec<_>>(),
        [("con_a", 2)]
    );
    let wbs = store
        .writer
        .run(move |c| engine::claim_writebacks(c, "w2", tenth, tenth + Duration::MINUTE, 10))
        .await
        .unwrap();
    assert_eq!(
        wbs.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
        ["con_a"]
    );
}

/// A database at the schema before 0004, as the old code left it.
async fn database_before_0004(dir: &tempfile::TempDir) -> (String, SqliteConnection) {
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut c = connect(&url).await;
    MIGRATOR.run_to(3, &mut c).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(applied, 3);
    (url, c)
}

/// Rows written in every form the old code could write (RFC 3339 trimmed by the `time` crate:
/// `…:01Z`, `…:01.3Z`, nine digits, `+00:00` and other offsets) read back after the store's
/// open migrated them as the same instants, in the stored form, and sort as times.
#[tokio::test]
async fn times_written_before_0004_are_rewritten_to_sort() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut c) = database_before_0004(&dir).await;
    sqlx::raw_sql(
        "INSERT INTO installation VALUES (1, 'salt', 'key', '2024-05-01T12:00:01Z');
         INSERT INTO sessions (id_hash, csrf_token, created_at, last_seen_at) VALUES
           ('whole', 'c', '2024-05-01T12:00:01Z', '2024-05-01T12:00:01Z'),
           ('tenth', 'c', '2024-05-01T12:00:01.1Z', '2024-05-01T12:00:01.1Z'),
           ('twelve', 'c', '2024-05-01T12:00:01.12Z', '2024-05-01T12:00:01.12Z');
         INSERT INTO connections (id, owner, owner_email, tenant_code, tenant_name, api_base_url,
           store_url, device_id, tt_store_id, tt_store_name, state, created_at, updated_at,
           connected_at, disconnected_at, last_sent_at, last_error_at, reconcile_cursor,
           send_not_before) VALUES
           ('con_whole', 'o', 'e', 'T', 'N', 'https://tt.example', 'https://w.example', 'd', '1',
            'B', 'connected', '2024-05-01T12:00:01Z', '2024-05-01T12:00:01.3Z',
            '2024-05-01T12:00:01.123456789Z', '2024-05-01T12:00:01.5+00:00',
            '2024-05-01T08:00:01.25-04:00', '2024-05-01T23:30:00.000001+05:30',
            '2024-05-01T12:00:01.12Z', '2024-05-01T12:00:01.123Z'),
           ('con_tenth', 'o', 'e', 'T', 'N', 'https://tt.example', 'https://t.example', 'd', '1',
            'B', 'connected', '2024-05-01T12:00:01.1Z', '2024-05-01T12:00:01.1Z',
            NULL, NULL, NULL, NULL, NULL, NULL),
           ('con_offset', 'o', 'e', 'T', 'N', 'https://tt.example', 'https://o.example', 'd', '1',
            'B', 'connected', '2024-05-01T13:00:01.05+01:00', '2024-05-01T12:00:01+00:00',
            NULL, NULL, NULL, NULL, NULL, NULL);
         INSERT INTO activity (connection_id, at, kind, message) VALUES
           ('con_whole', '2024-05-01T12:00:01Z', 'k', 'first'),
           ('con_whole', '2024-05-01T12:00:01.3Z', 'k', 'second');
         INSERT INTO granted_keys VALUES ('g', x'00', '2024-05-01T12:00:01.3Z');
         INSERT INTO orders (connection_id, order_id, order_number, state, run_at, lease_owner,
           lease_until, last_error_at, created_at, first_attempt_at, sent_at) VALUES
           ('con_whole', 1, '1', 'queued', '2024-05-01T12:00:01Z', NULL, NULL, NULL,
            '2024-05-01T12:00:01Z', NULL, NULL),
           ('con_whole', 2, '2', 'queued', '2024-05-01T12:00:01.3Z', NULL, NULL,
            '2024-05-01T12:00:01.3Z', '2024-05-01T12:00:01.3Z', '2024-05-01T12:00:01.3Z', NULL),
           ('con_whole', 3, '3', 'sending', '2024-05-01T12:00:00.999999999Z', 'w',
            '2024-05-01T12:00:01Z', NULL, '2024-05-01T12:00:00.999999999Z',
            '2024-05-01T12:00:00.999999999Z', NULL),
           ('con_whole', 4, '4', 'sent', '2024-05-01T12:00:01.000001Z', NULL, NULL, NULL,
            '2024-05-01T12:00:01.000001Z', '2024-05-01T12:00:01.000001Z',
            '2024-05-01T12:00:01.5+00:00');
         INSERT INTO writebacks (connection_id, order_id, body, state, run_at, lease_owner,
           lease_until, created_at) VALUES
           ('con_whole', 4, 'wb-whole', 'queued', '2024-05-01T12:00:01Z', NULL, NULL,
            '2024-05-01T12:00:01Z'),
           ('con_whole', 4, 'wb-inside', 'running', '2024-05-01T12:00:01.3Z', 'w',
            '2024-05-01T12:00:01.3Z', '2024-05-01T12:00:01.3Z');
         INSERT INTO leases VALUES ('reconcile', 'w', '2024-05-01T12:00:01Z'),
           ('ttwc-readyz-probe', 'x', '');",
    )
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();

    let store = SqliteStore::open(&url).await.unwrap();
    let s: &dyn Store = &store;
    let at = |ns: i64| datetime!(2024-05-01 12:00:01 UTC) + Duration::nanoseconds(ns);
    let ms = |ms: i64| at(ms * 1_000_000);

    // The same instants, through the store.
    let installation = s
        .installation(&Installation {
            salt: "other".into(),
            key_id: "other".into(),
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    assert_eq!(
        (installation.salt.as_str(), installation.created_at),
        ("salt", at(0))
    );
    assert_eq!(
        s.session("tenth").await.unwrap().unwrap().last_seen_at,
        ms(100)
    );
    let w = s.connection("con_whole").await.unwrap().unwrap();
    assert_eq!(
        (
            w.created_at,
            w.updated_at,
            w.connected_at,
            w.disconnected_at,
            w.last_sent_at,
            w.last_error_at
        ),
        (
            at(0),
            ms(300),
            Some(at(123_456_789)),
            Some(ms(500)),
            Some(ms(250)),
            Some(datetime!(2024-05-01 18:00:00.000001 UTC))
        )
    );
    assert_eq!(
        s.reconcile_cursor("con_whole").await.unwrap(),
        Some(ms(120))
    );
    assert_eq!(
        s.connection("con_offset")
            .await
            .unwrap()
            .unwrap()
            .created_at,
        ms(50)
    );
    let o3 = s.order("con_whole", 3).await.unwrap().unwrap();
    assert_eq!(
        (o3.run_at, o3.lease_until, o3.first_attempt_at),
        (at(-1), Some(at(0)), Some(at(-1)))
    );
    let o4 = s.order("con_whole", 4).await.unwrap().unwrap();
    assert_eq!((o4.run_at, o4.sent_at), (at(1_000), Some(ms(500))));
    let activity: Vec<OffsetDateTime> = s
        .activity("con_whole", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.at)
        .collect();
    assert_eq!(activity, [ms(300), at(0)]);

    // In the stored form, each one.
    let mut c = connect(&url).await;
    for (column, set, other) in census(&mut c).await {
        assert!(set > 0, "{column}: the test set none");
        if column == "leases.until" {
            assert_eq!(other, [""], "the probe's lease is left as it was");
        } else {
            assert_eq!(other, Vec::<String>::new(), "{column}");
        }
    }
    let run_at: String = sqlx::query_scalar("SELECT run_at FROM orders WHERE order_id = 4")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(run_at, "2024-05-01T12:00:01.000001000Z");
    let last_error_at: String =
        sqlx::query_scalar("SELECT last_error_at FROM connections WHERE id = 'con_whole'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(last_error_at, "2024-05-01T18:00:00.000001000Z");
    let tenth: String =
        sqlx::query_scalar("SELECT created_at FROM sessions WHERE id_hash = 'tenth'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(tenth, "2024-05-01T12:00:01.100000000Z");

    // And they sort as times: in SQL, and in what the store answers.
    let by_run_at: Vec<i64> = sqlx::query_scalar("SELECT order_id FROM orders ORDER BY run_at")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(by_run_at, [3, 1, 4, 2]);
    let by_created: Vec<String> =
        sqlx::query_scalar("SELECT id_hash FROM sessions ORDER BY created_at DESC")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(by_created, ["twelve", "tenth", "whole"]);
    let newest_first: Vec<String> = s
        .connections(None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(newest_first, ["con_tenth", "con_offset", "con_whole"]);
    assert_eq!(s.purge_sessions(ms(110)).await.unwrap(), 2);
    assert!(s.session("twelve").await.unwrap().is_some());
    // A hold ending 0.123 s into the second: held later in it, free just after.
    let hold: String =
        sqlx::query_scalar("SELECT send_not_before FROM connections WHERE id = 'con_whole'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert!(hold > times::encode(ms(122)).unwrap() && hold <= times::encode(ms(123)).unwrap());
}

/// The migration's SQL and `times` agree on every form the old code could have written: a
/// deterministic scatter of instants, fraction lengths (0 to 9 digits) and offsets, each read
/// back after the migration as `times::encode(times::decode(old))`.
#[tokio::test]
async fn the_migration_converts_as_decode_and_encode_do() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut c) = database_before_0004(&dir).await;
    let offsets = [
        UtcOffset::UTC,
        offset!(-04:00),
        offset!(-03:00),
        offset!(+05:30),
        offset!(+14:00),
        offset!(-12:00),
        offset!(+00:45),
    ];
    let start = datetime!(2023-12-31 22:00:00 UTC);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut olds = Vec::new();
    for i in 0..2_000 {
        let seconds = (next() % (3 * 86_400)) as i64;
        let digits = (next() % 10) as u32;
        let nanos = (next() % 1_000_000_000) as i64;
        let nanos = nanos - nanos % 10_i64.pow(9 - digits);
        let t = start + Duration::seconds(seconds) + Duration::nanoseconds(nanos);
        let offset = offsets[(next() % offsets.len() as u64) as usize];
        let mut old = t.to_offset(offset).format(&Rfc3339).unwrap();
        if i % 7 == 0 && old.ends_with('Z') {
            old = format!("{}+00:00", old.trim_end_matches('Z'));
        }
        olds.push(old);
    }
    for (i, old) in olds.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sessions (id_hash, csrf_token, created_at, last_seen_at) VALUES (?, 'c', ?, ?)",
        )
        .bind(i.to_string())
        .bind(old)
        .bind(old)
        .execute(&mut c)
        .await
        .unwrap();
    }
    c.close().await.unwrap();
    let _store = SqliteStore::open(&url).await.unwrap();
    let mut c = connect(&url).await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id_hash, last_seen_at FROM sessions")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(rows.len(), olds.len());
    for (i, new) in rows {
        let old = &olds[i.parse::<usize>().unwrap()];
        let expected =
            times::encode(times::decode("sessions", "last_seen_at", old).unwrap()).unwrap();
        assert_eq!(new, expected, "{old}");
    }
}
