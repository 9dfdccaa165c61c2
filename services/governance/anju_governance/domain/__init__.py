"""The governance service's domain: pure deciders, no I/O."""
