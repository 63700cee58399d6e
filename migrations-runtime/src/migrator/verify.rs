//! Drift: the live schema against what the applied migrations build (`verify`, and the
//! optional check after a boot's apply), and adopting a database that already holds
//! the schema (`baseline`).

use std::collections::BTreeSet;

use migrations_core::catalog::{compare, Drift, Managed, Problem, RawName, Scope};
use migrations_core::Schema;

use crate::backend::Connection;
use crate::error::{listed, MigrateError};
use crate::introspect::{inspect, InspectOptions, Inspected};

use super::plan::replay_with_raw;
use super::{ApplyOptions, Migrator, Progress, Step};

/// What the migrations' hand-written SQL created (by name: see [`Managed`]) and `live`
/// lacks: drift like a missing index.
fn missing(managed: &Managed, live: &Inspected) -> Vec<Drift> {
    let mut there: BTreeSet<RawName> = live.objects.iter().map(|o| RawName::new(o.kind.as_str(), &o.name)).collect();
    for table in live.schema.tables.values() {
        there.extend(table.indexes.iter().map(|i| RawName::new("index", &i.name)));
        there.extend(table.constraints().iter().map(|c| RawName::new("constraint", c.name())));
    }
    managed
        .iter()
        .filter(|m| !there.contains(m))
        .map(|m| Drift { table: String::new(), kind: m.kind, name: m.name.clone(), problem: Problem::Missing })
        .collect()
}

/// What a boot does after its apply: compare the live schema with what the migrations
/// build (see [`Migrator::verify_on_boot`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BootCheck {
    /// No check (the default: it reads the whole catalog on every boot).
    #[default]
    Off,
    /// Report every difference ([`Progress::Drift`], or standard error), and boot.
    Warn,
    /// Report every difference as [`MigrateError::Drift`]: the application does not
    /// start on a schema its code was not written for.
    Refuse,
}

/// How to verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Also report what no migration declares: other tables, and the indexes,
    /// constraints, views, triggers and functions nobody declared.
    pub strict: bool,
}

/// What `baseline` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// The database held the schema already: the migrations were recorded as applied,
    /// none was run.
    Recorded(Vec<Step>),
    /// The database held none of it: the migrations were applied.
    Applied(Vec<Step>),
}

impl Migrator {
    /// Checks the schema after each [`Migrator::apply`]: `Warn` reports drift and boots,
    /// `Refuse` stops the boot with [`MigrateError::Drift`]. Columns nobody declared are
    /// drift; other undeclared objects are not (that is `migrate verify --strict`).
    pub fn verify_on_boot(mut self, check: BootCheck) -> Self {
        self.boot_check = check;
        self
    }

    /// Every difference between the live schema and the schema the applied migrations
    /// build, as [`Drift`]s; empty when they agree. Reads only: the history table is not
    /// created, nothing is locked.
    pub async fn verify<C: Connection>(
        &self,
        conn: &mut C,
        options: &VerifyOptions,
    ) -> Result<Vec<Drift>, MigrateError> {
        let (declared, managed) = self.applied_schema(conn).await?;
        let live = inspect(conn, &InspectOptions::default()).await?;
        let mut drift = compare(&declared, &live.schema, conn.dialect(), Scope { strict: options.strict });
        if options.strict {
            drift.extend(live.objects.iter().map(|o| Drift {
                table: o.table.clone().unwrap_or_default(),
                kind: o.kind.as_str(),
                name: o.name.clone(),
                problem: Problem::Undeclared,
            }));
        }
        // What the migrations' hand-written SQL created is declared, by name; missing, it
        // is drift like a missing index.
        drift.retain(|d| !(d.problem == Problem::Undeclared && managed.contains(d.kind, &d.name)));
        drift.extend(missing(&managed, &live));
        Ok(drift)
    }

    /// The schema the applied migrations build, replayed in the order they apply, and the
    /// objects their hand-written SQL leaves.
    async fn applied_schema<C: Connection>(&self, conn: &mut C) -> Result<(Schema, Managed), MigrateError> {
        let history = self.read_history(conn).await?;
        let plan = self.plan_of_rows(&history)?;
        if let Some(row) = history.iter().find(|r| r.steps_done.is_some()) {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} was interrupted part way; finish it (`migrate apply`) before comparing the schema",
                row.app, row.id
            )));
        }
        let applied: BTreeSet<(&str, &str)> = history.iter().map(|r| (r.app.as_str(), r.id.as_str())).collect();
        let known = |r: &&crate::history::Applied| {
            plan.iter().any(|p| p.app == r.app && p.migration.id == r.id) || Migrator::replaced_in(&plan, &r.app, &r.id)
        };
        if let Some(r) = history.iter().find(|r| !known(r)) {
            return Err(MigrateError::Usage(format!(
                "migration {}/{} is applied but this binary does not know it (a newer binary applied it); verify with that binary",
                r.app, r.id
            )));
        }
        replay_with_raw(
            plan.iter().filter(|p| p.by_members || applied.contains(&(p.app, p.migration.id))),
            conn.dialect(),
        )
    }

    /// After a boot's apply: the check [`Migrator::verify_on_boot`] asks for.
    pub(super) async fn check_on_boot<C: Connection>(&self, conn: &mut C) -> Result<(), MigrateError> {
        if self.boot_check == BootCheck::Off {
            return Ok(());
        }
        let drift = self.verify(conn, &VerifyOptions::default()).await?;
        if drift.is_empty() {
            return Ok(());
        }
        let advice = "the migrations are applied; `migrate verify` lists this again. Change the database back, or \
                      write a migration that makes the difference declared";
        match self.boot_check {
            BootCheck::Refuse => Err(MigrateError::Drift {
                doing: "checking the schema on boot".into(),
                drift,
                advice: format!("{advice}; the application was not started"),
            }),
            _ => {
                let report = format!(
                    "chakra: warning: the database differs from what the migrations build:\n{}\n  {advice}",
                    listed(&drift)
                );
                self.report(Progress::Drift { report });
                Ok(())
            }
        }
    }

    /// When no migration is recorded yet and the database already holds tables the
    /// migrations create (it was built by hand or by another tool), what to do: a
    /// sentence naming them and `migrate baseline`. `None` otherwise.
    pub async fn adoption_hint<C: Connection>(&self, conn: &mut C) -> Result<Option<String>, MigrateError> {
        if !self.read_history(conn).await?.is_empty() {
            return Ok(None);
        }
        let plan = self.plan()?;
        let Some(last) = plan.last() else { return Ok(None) };
        let declared = self.schema_before(&plan, plan.len())?;
        let live = inspect(conn, &InspectOptions::default()).await?;
        let there: Vec<&str> =
            declared.tables.keys().filter(|t| live.schema.tables.contains_key(*t)).map(String::as_str).collect();
        if there.is_empty() {
            return Ok(None);
        }
        let shown = if there.len() > 5 { format!("{}, ...", there[..5].join(", ")) } else { there.join(", ") };
        Ok(Some(format!(
            "no migration is recorded, but the database already holds {} of the tables they create ({shown}): it \
             was built without them. To adopt it, `migrate baseline ID` with the last migration its schema matches \
             (e.g. `migrate baseline {}`) records them after checking that it does; `migrate verify` then lists any \
             difference",
            there.len(),
            last.migration.id
        )))
    }

    /// Adopts a database whose schema was built without these migrations (by hand or by
    /// another tool): when it holds exactly what the migrations up to `id` build, they
    /// are recorded as applied, and none is run; when it holds none of their tables,
    /// they are applied. Anything in between is refused with every difference, and
    /// nothing is recorded.
    pub async fn baseline<C: Connection>(&self, conn: &mut C, id: &str) -> Result<Baseline, MigrateError> {
        let plan = self.plan()?;
        let i = self.find(&plan, id)?;
        let history = self.read_history(conn).await?;
        if !history.is_empty() {
            return Err(MigrateError::Usage(format!(
                "the history already holds {} migration(s): a baseline is for a database no migration has run on; `migrate verify` compares this one",
                history.len()
            )));
        }
        let (declared, managed) = replay_with_raw(&plan[..=i], conn.dialect())?;
        let live = inspect(conn, &InspectOptions::default()).await?;
        let options = ApplyOptions { target: Some(plan[i].key()), ..ApplyOptions::default() };
        if !declared.tables.keys().any(|t| live.schema.tables.contains_key(t)) {
            return self.apply_with(conn, &options).await.map(Baseline::Applied);
        }
        // The tables, and what the migrations' own SQL creates (views, triggers, ...).
        let mut drift = compare(&declared, &live.schema, conn.dialect(), Scope::default());
        drift.extend(missing(&managed, &live));
        if !drift.is_empty() {
            return Err(MigrateError::Drift {
                doing: format!("baseline {id}"),
                drift,
                advice: "nothing was recorded. Make the database match, or change the models and the baseline \
                         migration to match the database (`cargo chakra inspect` writes both from it), then run \
                         `migrate baseline` again"
                    .into(),
            });
        }
        let fake = ApplyOptions { fake: true, ..options };
        self.apply_with(conn, &fake).await.map(Baseline::Recorded)
    }
}
