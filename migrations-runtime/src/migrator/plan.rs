//! The plan: every embedded migration of every app in the one order they apply, and
//! the schema replayed in memory up to any point of it.

use std::collections::{BTreeMap, BTreeSet};

use migrations_core::catalog::Managed;
use migrations_core::{Dialect, Operation, Schema};

use crate::error::MigrateError;
use crate::registry::EmbeddedMigration;

use super::units::render_error;
use super::Migrator;

/// An embedded migration with its app and its place in the global order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Planned {
    pub(super) app: &'static str,
    pub(super) migration: &'static EmbeddedMigration,
    /// A squash this database has because it applied every migration it replaces, one
    /// by one (those are no longer embedded): applied, with no row of its own.
    pub(super) by_members: bool,
}

/// How one database stands with the squashes: the migrations its plan leaves out (the
/// squash, or what it replaces), what a dependency on a left-out one means instead (the
/// squash, or the last migration it replaces), and the squashes it has through the rows
/// of the migrations they replace.
#[derive(Debug, Default)]
struct Squashes<'a> {
    left_out: BTreeSet<(&'a str, &'a str)>,
    instead: BTreeMap<(&'a str, &'a str), (&'a str, &'a str)>,
    by_members: BTreeSet<(&'a str, &'a str)>,
}

/// How one database stands with one squash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stand {
    /// The squash runs (or ran) as one migration; the ones it replaces are left out.
    AsOne,
    /// Applied, through every migration it replaces (no longer embedded).
    ByMembers,
    /// The migrations it replaces run one by one; the squash is left out.
    Members,
}

impl Planned {
    pub(super) fn key(&self) -> String {
        format!("{}/{}", self.app, self.migration.id)
    }
}

impl Migrator {
    /// Every embedded migration in the order they apply on a database no migration has
    /// run on: dependencies first, then by app order and id; a squash in place of the
    /// migrations it replaces.
    pub(super) fn plan(&self) -> Result<Vec<Planned>, MigrateError> {
        self.plan_against(&|_: &str, _: &str| false)
    }

    /// The plan for a database whose history holds `rows` (see [`Migrator::plan_against`]).
    pub(super) fn plan_of_rows(&self, rows: &[crate::history::Applied]) -> Result<Vec<Planned>, MigrateError> {
        self.plan_of_recorded(rows.iter().map(|r| (r.app.as_str(), r.id.as_str())))
    }

    /// The plan for a database whose history holds the migrations `recorded` lists, by
    /// (app, id); read only when a squash is embedded.
    pub(super) fn plan_of_recorded<'a>(
        &self,
        recorded: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Vec<Planned>, MigrateError> {
        if !self.has_squashes() {
            return self.plan();
        }
        let recorded: BTreeSet<(&str, &str)> = recorded.into_iter().collect();
        self.plan_against(&|app, id| recorded.contains(&(app, id)))
    }

    /// Whether `app/id` is one of the migrations a squash in `plan` replaces.
    pub(super) fn replaced_in(plan: &[Planned], app: &str, id: &str) -> bool {
        plan.iter().any(|p| p.app == app && p.migration.replaces.contains(&id))
    }

    /// Whether any embedded migration is a squash (only then does the plan depend on the
    /// history).
    pub(super) fn has_squashes(&self) -> bool {
        self.apps.iter().any(|a| a.migrations.iter().any(|m| !m.replaces.is_empty()))
    }

    /// The plan for a database whose history holds the migrations `recorded` says
    /// (app, id): each squash stands for the migrations it replaces when the database
    /// applied none of them or all of them, and gives way to them when it applied some
    /// (see [`EmbeddedMigration::replaces`]).
    pub(super) fn plan_against(&self, recorded: &dyn Fn(&str, &str) -> bool) -> Result<Vec<Planned>, MigrateError> {
        // A boot with a thousand migrations and nothing to do spends most of its own time
        // here, so the graph works on indices: keys are hashed once, and the order among
        // ready migrations is a precomputed rank, not string comparisons.
        type Key = (&'static str, &'static str);
        let squashes = self.squashes(recorded)?;
        let all: Vec<Planned> =
            self.apps
                .iter()
                .flat_map(|a| {
                    let squashes = &squashes;
                    a.migrations.iter().filter(move |m| !squashes.left_out.contains(&(a.app, m.id))).map(move |m| {
                        Planned { app: a.app, migration: m, by_members: squashes.by_members.contains(&(a.app, m.id)) }
                    })
                })
                .collect();
        let key = |i: usize| -> Key { (all[i].app, all[i].migration.id) };
        // Sorted by (app, id): the order among ready migrations, and how a dependency is
        // found (by binary search; a registry lists its migrations sorted already).
        let mut by_name: Vec<usize> = (0..all.len()).collect();
        by_name.sort_by(|a, b| key(*a).cmp(&key(*b)));
        let mut rank = vec![0; all.len()];
        for (r, i) in by_name.iter().enumerate() {
            rank[*i] = r;
        }
        // The dependency lists, flat: those of `i` are `deps[dep_start[i]..dep_start[i + 1]]`.
        let mut deps: Vec<usize> = Vec::with_capacity(all.len());
        let mut dep_start: Vec<usize> = Vec::with_capacity(all.len() + 1);
        for (i, p) in all.iter().enumerate() {
            dep_start.push(deps.len());
            for d in p.migration.dependencies {
                let (app, id) = d.split_once('/').unwrap_or((p.app, d));
                // A dependency on a migration a squash replaces is one on the squash, and
                // the other way round, as this database stands with it.
                let (app, id) = squashes.instead.get(&(app, id)).copied().unwrap_or((app, id));
                // Usually the migration just before it.
                let before = rank[i].checked_sub(1).filter(|r| key(by_name[*r]) == (app, id));
                match before.ok_or(()).or_else(|()| by_name.binary_search_by(|i| key(*i).cmp(&(app, id)))) {
                    Ok(r) => deps.push(by_name[r]),
                    Err(_) => {
                        let hint = if self.apps.iter().any(|a| a.app == app) {
                            format!("app `{app}` has no migration `{id}`")
                        } else {
                            format!("this binary does not link app `{app}`; add its migrations to the Migrator")
                        };
                        return Err(MigrateError::Usage(format!(
                            "migration `{}` depends on `{app}/{id}`: {hint}",
                            p.key()
                        )));
                    }
                }
            }
        }
        dep_start.push(deps.len());
        let deps_of = |i: usize| &deps[dep_start[i]..dep_start[i + 1]];
        // Kahn's algorithm; among the ready ones, the smallest (app, id) first.
        let mut indegree: Vec<usize> = (0..all.len()).map(|i| deps_of(i).len()).collect();
        // Who depends on whom, flat in the same way.
        let mut dependent_start = vec![0; all.len() + 1];
        for d in &deps {
            dependent_start[d + 1] += 1;
        }
        for i in 0..all.len() {
            dependent_start[i + 1] += dependent_start[i];
        }
        let mut dependents = vec![0; deps.len()];
        let mut filled = dependent_start.clone();
        for i in 0..all.len() {
            for d in deps_of(i) {
                dependents[filled[*d]] = i;
                filled[*d] += 1;
            }
        }
        let mut ready: BTreeSet<usize> = (0..all.len()).filter(|i| indegree[*i] == 0).map(|i| rank[i]).collect();
        let mut order = Vec::with_capacity(all.len());
        while let Some(r) = ready.pop_first() {
            let next = by_name[r];
            order.push(all[next]);
            for d in &dependents[dependent_start[next]..dependent_start[next + 1]] {
                indegree[*d] -= 1;
                if indegree[*d] == 0 {
                    ready.insert(rank[*d]);
                }
            }
        }
        if order.len() != all.len() {
            // Walk dependencies among the stuck ones until one repeats: that is a cycle.
            let stuck = |i: usize| indegree[i] > 0;
            let mut path: Vec<usize> = by_name.iter().copied().find(|i| stuck(*i)).into_iter().collect();
            while let Some(&last) = path.last() {
                match deps_of(last).iter().copied().find(|d| stuck(*d)) {
                    Some(k) if path.contains(&k) => {
                        let start = path.iter().position(|p| *p == k).unwrap_or(0);
                        path.drain(..start);
                        path.push(k);
                        break;
                    }
                    Some(k) => path.push(k),
                    None => break,
                }
            }
            let cycle: Vec<String> = path.iter().map(|i| all[*i].key()).collect();
            return Err(MigrateError::Usage(format!(
                "the migrations depend on each other in a cycle: {} (each depends on the next); remove one of these dependencies",
                cycle.join(" → ")
            )));
        }
        Ok(order)
    }

    /// How the database stands with each squash (see [`Squashes`]).
    fn squashes(&self, recorded: &dyn Fn(&str, &str) -> bool) -> Result<Squashes<'static>, MigrateError> {
        let mut out = Squashes::default();
        for a in &self.apps {
            for s in a.migrations.iter().filter(|m| !m.replaces.is_empty()) {
                let embedded = |id: &str| a.migrations.iter().any(|m| m.id == id);
                let applied = s.replaces.iter().filter(|id| recorded(a.app, id)).count();
                let stand = if recorded(a.app, s.id) || applied == 0 {
                    Stand::AsOne
                } else if s.replaces.iter().all(|id| embedded(id)) {
                    Stand::Members
                } else if applied == s.replaces.len() {
                    Stand::ByMembers
                } else {
                    let missing: Vec<&str> =
                        s.replaces.iter().copied().filter(|id| !recorded(a.app, id) && !embedded(id)).collect();
                    return Err(MigrateError::Usage(format!(
                        "this database applied {applied} of the {} migrations that the squash {}/{} replaces, and this \
                         binary no longer has the rest of them ({}): deploy a binary that still has them first (it \
                         applies them), then this one",
                        s.replaces.len(),
                        a.app,
                        s.id,
                        missing.join(", ")
                    )));
                };
                let squash = (a.app, s.id);
                if stand == Stand::Members {
                    out.left_out.insert(squash);
                    out.instead.insert(squash, (a.app, s.replaces.last().copied().unwrap_or(s.id)));
                } else {
                    if stand == Stand::ByMembers {
                        out.by_members.insert(squash);
                    }
                    for id in s.replaces {
                        out.left_out.insert((a.app, *id));
                        out.instead.insert((a.app, *id), squash);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The schema before `plan[i]`, replayed in memory.
    pub(super) fn schema_before(&self, plan: &[Planned], i: usize) -> Result<Schema, MigrateError> {
        replay(&plan[..i])
    }

    pub(super) fn find(&self, plan: &[Planned], id: &str) -> Result<usize, MigrateError> {
        plan.iter().position(|p| p.key() == id || p.migration.id == id).ok_or_else(|| {
            let squash =
                plan.iter().find(|p| p.migration.replaces.iter().any(|r| *r == id || format!("{}/{r}", p.app) == id));
            MigrateError::Usage(match squash {
                Some(s) => format!(
                    "`{id}` is one of the migrations the squash `{}` replaces, which stands for all of them on this \
                     database: name `{}`, or a migration before it",
                    s.key(),
                    s.key()
                ),
                None => format!("no migration `{id}` in this binary"),
            })
        })
    }
}

/// The schema `migrations` build, applied in the order given, from an empty one.
pub(super) fn replay<'a>(migrations: impl IntoIterator<Item = &'a Planned>) -> Result<Schema, MigrateError> {
    replay_each(migrations, |_| {})
}

/// The schema `migrations` build, and the objects their hand-written SQL for `dialect`
/// leaves in place (views, triggers, functions, ... by name: see [`Managed`]).
pub(super) fn replay_with_raw<'a>(
    migrations: impl IntoIterator<Item = &'a Planned>,
    dialect: Dialect,
) -> Result<(Schema, Managed), MigrateError> {
    let mut managed = Managed::default();
    let schema = replay_each(migrations, |ops| {
        for op in ops {
            match op {
                Operation::RunSql(sql) => sql.forward_sql(dialect).iter().for_each(|s| managed.note(s)),
                other => managed.note_operation(other, dialect),
            }
        }
    })?;
    Ok((schema, managed))
}

/// Replays `migrations`, showing each one's operations to `each` first.
fn replay_each<'a>(
    migrations: impl IntoIterator<Item = &'a Planned>,
    mut each: impl FnMut(&[Operation]),
) -> Result<Schema, MigrateError> {
    let mut schema = Schema::new();
    for p in migrations {
        let ops = p.migration.up_operations(&schema).map_err(render_error(p.key()))?;
        each(&ops);
        schema.apply_all(&ops).map_err(render_error(p.key()))?;
    }
    Ok(schema)
}
