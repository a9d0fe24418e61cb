"""Item pipelines (validation, deduplication, storage) and the storage back-ends."""
