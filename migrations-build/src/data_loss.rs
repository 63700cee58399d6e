//! Destructive migrations need a person's word. A sealed migration whose `up` drops a
//! table or a column or narrows a type fails check mode (CI) until someone who read it
//! adds
//!
//! ```text
//! pub const DATA_LOSS_ACKNOWLEDGED: &str = "bio has been unused since v2 (checked by Ana)";
//! ```
//!
//! The build never writes that line itself.

use crate::cache::Cache;
use crate::error::{Error, Located, Location, Result};
use crate::migration_files::MigrationFile;

/// The name of the acknowledgement constant.
pub const ACKNOWLEDGEMENT: &str = "DATA_LOSS_ACKNOWLEDGED";

/// What one migration file says about data loss.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Verdict {
    /// The destructive steps of `up`, in words.
    losses: Vec<String>,
    /// Whether the file has a non-empty `DATA_LOSS_ACKNOWLEDGED`.
    acknowledged: bool,
}

fn verdict(file: &MigrationFile, text: &str) -> Result<Verdict> {
    // What is dropped is said by name: drops given by name need not be looked up.
    let ops = crate::interpret::read_migration(text, false).map(|m| m.into_operations()).map_err(|e| {
        Error::MigrationFile(Located {
            location: Location { path: file.path.clone(), line: e.line, column: 1 },
            message: e.message,
        })
    })?;
    let losses = ops.iter().filter_map(crate::codegen::data_loss).collect();
    Ok(Verdict { losses, acknowledged: acknowledged(text) })
}

/// Whether `text` declares a non-empty `DATA_LOSS_ACKNOWLEDGED` string constant.
fn acknowledged(text: &str) -> bool {
    let Ok(file) = syn::parse_file(text) else { return false };
    file.items.iter().any(|item| match item {
        syn::Item::Const(c) if c.ident == ACKNOWLEDGEMENT => matches!(
            &*c.expr,
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if !s.value().trim().is_empty()
        ),
        _ => false,
    })
}

/// Every sealed migration in `files` whose `up` loses data and that no person has
/// acknowledged, with the losses in words.
pub fn unacknowledged(files: &[MigrationFile], cache: &Cache) -> Result<Vec<(MigrationFile, Vec<String>)>> {
    let mut found = Vec::new();
    for f in files {
        // Keyed by the checksum the file list already computed: a hit reads nothing.
        let v = match cache.get::<Verdict>("data-loss", &f.path, &f.checksum) {
            Some(v) => v,
            None => {
                let text = std::fs::read_to_string(&f.path).map_err(Error::io("read", &f.path))?;
                let v = verdict(f, &text)?;
                cache.put("data-loss", &f.path, &f.checksum, &v);
                v
            }
        };
        if !v.losses.is_empty() && !v.acknowledged {
            found.push((f.clone(), v.losses));
        }
    }
    Ok(found)
}

/// The error check mode gives for `found`.
pub fn error(found: &[(MigrationFile, Vec<String>)]) -> Error {
    let mut text = String::new();
    for (f, losses) in found {
        text.push_str(&format!("  {} ({}):\n", f.id, f.path.display()));
        for l in losses {
            text.push_str(&format!("    {l}\n"));
        }
    }
    Error::DataLoss(text)
}
