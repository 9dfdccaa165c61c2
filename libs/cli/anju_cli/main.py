"""``anju``: mint tokens and operate a running stack (plus the dev tools, when installed).

Operator commands find each service's database from ``ANJU_<SERVICE>_DATABASE_URL`` or, for the
native dev stack, from ``.data/stack.json`` written by ``anju run``; the broker from
``ANJU_KAFKA_BOOTSTRAP`` or the same file.

The developer commands (``anju run``, ``demo``, ``manifest``, ``new-service``, ``contracts``)
live in the ``anju-dev`` package, which production images do not install; it adds them through
the ``anju.commands`` entry point group, so this package never imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from anju_cli import erase, ledger, operate, seal, subject_access
from anju_cli.state import dev_secret
from eventkit.auth import Role, issue_token

ROOT = Path(os.environ.get("ANJU_HOME") or Path(__file__).resolve().parents[3])
COMMANDS_GROUP = "anju.commands"


def jwt_secret() -> str:
    return os.environ.get("ANJU_JWT_SECRET") or dev_secret(ROOT)


def cmd_token(args: argparse.Namespace) -> int:
    print(
        issue_token(
            jwt_secret(),
            args.sub,
            args.role,
            args.area or (),
            organisations=args.organisation or (),
            ttl_s=args.ttl,
        )
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anju", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="print a bearer token signed with the dev secret")
    token.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    token.add_argument("--area", action="append", help="an area id the holder covers")
    token.add_argument(
        "--organisation",
        action="append",
        help="a partner organisation id the holder speaks for (a liaison's)",
    )
    token.add_argument("--sub", default="dev-user", help="the staff member's id")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    operate.add_commands(sub, ROOT)
    ledger.add_commands(sub, ROOT, jwt_secret)
    subject_access.add_commands(sub, ROOT, jwt_secret)
    seal.add_commands(sub, ROOT)
    erase.add_commands(sub, ROOT, jwt_secret)

    # Each plugin is `add_commands(subparsers, root)`, e.g. anju_devtools.commands.
    for plugin in entry_points(group=COMMANDS_GROUP):
        plugin.load()(sub, ROOT)

    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
