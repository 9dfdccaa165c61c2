"""``python -m anju_health``: serve the health service in the foreground."""

from __future__ import annotations

from anju_health.entrypoints.app import create_app
from anju_health.settings import HealthSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, HealthSettings)


if __name__ == "__main__":
    main()
