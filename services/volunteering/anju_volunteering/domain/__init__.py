"""The volunteering service's domain: pure deciders, no I/O."""
