"""The integration service's use cases: what an inbound fact becomes in Anju, and the answers."""
