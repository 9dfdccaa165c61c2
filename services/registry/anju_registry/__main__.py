"""``python -m anju_registry``: serve the registry in the foreground."""

from __future__ import annotations

from anju_registry.entrypoints.app import create_app
from anju_registry.settings import RegistrySettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, RegistrySettings)


if __name__ == "__main__":
    main()
