"""The health service's use cases: load, decide, append."""
