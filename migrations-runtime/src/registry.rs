//! The embedded registry: what `embed_migrations!()` builds at compile time.

use migrations_core::Dialect;

use crate::schema;
/// One migration embedded in the binary by `embed_migrations!()`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// `0002_add_user_email`.
    pub id: &'static str,
    /// The migrations it comes after (`"0001_initial"`, or `"auth/0001_initial"` for another app).
    pub dependencies: &'static [&'static str],
    /// SHA-256 of the module's source with line endings normalised, computed at build time.
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
    /// The forward operations and Rust data steps, in order.
    pub(crate) fn up_steps(&self) -> (Vec<migrations_core::Operation>, Vec<(usize, &'static str, schema::DataStep)>) {
        let mut m = schema::Migration::new();
        (self.up)(&mut m);
        m.into_steps()
    }

    /// The backward operations and Rust data steps, in order.
    pub(crate) fn down_steps(&self) -> (Vec<migrations_core::Operation>, Vec<(usize, &'static str, schema::DataStep)>) {
        let mut m = schema::Migration::new();
        (self.down)(&mut m);
        m.into_steps()
    }

    /// The forward operations, as `up` records them.
    pub fn up_operations(&self) -> Vec<migrations_core::Operation> {
        let mut m = schema::Migration::new();
        (self.up)(&mut m);
        m.into_operations()
    }

    /// The backward operations, as `down` records them.
    pub fn down_operations(&self) -> Vec<migrations_core::Operation> {
        let mut m = schema::Migration::new();
        (self.down)(&mut m);
        m.into_operations()
    }
}

impl Migrations {
    /// The migration with this id.
    pub fn get(&self, id: &str) -> Option<&EmbeddedMigration> {
        self.migrations.iter().find(|m| m.id == id)
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
            let (sql, after) = migrations_core::render::render_all(&m.up_operations(), &schema, dialect)?;
            schema = after;
            out.push((m.id, sql));
        }
        Ok(out)
    }
}
