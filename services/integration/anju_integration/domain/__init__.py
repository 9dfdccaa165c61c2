"""The integration service's domain: pure deciders, no I/O."""
