"""The station service's use cases: load, decide, append."""
