//! The embedded registry: what `embed_migrations!()` builds at compile time.

use migrations_core::apply::ApplyError;
use migrations_core::{Dialect, Schema};

use crate::schema::{self, Steps};
/// One migration embedded in the binary by `embed_migrations!()`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// `0002_add_user_email`.
    pub id: &'static str,
    /// The migrations it comes after (`"0001_initial"`, or `"auth/0001_initial"` for another app).
    pub dependencies: &'static [&'static str],
    /// For a squash (written by `cargo chakra squash`), the migrations of its app it
    /// replaces, in order; empty for any other. A database that applied none of them
    /// applies the squash; one that applied all of them has it; one that applied some
    /// applies the rest of them, one by one (they must still be embedded).
    pub replaces: &'static [&'static str],
    /// Computed at build time: the checksum recorded when the migration is applied (what it
    /// does, `2:` and 62 hex digits), then a space and the SHA-256 of the module's text,
    /// which rows recorded before that scheme hold (see [`EmbeddedMigration::matches`]).
    /// A hand-written registry may give any one string.
    pub checksum: &'static str,
    /// Whether it is an unsealed draft.
    pub draft: bool,
    /// Records the forward operations.
    pub up: fn(&mut schema::Migration),
    /// Records the backward operations.
    pub down: fn(&mut schema::Migration),
}

/// Every migration of one app (crate), as embedded at build time.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// The app label (the crate name unless configured).
    pub app: &'static str,
    /// The migrations, in file order.
    pub migrations: &'static [EmbeddedMigration],
    /// `.chakra/snapshot.toml` as of the build.
    pub snapshot: &'static str,
}

impl EmbeddedMigration {
    /// The checksum recorded in the history when this migration is applied.
    pub fn recorded_checksum(&self) -> &'static str {
        self.checksum.split(' ').next().unwrap_or(self.checksum)
    }

    /// Whether `stored`, a checksum in the history, says that this migration is the one
    /// that was applied: the same semantic checksum (formatting, comments, `use` lines and
    /// the data-loss acknowledgement aside), or, in a row recorded before that scheme, the
    /// same text.
    ///
    /// A draft is recorded as `d:` and its text's checksum, and only a development
    /// database applies drafts: there, the sealed migration is taken for the draft it
    /// applied (sealing changed the file's header, not what it does).
    pub fn matches(&self, stored: &str) -> bool {
        let older_scheme = !stored.starts_with("2:") && !stored.starts_with("d:");
        stored == self.recorded_checksum()
            || (stored.starts_with("d:") && !self.draft)
            || (older_scheme && self.checksum.split(' ').nth(1) == Some(stored))
    }

    /// The forward operations and Rust data steps, in order; drops given by name are
    /// looked up in `before`, the schema the migration meets.
    pub(crate) fn up_steps(&self, before: &Schema) -> Result<Steps, ApplyError> {
        steps(self.up, before)
    }

    /// The backward operations and Rust data steps, in order; drops given by name are
    /// looked up in `after`, the schema after `up`.
    pub(crate) fn down_steps(&self, after: &Schema) -> Result<Steps, ApplyError> {
        steps(self.down, after)
    }

    /// The forward operations, as `up` records them, met with the schema `before` it.
    pub fn up_operations(&self, before: &Schema) -> Result<Vec<migrations_core::Operation>, ApplyError> {
        self.up_steps(before).map(|(ops, _)| ops)
    }

    /// The backward operations, as `down` records them, met with the schema `after` `up`.
    pub fn down_operations(&self, after: &Schema) -> Result<Vec<migrations_core::Operation>, ApplyError> {
        self.down_steps(after).map(|(ops, _)| ops)
    }
}

fn steps(direction: fn(&mut schema::Migration), start: &Schema) -> Result<Steps, ApplyError> {
    let mut m = schema::Migration::new();
    direction(&mut m);
    m.into_steps(start)
}

impl Migrations {
    /// The migration with this id.
    pub fn get(&self, id: &str) -> Option<&EmbeddedMigration> {
        self.migrations.iter().find(|m| m.id == id)
    }

    /// The schema after the first `n` migrations (in file order), replayed in memory.
    pub fn schema_after(&self, n: usize) -> Result<Schema, ApplyError> {
        let mut schema = Schema::new();
        for m in &self.migrations[..n.min(self.migrations.len())] {
            let ops = m.up_operations(&schema)?;
            schema.apply_all(&ops)?;
        }
        Ok(schema)
    }

    /// The forward SQL of every migration for `dialect`, in order, each with its id:
    /// the operations are replayed from an empty schema, so each statement is rendered
    /// against the schema it will meet.
    pub fn sql(
        &self,
        dialect: Dialect,
    ) -> Result<Vec<(&'static str, Vec<String>)>, migrations_core::render::RenderError> {
        let mut schema = migrations_core::Schema::new();
        let mut out = Vec::new();
        for m in self.migrations {
            let (sql, after) = migrations_core::render::render_all(&m.up_operations(&schema)?, &schema, dialect)?;
            schema = after;
            out.push((m.id, sql));
        }
        Ok(out)
    }
}
