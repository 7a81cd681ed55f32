//! The PostgreSQL server tests may use, and a fresh schema for each test on it.

use sqlx::Connection;

use crate::{Need, skipped};

/// The server of `TTWC_TEST_POSTGRES_URL`, or None after recording that `test` was skipped
/// (a failure instead when `TTWC_REQUIRE_POSTGRES=1`).
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("TTWC_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skipped(
                test,
                Need::Postgres,
                "TTWC_TEST_POSTGRES_URL is not set (scripts/test.sh sets it when PostgreSQL answers on 127.0.0.1:5432)",
            );
            None
        }
    }
}

/// A fresh schema on the test server, dropped (best effort) when this goes out of scope, even
/// when the test fails. `url` opens it: the server's URL with `search_path` set to the schema.
pub struct PgSchema {
    server: String,
    pub name: String,
    pub url: String,
}

impl PgSchema {
    pub async fn create(server: &str) -> PgSchema {
        let name = format!("ttwc_test_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("TTWC_TEST_POSTGRES_URL is set but unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await
            .expect("create schema");
        conn.close().await.ok();
        let sep = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{sep}options=-c%20search_path%3D{name}");
        PgSchema {
            server: server.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot block on itself: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&server).await.ok()?;
                sqlx::query("SET lock_timeout = '5s'")
                    .execute(&mut conn)
                    .await
                    .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test schema {}", self.name);
        }
    }
}
