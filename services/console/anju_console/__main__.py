"""``python -m anju_console``: serve the staff console in the foreground."""

from __future__ import annotations

from anju_console.entrypoints.app import create_app
from anju_console.settings import ConsoleSettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, ConsoleSettings)


if __name__ == "__main__":
    main()
