//! A sequence's cache on the GPU, and the CPU engine's [`Forward`] trait on the GPU
//! transformer, so that [`ponder_model::Engine`] (and through it every strategy) runs on
//! the GPU unchanged.
//!
//! A pass's results come back asynchronously. Natively the device is polled until they
//! are there, so the engine's synchronous calls work; in a browser tab they arrive with
//! the event loop, and the engine must be driven by its `_async` calls
//! (`ExperimentSpec::run_async`).

use std::sync::{Arc, Mutex};

use ponder_model::forward::SequenceCache;

/// A slot of the GPU caches and the positions it holds. Dropping it frees the slot.
pub struct GpuCache {
    pub(crate) slot: u32,
    pub(crate) len: usize,
    free: Arc<Mutex<Vec<u32>>>,
}

impl GpuCache {
    pub(crate) fn new(slot: u32, free: Arc<Mutex<Vec<u32>>>) -> GpuCache {
        GpuCache { slot, len: 0, free }
    }

    pub fn slot(&self) -> u32 {
        self.slot
    }
}

impl SequenceCache for GpuCache {
    fn len(&self) -> usize {
        self.len
    }
}

impl Drop for GpuCache {
    fn drop(&mut self) {
        if let Ok(mut free) = self.free.lock() {
            free.push(self.slot);
        }
    }
}

mod forward {
    use ponder_model::config::ModelConfig;
    use ponder_model::forward::Forward;
    use ponder_model::transformer::{BatchItem, ItemOutput};
    use ponder_model::ModelError;

    use super::GpuCache;
    use crate::error::GpuError;
    use crate::model::{GpuTransformer, Item};

    fn model_error(e: GpuError) -> ModelError {
        match e {
            GpuError::Model(e) => e,
            GpuError::DeviceLost(reason) => ModelError::DeviceLost(reason),
            other => ModelError::Backend(other.to_string()),
        }
    }

    impl Forward for GpuTransformer {
        type Cache = GpuCache;

        fn config(&self) -> &ModelConfig {
            &self.config
        }

        fn vocab_size(&self) -> usize {
            self.vocab_size
        }

        fn parameters(&self) -> u64 {
            self.parameters
        }

        /// The slots' capacity, which may be shorter than the model's context.
        fn context_length(&self) -> usize {
            self.capacity.positions as usize
        }

        fn new_cache(&mut self) -> ponder_model::Result<GpuCache> {
            let slot = self.take_slot().map_err(model_error)?;
            Ok(GpuCache::new(slot, self.free_list()))
        }

        fn fork_cache(&mut self, cache: &GpuCache) -> ponder_model::Result<GpuCache> {
            let mut copy = self.new_cache()?;
            self.copy_slot(cache.slot, copy.slot, cache.len)
                .map_err(model_error)?;
            copy.len = cache.len;
            Ok(copy)
        }

        async fn forward(
            &mut self,
            items: &mut [BatchItem<'_, GpuCache>],
        ) -> ponder_model::Result<Vec<ItemOutput>> {
            let gpu_items: Vec<Item<'_>> = items
                .iter()
                .map(|it| Item {
                    slot: it.cache.slot,
                    start: it.cache.len,
                    tokens: it.tokens,
                    wanted: it.wanted.clone(),
                })
                .collect();
            let out = GpuTransformer::forward(self, &gpu_items)
                .await
                .map_err(model_error)?;
            for it in items.iter_mut() {
                it.cache.len += it.tokens.len();
            }
            Ok(out)
        }

        /// Positions past a cache's length are overwritten by its next pass: nothing to undo.
        fn roll_back(&self, _cache: &mut GpuCache) {}
    }
}
