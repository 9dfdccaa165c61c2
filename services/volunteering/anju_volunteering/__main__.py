"""``python -m anju_volunteering``: serve the volunteering service in the foreground."""

from __future__ import annotations

from anju_volunteering.entrypoints.app import create_app
from anju_volunteering.settings import VolunteeringSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, VolunteeringSettings)


if __name__ == "__main__":
    main()
