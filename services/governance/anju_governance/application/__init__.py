"""The governance service's use cases: load, decide, append."""
