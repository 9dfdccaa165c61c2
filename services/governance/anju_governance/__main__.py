"""``python -m anju_governance``: serve the governance service in the foreground."""

from __future__ import annotations

from anju_governance.entrypoints.app import create_app
from anju_governance.settings import GovernanceSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, GovernanceSettings)


if __name__ == "__main__":
    main()
