"""The integration service's adapters to other services' public APIs."""
