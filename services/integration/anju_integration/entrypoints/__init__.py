"""The integration service's edges: the composition root, the HTTP routes and the FastStream
subscribers of its inbound topics."""
