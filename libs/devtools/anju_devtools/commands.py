"""The developer commands ``anju`` gains when ``anju-dev`` is installed (``anju.commands``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from anju_cli.state import dev_secret
from anju_devtools import manifest, report
from anju_devtools.devstack import ServiceSpec, run_stack
from eventkit.auth import Role, issue_token

CONSOLE = "console"


def stack_specs(root: Path) -> list[ServiceSpec]:
    """Every service of the dev stack, as ``services/*/service.toml`` declare them.

    Each service lets the staff console's pages call it from the browser (CORS), at either name
    of the loopback address the console is opened at."""
    services = manifest.load(root)
    console = next((s for s in services if s.name == CONSOLE), None)
    origins = (
        []
        if console is None
        else [f"http://{host}:{console.port}" for host in ("127.0.0.1", "localhost")]
    )
    return [
        ServiceSpec(
            name=service.name,
            module=service.module,
            port=service.port,
            database=service.database,
            env={
                f"{service.env_prefix}LOG_FORMAT": os.environ.get("ANJU_LOG_FORMAT", "console"),
                f"{service.env_prefix}CORS_ORIGINS": json.dumps(origins),
                **{f"{service.env_prefix}{k}": v for k, v in service.dev_settings},
                **{
                    f"{service.env_prefix}{k}": v
                    for k, v in service.call_settings(services, lambda _: "127.0.0.1")
                },
            },
        )
        for service in services
    ]


def _secret(root: Path) -> str:
    return os.environ.get("ANJU_JWT_SECRET") or dev_secret(root)


def cmd_run(root: Path) -> int:
    admin = issue_token(_secret(root), "admin", [Role.ADMIN])
    specs = stack_specs(root)
    print("Anju dev stack: " + "  ".join(f"{s.name} {s.url}" for s in specs))
    console = next((s for s in specs if s.name == CONSOLE), None)
    if console is not None:
        print(f"staff console: {console.url}/ (sign in with a role and an area)")
    print(f"admin token (12 h): {admin}")
    return run_stack(root, specs)


def cmd_contracts(check: bool) -> int:
    from anju_devtools import contracts

    problems = contracts.compatibility_problems()
    if check:
        stale = contracts.stale_files()
        for path in stale:
            print(f"stale: {path}")
    else:
        stale = []
        for path in contracts.write():
            print(f"wrote {path}")
    for problem in problems:
        print(f"breaks a published contract: {problem}")
    if problems:
        print(
            "an event that changes other than by an optional field needs a new version and an"
            " upcaster (contracts/README.md, Versions)"
        )
    return 1 if stale or problems else 0


def cmd_manifest(root: Path, action: str) -> int:
    from anju_devtools import render

    if action == "check":
        stale = render.stale_files(root)
        for path in stale:
            print(f"out of date: {path.relative_to(root)} (run `make manifest`)")
        return 1 if stale else 0
    for path in render.write(root):
        print(f"wrote {path.relative_to(root)}")
    return 0


def cmd_demo(root: Path, args: argparse.Namespace) -> int:
    from anju_devtools.demo import load

    secret = _secret(root)
    token = issue_token(secret, "demo-loader", [Role.ADMIN])
    return asyncio.run(
        load(
            args.registry,
            token,
            seed=args.seed,
            residents=args.residents,
            mediation=args.mediation or None,
            health=args.health or None,
            volunteering=args.volunteering or None,
            station=args.station or None,
            governance=args.governance or None,
            query=args.query or None,
            sign=lambda sub, roles, areas: issue_token(secret, sub, roles, areas),
            sign_liaison=lambda sub, areas, organisations: issue_token(
                secret, sub, [Role.LIAISON], areas, organisations=organisations
            ),
            history=not args.no_history,
        )
    )


def cmd_bench(argv: list[str]) -> int:
    from anju_devtools import bench

    return bench.main(argv)


def cmd_new_service(root: Path, name: str) -> int:
    from anju_devtools.new_service import GeneratorError, generate

    try:
        written = generate(root, name)
    except GeneratorError as error:
        print(f"anju new-service: {error}")
        return 2
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"services/{name} is registered; `make lint test` checks it, `make run` starts it.")
    return 0


def add_commands(sub: Any, root: Path) -> None:
    """Register the developer commands on ``anju``'s subparsers (``sub``)."""
    sub.add_parser("run", help="run the whole stack natively in the foreground").set_defaults(
        func=lambda _: cmd_run(root)
    )

    demo = sub.add_parser("demo", help="load a small believable community through the API")
    demo.add_argument("--registry", default="http://127.0.0.1:8101")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--residents", type=int, default=300)
    demo.add_argument(
        "--mediation",
        default="http://127.0.0.1:8102",
        help="the mediation service (skipped when it does not answer; '' to skip)",
    )
    demo.add_argument(
        "--health",
        default="http://127.0.0.1:8103",
        help="the health service (skipped when it does not answer; '' to skip)",
    )
    demo.add_argument(
        "--volunteering",
        default="http://127.0.0.1:8104",
        help="the volunteering service (skipped when it does not answer; '' to skip)",
    )
    demo.add_argument(
        "--station",
        default="http://127.0.0.1:8105",
        help="the station (skipped when it does not answer; '' to skip)",
    )
    demo.add_argument(
        "--governance",
        default="http://127.0.0.1:8106",
        help="the governance service (skipped when it does not answer; '' to skip)",
    )
    demo.add_argument(
        "--query",
        default="http://127.0.0.1:8100",
        help="the query service, which the health, volunteering and station figures are read"
        " back from"
        " ('' to skip)",
    )
    demo.add_argument(
        "--no-history",
        action="store_true",
        help="leave out the history since May 2023 (the paper ledgers of the report's period)",
    )
    demo.set_defaults(func=lambda a: cmd_demo(root, a))

    report.add_parser(
        sub,
        root,
        lambda subject, roles, areas: issue_token(_secret(root), subject, roles, areas),
    )

    contracts = sub.add_parser("contracts", help="regenerate JSON Schema and AsyncAPI files")
    contracts.add_argument("--check", action="store_true", help="only report stale files")
    contracts.set_defaults(func=lambda a: cmd_contracts(a.check))

    render = sub.add_parser(
        "manifest", help="render (or check) the deploy files from services/*/service.toml"
    )
    render.add_argument("action", choices=["render", "check"])
    render.set_defaults(func=lambda a: cmd_manifest(root, a.action))

    # Everything after ``anju bench`` is the bench's own command line (``--help`` included):
    # ``anju bench --only relay``, ``anju bench compare OLD.json NEW.json``, ``anju bench
    # readme RESULTS.json``.
    bench = sub.add_parser(
        "bench",
        help="measure throughput and latency against raw baselines; compare two results files",
        add_help=False,
        prefix_chars="\0",
    )
    bench.add_argument("args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=lambda a: cmd_bench(a.args))

    new = sub.add_parser("new-service", help="generate and register a new service skeleton")
    new.add_argument("name", help="lower_snake_case, e.g. demo_x")
    new.set_defaults(func=lambda a: cmd_new_service(root, a.name))
