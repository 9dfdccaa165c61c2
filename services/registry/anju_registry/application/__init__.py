"""Command models and handlers: load → decide → append."""
