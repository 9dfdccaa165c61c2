"""Root conftest: real-infrastructure fixtures for every test in the workspace."""

pytest_plugins = ["eventkit.testing.fixtures"]
