"""``python -m anju_mediation``: serve mediation in the foreground."""

from __future__ import annotations

from anju_mediation.entrypoints.app import create_app
from anju_mediation.settings import MediationSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, MediationSettings)


if __name__ == "__main__":
    main()
