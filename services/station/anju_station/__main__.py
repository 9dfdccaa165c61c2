"""``python -m anju_station``: serve the station service in the foreground."""

from __future__ import annotations

from anju_station.entrypoints.app import create_app
from anju_station.settings import StationSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, StationSettings)


if __name__ == "__main__":
    main()
