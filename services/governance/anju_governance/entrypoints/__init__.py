"""The governance service's edges: the composition root and the HTTP routes."""
