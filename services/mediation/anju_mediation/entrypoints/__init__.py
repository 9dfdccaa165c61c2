"""HTTP routes and the composition root."""
