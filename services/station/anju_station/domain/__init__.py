"""The station service's domain: pure deciders, no I/O."""
