"""The volunteering service's use cases: load, decide, append."""
