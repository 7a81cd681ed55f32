//! The SQLite backend: one file in WAL mode, `synchronous=FULL` by default, embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

use super::{
    ActivityRow, ConnectionRow, ConnectionState, Installation, Result, SessionRow, Store,
    StoreError,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

/// The connection columns, as a macro so queries stay static strings.
macro_rules! connection_columns {
    () => {
        "id, owner, owner_email, tenant_code, tenant_name, api_base_url, \
    store_url, device_id, tt_store_id, tt_store_name, customer_id, integration_token, \
    woo_consumer_key, woo_consumer_secret, woo_permissions, webhook_id, webhook_secret, state, \
    trigger_status, mark_completed, notify_customer, created_at, connected_at, disconnected_at, \
    updated_at, last_sent_at, last_error, last_error_at"
    };
}

fn connection_from_row(row: &SqliteRow) -> Result<ConnectionRow> {
    let state: String = row.try_get("state")?;
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        owner_email: row.try_get("owner_email")?,
        tenant_code: row.try_get("tenant_code")?,
        tenant_name: row.try_get("tenant_name")?,
        api_base_url: row.try_get("api_base_url")?,
        store_url: row.try_get("store_url")?,
        device_id: row.try_get("device_id")?,
        tt_store_id: row.try_get("tt_store_id")?,
        tt_store_name: row.try_get("tt_store_name")?,
        customer_id: row.try_get("customer_id")?,
        integration_token: row.try_get("integration_token")?,
        woo_consumer_key: row.try_get("woo_consumer_key")?,
        woo_consumer_secret: row.try_get("woo_consumer_secret")?,
        woo_permissions: row.try_get("woo_permissions")?,
        webhook_id: row.try_get("webhook_id")?,
        webhook_secret: row.try_get("webhook_secret")?,
        state: ConnectionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown connection state {state:?}")))?,
        trigger_status: row.try_get("trigger_status")?,
        mark_completed: row.try_get("mark_completed")?,
        notify_customer: row.try_get("notify_customer")?,
        created_at: row.try_get("created_at")?,
        connected_at: row.try_get("connected_at")?,
        disconnected_at: row.try_get("disconnected_at")?,
        updated_at: row.try_get("updated_at")?,
        last_sent_at: row.try_get("last_sent_at")?,
        last_error: row.try_get("last_error")?,
        last_error_at: row.try_get("last_error_at")?,
    })
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRow> {
    Ok(SessionRow {
        id_hash: row.try_get("id_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        owner: row.try_get("owner")?,
        user_json: row.try_get("user_json")?,
        tt_token: row.try_get("tt_token")?,
        wizard: row.try_get("wizard")?,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn installation(&self, candidate: &Installation) -> Result<Installation> {
        sqlx::query("INSERT INTO installation (id, salt, key_id, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(&candidate.salt)
            .bind(&candidate.key_id)
            .bind(candidate.created_at)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT salt, key_id, created_at FROM installation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(Installation {
            salt: row.try_get("salt")?,
            key_id: row.try_get("key_id")?,
            created_at: row.try_get("created_at")?,
        })
    }

    async fn has_installation(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM installation")
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, csrf_token, created_at, last_seen_at, owner, user_json, tt_token, wizard) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.id_hash)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(&s.owner)
        .bind(&s.user_json)
        .bind(&s.tt_token)
        .bind(&s.wizard)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn update_session(&self, s: &SessionRow) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET csrf_token = ?, last_seen_at = ?, owner = ?, user_json = ?, tt_token = ?, wizard = ? \
             WHERE id_hash = ?",
        )
        .bind(&s.csrf_token)
        .bind(s.last_seen_at)
        .bind(&s.owner)
        .bind(&s.user_json)
        .bind(&s.tt_token)
        .bind(&s.wizard)
        .bind(&s.id_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_sessions(&self, idle_before: OffsetDateTime) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ?")
            .bind(idle_before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn upsert_connection(&self, c: &ConnectionRow) -> Result<ConnectionRow> {
        let sql = concat!(
            "INSERT INTO connections (",
            connection_columns!(),
            ") \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (store_url) DO UPDATE SET \
               owner = excluded.owner, owner_email = excluded.owner_email, tenant_code = excluded.tenant_code, \
               tenant_name = excluded.tenant_name, api_base_url = excluded.api_base_url, \
               device_id = excluded.device_id, tt_store_id = excluded.tt_store_id, tt_store_name = excluded.tt_store_name, \
               customer_id = excluded.customer_id, integration_token = excluded.integration_token, \
               woo_consumer_key = excluded.woo_consumer_key, woo_consumer_secret = excluded.woo_consumer_secret, \
               woo_permissions = excluded.woo_permissions, webhook_id = excluded.webhook_id, \
               webhook_secret = excluded.webhook_secret, state = excluded.state, \
               connected_at = excluded.connected_at, disconnected_at = NULL, updated_at = excluded.updated_at, \
               last_error = NULL, last_error_at = NULL \
             RETURNING ",
            connection_columns!()
        );
        let row = bind_connection(sqlx::query(sql), c)
            .fetch_one(&self.pool)
            .await?;
        connection_from_row(&row)
    }

    async fn update_connection(&self, c: &ConnectionRow) -> Result<()> {
        sqlx::query(
            "UPDATE connections SET owner = ?, owner_email = ?, tenant_code = ?, tenant_name = ?, api_base_url = ?, \
               device_id = ?, tt_store_id = ?, tt_store_name = ?, customer_id = ?, integration_token = ?, \
               woo_consumer_key = ?, woo_consumer_secret = ?, woo_permissions = ?, webhook_id = ?, webhook_secret = ?, \
               state = ?, trigger_status = ?, mark_completed = ?, notify_customer = ?, connected_at = ?, \
               disconnected_at = ?, updated_at = ?, last_sent_at = ?, last_error = ?, last_error_at = ? \
             WHERE id = ?",
        )
        .bind(&c.owner)
        .bind(&c.owner_email)
        .bind(&c.tenant_code)
        .bind(&c.tenant_name)
        .bind(&c.api_base_url)
        .bind(&c.device_id)
        .bind(&c.tt_store_id)
        .bind(&c.tt_store_name)
        .bind(&c.customer_id)
        .bind(&c.integration_token)
        .bind(&c.woo_consumer_key)
        .bind(&c.woo_consumer_secret)
        .bind(&c.woo_permissions)
        .bind(c.webhook_id)
        .bind(&c.webhook_secret)
        .bind(c.state.as_str())
        .bind(&c.trigger_status)
        .bind(c.mark_completed)
        .bind(c.notify_customer)
        .bind(c.connected_at)
        .bind(c.disconnected_at)
        .bind(c.updated_at)
        .bind(c.last_sent_at)
        .bind(&c.last_error)
        .bind(c.last_error_at)
        .bind(&c.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<ConnectionRow>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE id = ?"
        );
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn connection_by_store_url(&self, store_url: &str) -> Result<Option<ConnectionRow>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE store_url = ?"
        );
        let row = sqlx::query(sql)
            .bind(store_url)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn connections(&self, owner: Option<&str>) -> Result<Vec<ConnectionRow>> {
        let rows = match owner {
            Some(owner) => {
                let sql = concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections WHERE owner = ? ORDER BY created_at DESC, id"
                );
                sqlx::query(sql).bind(owner).fetch_all(&self.pool).await?
            }
            None => {
                let sql = concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections ORDER BY created_at DESC, id"
                );
                sqlx::query(sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(connection_from_row).collect()
    }

    async fn put_granted_keys(&self, grant_hash: &str, sealed: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO granted_keys (grant_hash, sealed, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (grant_hash) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at",
        )
        .bind(grant_hash)
        .bind(sealed)
        .bind(super::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_granted_keys(
        &self,
        grant_hash: &str,
        newer_than: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM granted_keys WHERE grant_hash = ? RETURNING CASE WHEN created_at > ? THEN sealed END",
        )
        .bind(grant_hash)
        .bind(newer_than)
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        Ok(sealed)
    }

    async fn add_activity(&self, connection_id: &str, kind: &str, message: &str) -> Result<()> {
        sqlx::query("INSERT INTO activity (connection_id, at, kind, message) VALUES (?, ?, ?, ?)")
            .bind(connection_id)
            .bind(super::now())
            .bind(kind)
            .bind(message)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn activity(&self, connection_id: &str, limit: u32) -> Result<Vec<ActivityRow>> {
        let rows = sqlx::query("SELECT id, connection_id, at, kind, message FROM activity WHERE connection_id = ? ORDER BY id DESC LIMIT ?")
            .bind(connection_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ActivityRow {
                    id: r.try_get("id")?,
                    connection_id: r.try_get("connection_id")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    async fn queue_depth(&self, _connection_id: &str) -> Result<u64> {
        Ok(0)
    }

    async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        let expected = MIGRATOR.iter().count() as i64;
        if applied < expected {
            return Err(StoreError::Corrupt(format!(
                "{applied} of {expected} migrations applied"
            )));
        }
        Ok(())
    }
}

fn bind_connection<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    c: &'q ConnectionRow,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(&c.id)
        .bind(&c.owner)
        .bind(&c.owner_email)
        .bind(&c.tenant_code)
        .bind(&c.tenant_name)
        .bind(&c.api_base_url)
        .bind(&c.store_url)
        .bind(&c.device_id)
        .bind(&c.tt_store_id)
        .bind(&c.tt_store_name)
        .bind(&c.customer_id)
        .bind(&c.integration_token)
        .bind(&c.woo_consumer_key)
        .bind(&c.woo_consumer_secret)
        .bind(&c.woo_permissions)
        .bind(c.webhook_id)
        .bind(&c.webhook_secret)
        .bind(c.state.as_str())
        .bind(&c.trigger_status)
        .bind(c.mark_completed)
        .bind(c.notify_customer)
        .bind(c.created_at)
        .bind(c.connected_at)
        .bind(c.disconnected_at)
        .bind(c.updated_at)
        .bind(c.last_sent_at)
        .bind(&c.last_error)
        .bind(c.last_error_at)
}
