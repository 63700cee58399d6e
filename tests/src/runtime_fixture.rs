//! Hand-written migration modules (`tests/fixtures/runtime`) embedded the way
//! `embed_migrations!()` embeds generated ones, for the runtime tests and the
//! `fixture_app` binary.

use migrations_runtime::{EmbeddedMigration, Migrations};

macro_rules! fixture {
    ($name:ident, $file:literal) => {
        #[allow(dead_code, missing_docs)]
        mod $name {
            include!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/runtime/", $file));
        }
    };
}

fixture!(m0001, "0001_create_users.rs");
fixture!(m0002, "0002_add_posts.rs");
fixture!(m0003, "0003_seed_admin.rs");
fixture!(m0004, "0004_guarded.rs");
fixture!(m0005, "0005_user_slugs.rs");
fixture!(m0006a, "0006_draft_v1.rs");
fixture!(m0006b, "0006_draft_v2.rs");
fixture!(m0007, "0007_widen_username.rs");
fixture!(m0101, "0101_create_items.rs");
fixture!(m0102, "0102_reshape_items.rs");
fixture!(m0103, "0103_item_tags.rs");
fixture!(m0104, "0104_item_rating.rs");
fixture!(m0105, "0105_note_to_integer.rs");
fixture!(m0201, "0201_create_accounts.rs");
fixture!(m0202, "0202_online.rs");
fixture!(m0301, "0301_create_parents.rs");
fixture!(m0302, "0302_widen_keys.rs");
fixture!(m0401, "0401_create_members.rs");
fixture!(m0402, "0402_member_status.rs");
fixture!(m0403, "0403_rename_member_status.rs");
fixture!(m0501, "0501_touch_trigger.rs");

macro_rules! embedded {
    ($m:ident, $checksum:literal) => {
        embedded!($m, $checksum, false)
    };
    ($m:ident, $checksum:literal, $draft:literal) => {
        EmbeddedMigration {
            id: $m::ID,
            dependencies: $m::DEPENDENCIES,
            replaces: &[],
            checksum: $checksum,
            draft: $draft,
            up: $m::up,
            down: $m::down,
        }
    };
}

/// 0001–0003: users, posts, an admin row.
pub static BLOG: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "c0001"), embedded!(m0002, "c0002"), embedded!(m0003, "c0003")],
    snapshot: "",
};

/// 0001–0004, where 0004 fails at its third statement unless `chakra_switch` holds 1.
pub static BLOG_GUARDED: Migrations = Migrations {
    app: "blog",
    migrations: &[
        embedded!(m0001, "c0001"),
        embedded!(m0002, "c0002"),
        embedded!(m0003, "c0003"),
        embedded!(m0004, "c0004"),
    ],
    snapshot: "",
};

/// 0001–0003 with 0002 edited after it was applied (another checksum).
pub static BLOG_EDITED: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "c0001"), embedded!(m0002, "c0002-edited"), embedded!(m0003, "c0003")],
    snapshot: "",
};

/// 0001 and 0005, whose Rust data step fills a new column.
pub static SLUGS: Migrations =
    Migrations { app: "blog", migrations: &[embedded!(m0001, "c0001"), embedded!(m0005, "c0005")], snapshot: "" };

/// 0001 and a draft 0006 as first written.
pub static DRAFT_V1: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "c0001"), embedded!(m0006a, "c0006-v1", true)],
    snapshot: "",
};

/// 0001 and the same draft 0006 after another edit.
pub static DRAFT_V2: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "c0001"), embedded!(m0006b, "c0006-v2", true)],
    snapshot: "",
};

/// 0001 and 0007, a SQLite table rebuild of `users`.
pub static WIDEN: Migrations =
    Migrations { app: "blog", migrations: &[embedded!(m0001, "c0001"), embedded!(m0007, "c0007")], snapshot: "" };

/// 0101–0104: `items`, filled by the tests, then reshaped by every kind of ALTER.
pub static ITEMS: Migrations = Migrations {
    app: "shop",
    migrations: &[
        embedded!(m0101, "c0101"),
        embedded!(m0102, "c0102"),
        embedded!(m0103, "c0103"),
        embedded!(m0104, "c0104"),
    ],
    snapshot: "",
};

/// [`ITEMS`] and 0105, which turns `items.note` (words) into an integer: refused.
pub static ITEMS_MISFIT: Migrations = Migrations {
    app: "shop",
    migrations: &[
        embedded!(m0101, "c0101"),
        embedded!(m0102, "c0102"),
        embedded!(m0103, "c0103"),
        embedded!(m0104, "c0104"),
        embedded!(m0105, "c0105"),
    ],
    snapshot: "",
};

/// BLOG as a build of the semantic-checksum scheme embeds it: each checksum is the
/// recorded one, then the text's (the same as BLOG's, so rows BLOG recorded match).
pub static BLOG_SEMANTIC: Migrations = Migrations {
    app: "blog",
    migrations: &[
        embedded!(m0001, "2:s0001 c0001"),
        embedded!(m0002, "2:s0002 c0002"),
        embedded!(m0003, "2:s0003 c0003"),
    ],
    snapshot: "",
};

/// BLOG_SEMANTIC with 0002 changed in what it does.
pub static BLOG_SEMANTIC_EDITED: Migrations = Migrations {
    app: "blog",
    migrations: &[
        embedded!(m0001, "2:s0001 c0001"),
        embedded!(m0002, "2:s0002-edited c0002-edited"),
        embedded!(m0003, "2:s0003 c0003"),
    ],
    snapshot: "",
};

/// DRAFT_V1 as a build of the semantic-checksum scheme embeds it: a draft...
pub static DRAFT_SEMANTIC: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "2:s0001 c0001"), embedded!(m0006a, "d:c0006draft c0006-draft-text", true)],
    snapshot: "",
};

/// ...and the same migration sealed: its header changed (the text's checksum), what it
/// does did not (the recorded one).
pub static SEALED_SEMANTIC: Migrations = Migrations {
    app: "blog",
    migrations: &[embedded!(m0001, "2:s0001 c0001"), embedded!(m0006a, "2:s0006 c0006-sealed-text")],
    snapshot: "",
};

/// 0401–0402: `members`, whose enumerated `status` 0402 changes (a value renamed, one
/// added, one removed).
pub static MEMBERS: Migrations =
    Migrations { app: "club", migrations: &[embedded!(m0401, "c0401"), embedded!(m0402, "c0402")], snapshot: "" };

/// 0401–0403: the same, then the type renamed.
pub static MEMBERS_RENAMED: Migrations = Migrations {
    app: "club",
    migrations: &[embedded!(m0401, "c0401"), embedded!(m0402, "c0402"), embedded!(m0403, "c0403")],
    snapshot: "",
};

/// 0501: `accounts` and the trigger (PostgreSQL: and its function) kept by name.
pub static TRIGGERS: Migrations = Migrations { app: "ledger", migrations: &[embedded!(m0501, "c0501")], snapshot: "" };

/// 0201's `up` and `down` (`accounts` and `orders`), for `bench_online`'s migration sets.
pub const ACCOUNTS_UP: fn(&mut migrations_runtime::schema::Migration) = m0201::up;
/// See [`ACCOUNTS_UP`].
pub const ACCOUNTS_DOWN: fn(&mut migrations_runtime::schema::Migration) = m0201::down;

/// 0201–0202: `accounts` and `orders`, filled by the tests, then changed by every
/// operation that has an online form.
pub static ONLINE: Migrations =
    Migrations { app: "shop", migrations: &[embedded!(m0201, "c0201"), embedded!(m0202, "c0202")], snapshot: "" };

/// 0301–0302: columns that foreign keys use, changed (the cases InnoDB refuses in place).
pub static KEYS: Migrations =
    Migrations { app: "shop", migrations: &[embedded!(m0301, "c0301"), embedded!(m0302, "c0302")], snapshot: "" };

/// `fixture_app` chooses by name.
pub fn by_name(name: &str) -> Option<&'static Migrations> {
    match name {
        "blog" => Some(&BLOG),
        "guarded" => Some(&BLOG_GUARDED),
        "edited" => Some(&BLOG_EDITED),
        "slugs" => Some(&SLUGS),
        "items" => Some(&ITEMS),
        "widen" => Some(&WIDEN),
        "semantic" => Some(&BLOG_SEMANTIC),
        "semantic-edited" => Some(&BLOG_SEMANTIC_EDITED),
        "draft-semantic" => Some(&DRAFT_SEMANTIC),
        "online" => Some(&ONLINE),
        "keys" => Some(&KEYS),
        _ => None,
    }
}
