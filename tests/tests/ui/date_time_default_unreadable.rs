use migrations_runtime::Model;

pub struct NaiveDateTime;
pub struct NaiveDate;

#[derive(Model)]
pub struct Event {
    #[model(primary_key)]
    pub id: i64,
    // MySQL refuses this at deploy time ("Invalid default value") after earlier
    // statements committed: refused at build time instead.
    #[model(default = "31/01/2024 09:30")]
    pub starts_at: NaiveDateTime,
    #[model(default = "2024-01-31T09:30:00Z")]
    pub day: NaiveDate,
    #[model(backfill = "2024-02-30")]
    pub ends_at: NaiveDateTime,
}

fn main() {}
