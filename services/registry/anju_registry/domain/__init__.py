"""The registry's domain: pure state, evolve and decide functions (no I/O)."""
