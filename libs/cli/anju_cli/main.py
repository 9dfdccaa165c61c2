"""``anju``: run the dev stack, mint tokens, load demo data, and operate a running stack.

Operator commands find each service's database from ``ANJU_<SERVICE>_DATABASE_URL`` or, for the
native dev stack, from ``.data/stack.json`` written by ``anju run``; the broker from
``ANJU_KAFKA_BOOTSTRAP`` or the same file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from anju_cli import manifest, operate
from anju_cli.devstack import ServiceSpec, dev_secret, run_stack
from eventkit.auth import Role, issue_token

ROOT = Path(os.environ.get("ANJU_HOME") or Path(__file__).resolve().parents[3])


def stack_specs() -> list[ServiceSpec]:
    """Every service of the dev stack, as ``services/*/service.toml`` declare them."""
    return [
        ServiceSpec(
            name=service.name,
            module=service.module,
            port=service.port,
            database=service.database,
            env={
                f"{service.env_prefix}LOG_FORMAT": os.environ.get("ANJU_LOG_FORMAT", "console"),
            },
        )
        for service in manifest.load(ROOT)
    ]


def jwt_secret() -> str:
    return os.environ.get("ANJU_JWT_SECRET") or dev_secret(ROOT)


def cmd_run(_: argparse.Namespace) -> int:
    admin = issue_token(jwt_secret(), "admin", [Role.ADMIN])
    specs = stack_specs()
    print("Anju dev stack: " + "  ".join(f"{s.name} {s.url}" for s in specs))
    print(f"admin token (12 h): {admin}")
    return run_stack(ROOT, specs)


def cmd_token(args: argparse.Namespace) -> int:
    print(issue_token(jwt_secret(), args.sub, args.role, args.area or (), ttl_s=args.ttl))
    return 0


def cmd_contracts(args: argparse.Namespace) -> int:
    from anju_cli import contracts

    if args.check:
        stale = contracts.stale_files()
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    for path in contracts.write():
        print(f"wrote {path}")
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from anju_cli import render

    if args.action == "check":
        stale = render.stale_files(ROOT)
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run `make manifest`)")
        return 1 if stale else 0
    for path in render.write(ROOT):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from anju_cli.demo import load

    token = issue_token(jwt_secret(), "demo-loader", [Role.ADMIN])
    mediation = args.mediation or None
    return asyncio.run(
        load(args.registry, token, seed=args.seed, residents=args.residents, mediation=mediation)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anju", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="run the whole stack natively in the foreground").set_defaults(
        func=cmd_run
    )

    token = sub.add_parser("token", help="print a bearer token signed with the dev secret")
    token.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    token.add_argument("--area", action="append", help="an area id the holder covers")
    token.add_argument("--sub", default="dev-user", help="the staff member's id")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    demo_cmd = sub.add_parser("demo", help="load a small believable community through the API")
    demo_cmd.add_argument("--registry", default="http://127.0.0.1:8101")
    demo_cmd.add_argument("--seed", type=int, default=2026)
    demo_cmd.add_argument("--residents", type=int, default=300)
    demo_cmd.add_argument(
        "--mediation",
        default="http://127.0.0.1:8102",
        help="the mediation service (skipped when it does not answer; '' to skip)",
    )
    demo_cmd.set_defaults(func=cmd_demo)

    contracts = sub.add_parser("contracts", help="regenerate JSON Schema and AsyncAPI files")
    contracts.add_argument("--check", action="store_true", help="only report stale files")
    contracts.set_defaults(func=cmd_contracts)

    manifest_cmd = sub.add_parser(
        "manifest", help="render (or check) the deploy files from services/*/service.toml"
    )
    manifest_cmd.add_argument("action", choices=["render", "check"])
    manifest_cmd.set_defaults(func=cmd_manifest)

    operate.add_commands(sub, ROOT)

    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
