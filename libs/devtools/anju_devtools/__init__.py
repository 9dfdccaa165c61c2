"""anju-dev: the developer's side of ``anju`` (dev stack, demo, bench, manifests, generators)."""
