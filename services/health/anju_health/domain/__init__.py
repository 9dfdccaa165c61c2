"""The health service's domain: pure deciders, no I/O."""
