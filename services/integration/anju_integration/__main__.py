"""``python -m anju_integration``: serve the integration service in the foreground."""

from __future__ import annotations

from anju_integration.entrypoints.app import create_app
from anju_integration.settings import IntegrationSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, IntegrationSettings)


if __name__ == "__main__":
    main()
