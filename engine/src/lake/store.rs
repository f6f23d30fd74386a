//! Object-store access for the lake, with durable writes on local disks.
//!
//! All lake I/O goes through [`LakeStore`] so that S3-compatible storage can
//! replace the local folder. On a local folder, `object_store` writes by
//! rename but does not fsync; [`LakeStore::put`] adds the fsync of the file
//! and its folder, so a commit survives a power cut as well as a `kill -9`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::{EngineError, Result};

/// The lake's storage: an object store rooted at the lake folder.
#[derive(Clone, Debug)]
pub struct LakeStore {
    store: Arc<dyn ObjectStore>,
    /// The local folder behind `store`, when it is one.
    local_root: Option<PathBuf>,
}

/// How a put treats an existing object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutKind {
    /// Replace whatever is there (data files: their names are deterministic).
    Overwrite,
    /// Fail if the object exists (commit records: the commit point).
    CreateNew,
}

impl LakeStore {
    /// A store over a local folder, created if missing.
    pub fn local(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| EngineError::io(root.display(), e))?;
        let root = root
            .canonicalize()
            .map_err(|e| EngineError::io(root.display(), e))?;
        let store = LocalFileSystem::new_with_prefix(&root)?;
        Ok(LakeStore {
            store: Arc::new(store),
            local_root: Some(root),
        })
    }

    /// The local folder, if the lake is on a local disk.
    pub fn local_root(&self) -> Option<&Path> {
        self.local_root.as_deref()
    }

    /// The underlying object store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Writes `bytes` at `path` atomically (never half-written), then makes
    /// it durable. With [`PutKind::CreateNew`], fails with
    /// `object_store::Error::AlreadyExists` if the object exists.
    pub async fn put(&self, path: &ObjectPath, bytes: Bytes, kind: PutKind) -> Result<()> {
        let mode = match kind {
            PutKind::Overwrite => PutMode::Overwrite,
            PutKind::CreateNew => PutMode::Create,
        };
        let opts = PutOptions {
            mode,
            ..Default::default()
        };
        self.store
            .put_opts(path, PutPayload::from_bytes(bytes), opts)
            .await?;
        self.sync(path)
    }

    /// Reads a whole object.
    pub async fn get(&self, path: &ObjectPath) -> Result<Bytes> {
        Ok(self.store.get(path).await?.bytes().await?)
    }

    /// Deletes an object; a missing object is not an error.
    pub async fn delete(&self, path: &ObjectPath) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the objects under `prefix`, recursively.
    pub async fn list(&self, prefix: &ObjectPath) -> Result<Vec<object_store::ObjectMeta>> {
        use futures::TryStreamExt;
        Ok(self.store.list(Some(prefix)).try_collect().await?)
    }

    /// The local path of an object, when the lake is local.
    pub fn local_path(&self, path: &ObjectPath) -> Option<PathBuf> {
        self.local_root
            .as_ref()
            .map(|root| root.join(path.as_ref()))
    }

    /// fsync of the object and of its folder (local disks only).
    fn sync(&self, path: &ObjectPath) -> Result<()> {
        let Some(file) = self.local_path(path) else {
            return Ok(());
        };
        let sync = |p: &Path| -> Result<()> {
            std::fs::File::open(p)
                .and_then(|f| f.sync_all())
                .map_err(|e| EngineError::io(p.display(), e))
        };
        sync(&file)?;
        if let Some(dir) = file.parent() {
            sync(dir)?;
        }
        Ok(())
    }
}
