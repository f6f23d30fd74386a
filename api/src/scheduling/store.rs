//! Where drafts live between edits: one JSON file per draft under
//! `<lake>/schedule_drafts/`, replaced whole on every change (written to a
//! temporary file, then renamed over the old one), so a crash leaves the
//! draft before or after an edit, never half of one. Published versions
//! go to the lake's tables instead ([`queuelake_engine::schedules`]).

use std::path::{Path, PathBuf};

use super::draft::Draft;

/// The drafts folder of a lake.
#[derive(Debug, Clone)]
pub struct DraftStore {
    dir: PathBuf,
}

/// Why a draft could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No draft by that id.
    #[error("no schedule {0:?}")]
    Missing(String),
    /// The file system failed.
    #[error("schedule drafts at {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A draft file is not one this build wrote.
    #[error("schedule draft {path} is unreadable: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Whether `id` is a draft id (`sc-` and letters, digits or dashes): ids
/// become file names.
pub fn valid_id(id: &str) -> bool {
    id.strip_prefix("sc-").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 40
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

impl DraftStore {
    /// The drafts of the lake at `lake_root`.
    pub fn new(lake_root: &Path) -> Self {
        DraftStore {
            dir: lake_root.join("schedule_drafts"),
        }
    }

    fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        if !valid_id(id) {
            return Err(StoreError::Missing(id.to_owned()));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    /// Reads a draft.
    pub fn load(&self, id: &str) -> Result<Draft, StoreError> {
        let path = self.path(id)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(id.to_owned()));
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Every draft, newest week first (then by id). A file that is not a
    /// draft is skipped with a warning rather than hiding the others.
    pub fn list(&self) -> Result<Vec<Draft>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.dir.display().to_string(),
                    source,
                });
            }
        };
        let mut drafts = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if !valid_id(id) {
                continue;
            }
            match self.load(id) {
                Ok(draft) => drafts.push(draft),
                Err(e) => tracing::warn!(error = %e, "a schedule draft is left out of the list"),
            }
        }
        drafts.sort_by(|a, b| {
            b.week_start_us
                .cmp(&a.week_start_us)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(drafts)
    }

    /// Writes a draft (atomically replacing the old file).
    pub fn save(&self, draft: &Draft) -> Result<(), StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.path(&draft.id)?;
        let temporary = path.with_extension("json.tmp");
        let text = serde_json::to_string(draft).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(&temporary, text).map_err(io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io(&path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: &str, week_start_us: i64) -> Draft {
        Draft {
            id: id.into(),
            queues: vec!["sales".into()],
            week_start_us,
            interval_s: 900,
            staffing_run_id: None,
            required: Vec::new(),
            shifts: Vec::new(),
            bound: None,
            published_versions: 0,
            weights: (1.0, 1.0),
            inputs: Default::default(),
        }
    }

    #[test]
    fn the_list_holds_every_draft_newest_week_first_and_skips_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let store = DraftStore::new(dir.path());
        assert!(store.list().unwrap().is_empty(), "no folder yet: no drafts");
        store.save(&draft("sc-b", 1)).unwrap();
        store.save(&draft("sc-a", 1)).unwrap();
        store.save(&draft("sc-c", 2)).unwrap();
        let folder = dir.path().join("schedule_drafts");
        std::fs::write(folder.join("sc-broken.json"), "{").unwrap();
        std::fs::write(folder.join("notes.txt"), "x").unwrap();
        std::fs::write(folder.join("sc-d.json.tmp"), "{").unwrap();
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|d| d.id).collect();
        assert_eq!(ids, ["sc-c", "sc-a", "sc-b"]);
    }
}
