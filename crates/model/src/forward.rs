//! What the engine needs of a transformer: the CPU's [`Transformer`] here, or the GPU's
//! (crate `ponder-gpu`), so that the strategies run on either through the same
//! [`crate::Engine`].

use crate::config::ModelConfig;
use crate::error::Result;
use crate::kv_cache::KvCache;
use crate::transformer::{BatchItem, ItemOutput, Transformer};

/// A sequence's cached keys and values, wherever they are kept.
pub trait SequenceCache {
    /// Positions held.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SequenceCache for KvCache {
    fn len(&self) -> usize {
        KvCache::len(self)
    }
}

/// A transformer that runs batches of sequences, each with its own cache.
pub trait Forward {
    type Cache: SequenceCache;

    fn config(&self) -> &ModelConfig;
    fn vocab_size(&self) -> usize;
    /// Parameters (tied embeddings counted once), for FLOP accounting.
    fn parameters(&self) -> u64;
    /// The most positions one sequence can hold.
    fn context_length(&self) -> usize {
        self.config().context_length
    }
    fn new_cache(&mut self) -> Result<Self::Cache>;
    /// A copy of `cache` that continues on its own.
    fn fork_cache(&mut self, cache: &Self::Cache) -> Result<Self::Cache>;
    /// Runs every item's new tokens, appending them to its cache; see
    /// [`Transformer::forward`]. The CPU's answer is ready at once; a GPU's in a browser
    /// tab comes when the device has finished.
    #[allow(async_fn_in_trait)] // Run on one thread: callers never need the future `Send`.
    async fn forward(
        &mut self,
        items: &mut [BatchItem<'_, Self::Cache>],
    ) -> Result<Vec<ItemOutput>>;
    /// Drops whatever a failed pass left in `cache` past its length.
    fn roll_back(&self, cache: &mut Self::Cache);
}

impl Forward for Transformer {
    type Cache = KvCache;

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn parameters(&self) -> u64 {
        self.parameters
    }

    fn new_cache(&mut self) -> Result<KvCache> {
        Ok(Transformer::new_cache(self))
    }

    fn fork_cache(&mut self, cache: &KvCache) -> Result<KvCache> {
        Ok(cache.clone())
    }

    async fn forward(&mut self, items: &mut [BatchItem<'_, KvCache>]) -> Result<Vec<ItemOutput>> {
        Transformer::forward(self, items)
    }

    fn roll_back(&self, cache: &mut KvCache) {
        let len = cache.len();
        cache.truncate(len, self.config.kv_width());
    }
}
