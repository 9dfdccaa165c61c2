"""Operator commands: status, dead letters, projection rebuilds, re-seeding, topics.

The broker is ``ANJU_KAFKA_BOOTSTRAP`` (else the dev stack's); ``ANJU_KAFKA_TOPIC_PREFIX``
names the topic prefix the stack was started with (as its services' ``KAFKA__TOPIC_PREFIX``),
for several stacks, or tests, sharing one broker. Every other Kafka setting of the services is
read the same way, without the service's name: ``ANJU_KAFKA_SECURITY_PROTOCOL``,
``ANJU_KAFKA_SASL_MECHANISM``, ``ANJU_KAFKA_SASL_USERNAME``, ``ANJU_KAFKA_SASL_PASSWORD``,
``ANJU_KAFKA_SSL_CAFILE``...
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from aiokafka import TopicPartition
from pydantic import SecretStr, ValidationError

from anju_cli.state import dev_secret, stack_state
from anju_contracts.catalogs import CATALOGS
from anju_contracts.cloudevents import NotAnEvent, from_kafka
from eventkit import deadletters, kafka
from eventkit.erasure import erasure_policy
from eventkit.keys import CachedKeyStore, PostgresKeyStore, master_key_from
from eventkit.personal import FieldCipher
from eventkit.policy import Policy
from eventkit.projection import Projection, RebuildProgress, rebuild
from eventkit.rebuilds import RebuildFailed, RebuildJob, rebuild_side_by_side
from eventkit.settings import KafkaSettings, topic_for
from eventkit.store import EventStore

READ_MODELS = "query"


if TYPE_CHECKING:
    from anju_integration.settings import IntegrationSettings


class OperatorError(Exception):
    """Something an operator must fix first; printed without a traceback."""


def database_url(root: Path, service: str) -> str:
    """``ANJU_<SERVICE>_DATABASE_URL``, else the database the dev stack created."""
    from_env = os.environ.get(f"ANJU_{service.upper()}_DATABASE_URL")
    if from_env:
        return from_env
    state = stack_state(root)
    if state is not None and f"anju_{service}" in state["databases"]:
        url: str = state["databases"][f"anju_{service}"]
        return url
    raise OperatorError(
        f"no database for {service}: set ANJU_{service.upper()}_DATABASE_URL or start `make run`"
    )


@asynccontextmanager
async def key_cipher(root: Path) -> AsyncIterator[FieldCipher | None]:
    """The cipher of personal fields from ``ANJU_KEYS__DATABASE_URL`` and
    ``ANJU_KEYS__MASTER_KEY``, else the dev stack's key store; ``None`` when there is none (the
    events then read as stored)."""
    url = os.environ.get("ANJU_KEYS__DATABASE_URL")
    master = os.environ.get("ANJU_KEYS__MASTER_KEY")
    if not url:
        state = stack_state(root)
        url = state.get("keys_url") if state else None
        master_file = root / ".data" / "dev-master-key"
        master = master or (master_file.read_text().strip() if master_file.exists() else None)
    if not url or not master:
        yield None
        return
    try:
        master_key = master_key_from(master)
    except ValueError as error:
        raise OperatorError(f"ANJU_KEYS__MASTER_KEY: {error}") from error
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        yield FieldCipher(CachedKeyStore(PostgresKeyStore(pool, master_key)))
    finally:
        await pool.close()


def kafka_settings(root: Path) -> KafkaSettings:
    """The broker from ``ANJU_KAFKA_<SETTING>`` variables (any field of ``KafkaSettings``: the
    bootstrap, topic prefix, partitions, and TLS or SASL as the services have them), else the
    dev stack's plaintext broker."""
    prefix = "ANJU_KAFKA_"
    fields = {name.upper(): name for name in KafkaSettings.model_fields}
    given = {
        fields[key.removeprefix(prefix)]: value
        for key, value in os.environ.items()
        if key.startswith(prefix) and key.removeprefix(prefix) in fields
    }
    if not given.get("bootstrap"):
        state = stack_state(root)
        given["bootstrap"] = state["kafka_bootstrap"] if state else "127.0.0.1:9092"
    try:
        settings = KafkaSettings.model_validate(given)
        kafka.connection(settings)  # loads the TLS files: refuse them here, not mid-command
    except ValidationError as error:
        problems = "; ".join(
            (f"{prefix}{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + e["msg"].replace("KAFKA__", prefix)
            for e in error.errors()
        )
        raise OperatorError(f"the Kafka settings are not valid: {problems}") from error
    except kafka.KafkaSecurityError as error:
        raise OperatorError(str(error).replace("KAFKA__", prefix)) from error
    return settings


def service_topic(root: Path, service: str) -> str:
    """The topic ``service`` publishes to, with the stack's topic prefix."""
    return topic_for(service, kafka_settings(root).topic_prefix)


@asynccontextmanager
async def connect(root: Path, service: str) -> AsyncIterator[asyncpg.Connection]:
    url = database_url(root, service)
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        raise OperatorError(f"cannot reach the {service} database: {error}") from error
    try:
        yield conn
    finally:
        await conn.close()


def projections() -> dict[str, Projection]:
    from anju_query.projections import projections as query_projections

    return {p.name: p for p in query_projections()}


def policies(root: Path, service: str) -> list[Policy]:
    """The policies ``service`` runs: their dead letters are in its database."""
    if service == "mediation":
        from anju_mediation.application.policies import REGISTRY_POLICY

        return [REGISTRY_POLICY]
    if service == "health":
        from anju_health.application.policies import registry_policy
        from anju_health.entrypoints.app import health_config
        from anju_health.settings import HealthRules

        return [registry_policy(health_config(HealthRules()))]
    if service == "volunteering":
        from anju_volunteering.application.policies import (
            registry_policy as volunteering_registry,
        )
        from anju_volunteering.entrypoints.app import volunteering_config
        from anju_volunteering.settings import VolunteeringRules

        return [volunteering_registry(volunteering_config(VolunteeringRules()))]
    if service == "integration":
        try:
            from anju_integration.application.policies import MEDIATION_POLICY, registry
            from anju_integration.entrypoints.app import integration_config
        except ImportError as error:
            raise OperatorError(_NO_INTEGRATION) from error
        return [registry(integration_config(integration_settings(root))), MEDIATION_POLICY]
    return []


def integration_settings(root: Path) -> IntegrationSettings:
    """The integration service's settings from its ``ANJU_INTEGRATION_*`` variables; the dev
    stack's database and secret when they are not set."""
    from anju_integration.settings import IntegrationSettings

    secret = (
        os.environ.get("ANJU_INTEGRATION_JWT_SECRET")
        or os.environ.get("ANJU_JWT_SECRET")
        or dev_secret(root)
    )
    return IntegrationSettings(
        database_url=database_url(root, "integration"),
        jwt_secret=SecretStr(secret),
        kafka=kafka_settings(root),
    )


_NO_INTEGRATION = (
    "the integration service's handlers are not installed here: run this in its image"
    " (or install anju-cli[integration])"
)


@asynccontextmanager
async def inbound_handlers(
    root: Path, service: str
) -> AsyncIterator[Mapping[str, deadletters.Redeliver]]:
    """The handlers of ``service``'s inbound topics (other systems' messages), by consumer name,
    built as the service builds them from its ``ANJU_<SERVICE>_*`` settings (the dev secret when
    none is set): the dead letters they set aside are handed back to them."""
    if service != "integration":
        yield {}
        return
    try:
        from anju_integration.entrypoints.app import redelivery
    except ImportError as error:
        raise OperatorError(_NO_INTEGRATION) from error
    async with redelivery(integration_settings(root)) as handlers:
        yield handlers


def catalogue_topics(prefix: str) -> list[str]:
    """Every topic the catalogues name, with the stack's prefix: each service's events, the
    inbound topics Anju receives from other systems and the outbound ones it answers on."""
    names = [c.topic for c in CATALOGS] + [t for c in CATALOGS for t in c.also.values()]
    return [f"{prefix}{name}" for name in dict.fromkeys(names)]


def event_services() -> list[str]:
    return [c.source for c in CATALOGS]


# -- status -------------------------------------------------------------------------------


async def status(root: Path) -> None:
    """Print what can be read; a service that cannot be read is named, and the exit code is 2."""
    unreadable: list[str] = []

    @asynccontextmanager
    async def reading(service: str) -> AsyncIterator[asyncpg.Connection | None]:
        entered = False
        try:
            async with connect(root, service) as conn:
                entered = True
                yield conn
        except (OperatorError, asyncpg.PostgresError) as error:
            print(f"  {service:<14} cannot be read: {error}")
            unreadable.append(service)
            if not entered:
                yield None

    print("relays (event store → Kafka)")
    for service in event_services():
        async with reading(service) as conn:
            if conn is None:
                continue
            head = await conn.fetchval("SELECT count(*) FROM events")
            cursor = await conn.fetchrow(
                "SELECT xid::text AS xid, position, published, updated_at FROM relay_cursor"
                " WHERE topic = $1",
                service_topic(root, service),
            )
            if cursor is None:
                print(f"  {service:<14} events={head:<8} relay has not run yet")
                continue
            restricted = [t for c in CATALOGS if c.source == service for t in c.restricted]
            lag = await conn.fetchval(
                "SELECT count(*) FROM events WHERE (xid, position) > ($1::text::xid8, $2)"
                " AND type <> ALL($3::text[])",
                cursor["xid"],
                cursor["position"],
                restricted,
            )
            print(
                f"  {service:<14} events={head:<8} published={cursor['published']:<8}"
                f" lag={lag:<6} last={cursor['updated_at']:%Y-%m-%d %H:%M:%S}"
            )
    print("projections (Kafka → read models)")
    async with reading(READ_MODELS) as conn:
        if conn is not None:
            rows = await conn.fetch(
                "SELECT name, generation, schema FROM projections ORDER BY name"
            )
            for row in rows:
                streams = await conn.fetchval(
                    f"SELECT count(*) FROM {row['schema']}.stream_versions"
                )
                offsets = await conn.fetch(
                    f'SELECT topic, partition, "offset" FROM {row["schema"]}.partition_offsets'
                    " ORDER BY topic, partition"
                )
                done = ", ".join(f"{o['topic']}[{o['partition']}]@{o['offset']}" for o in offsets)
                print(
                    f"  {row['name']:<18} g{row['generation']:<3} streams={streams:<7}"
                    f" checkpoints: {done or '-'}"
                )
    print("dead letters (pending)")
    for service in [*event_services(), READ_MODELS]:
        if service in unreadable:
            continue
        async with reading(service) as conn:
            if conn is None:
                continue
            counts = await conn.fetch(
                "SELECT consumer, count(*) AS n FROM dead_letters WHERE status = 'pending'"
                " GROUP BY consumer ORDER BY consumer"
            )
            for row in counts:
                print(f"  {service}/{row['consumer']}: {row['n']}")
            if not counts:
                print(f"  {service}: none")
    if unreadable:
        raise OperatorError(f"could not read {', '.join(unreadable)} (see above)")


# -- dead letters -------------------------------------------------------------------------


async def dead_letters(root: Path, args: argparse.Namespace) -> None:
    service = args.service
    async with connect(root, service) as conn:
        if args.action == "list":
            letters = await deadletters.list_dead_letters(
                conn, status=None if args.all_statuses else "pending"
            )
            for d in letters:
                detail = " ".join(d.detail.split())  # one line per letter, whatever the detail
                print(
                    f"{d.id:>6}  {d.status:<9} {d.consumer:<20} {d.reason:<15}"
                    f" {d.topic}[{d.partition}]@{d.offset}  {detail[:60]}"
                )
            if not letters:
                print("no dead letters")
            return
        if args.action == "show":
            letter = await deadletters.get_dead_letter(conn, args.id)
            if letter is None:
                raise OperatorError(f"no dead letter {args.id}")
            for field in ("id", "consumer", "topic", "partition", "offset", "status", "reason"):
                print(f"{field:>11}: {getattr(letter, field)}")
            if letter.stream_id is not None:
                # A decoded event that failed: its stream waits behind the first pending letter.
                print(f"{'stream':>11}: {letter.source}/{letter.stream_id}@{letter.sequence}")
            print(f"{'detail':>11}: {letter.detail}")
            print(f"{'key':>11}: {letter.key!r}")
            for name, text in letter.headers:
                print(f"{'header':>11}: {name}={text}")
            print(f"{'value':>11}: {(letter.value or b'').decode('utf-8', 'replace')}")
            if letter.resolution:
                print(f"{'resolution':>11}: {letter.resolution}")
            return
        if args.action == "discard":
            who = os.environ.get("USER", "operator")
            if not await deadletters.discard(conn, args.id, reason=args.reason, who=who):
                raise OperatorError(f"no pending dead letter {args.id}")
            print(f"discarded {args.id}")
            return
    # replay
    stack = AsyncExitStack()
    pool = await asyncpg.create_pool(database_url(root, service), min_size=1, max_size=2)
    try:
        inbound = await stack.enter_async_context(inbound_handlers(root, service))
        cipher = await stack.enter_async_context(key_cipher(root))
        known = projections() if service == READ_MODELS else {}
        catalog = next((c for c in CATALOGS if c.source == service), None)
        runs = {}
        if catalog is not None:
            store = EventStore(pool, catalog, cipher=cipher)
            own = policies(root, service)
            if cipher is not None:  # every service with a store follows erasures
                own.append(erasure_policy(service, cipher.keys))
            runs = {p.name: (store, p) for p in own}
        async with pool.acquire() as conn:
            ids = (
                [d.id for d in await deadletters.list_dead_letters(conn, limit=100_000)]
                if args.id is None
                else [args.id]
            )
        refused = 0
        done: set[int] = set()
        for letter_id in ids:
            if letter_id in done:
                continue  # replayed already, behind an earlier letter of its stream
            outcome = await deadletters.replay(
                pool, letter_id, projections=known, policies=runs, inbound=inbound, cipher=cipher
            )
            print(f"{letter_id}: {'replayed' if outcome.replayed else outcome.reason}")
            for follower in outcome.followers:
                print(f"{follower}: replayed after {letter_id}")
            done.update(outcome.followers)
            refused += not outcome.replayed
    finally:
        await stack.aclose()
        await pool.close()
    if refused:
        # Scripts (and operators) must see that something is still not applied.
        raise OperatorError(f"{refused} of {len(ids)} dead letter(s) not replayed")


# -- audit ---------------------------------------------------------------------------------


async def audit_reads(root: Path, args: argparse.Namespace) -> None:
    """The audited reads of sensitive records in a service's ``read_audit``, newest first."""
    where: list[str] = []
    values: list[Any] = []
    if args.subject is not None:
        values.append(args.subject)
        where.append(f"subject = ${len(values)}")
    if args.kind is not None:
        values.append(args.kind)
        where.append(f"kind = ${len(values)}")
    values.append(args.limit)
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    async with connect(root, args.service) as conn:
        try:
            rows = await conn.fetch(
                "SELECT id, sub, roles, kind, subject, route, correlation_id, read_at"
                f" FROM read_audit {condition} ORDER BY id DESC LIMIT ${len(values)}",
                *values,
            )
        except asyncpg.UndefinedTableError as error:
            raise OperatorError(f"{args.service} keeps no read audit") from error
    for r in rows:
        roles = ",".join(r["roles"]) or "-"
        print(
            f"{r['read_at']:%Y-%m-%d %H:%M:%S}  {r['kind']:<9} {r['subject']}  {r['sub']}"
            f" ({roles})  {r['route']}  {r['correlation_id'] or '-'}"
        )
    if not rows:
        print("no audited reads")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


# -- projections --------------------------------------------------------------------------


async def rebuild_projections(root: Path, names: list[str], *, jobs: int = 1) -> None:
    known = projections()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise OperatorError(f"unknown projection(s) {unknown}; known: {sorted(known)}")
    settings = kafka_settings(root)
    if jobs > 1 and len(names) > 1:
        # side by side, a process each: a rebuild is bound by its own process's CPU
        url = database_url(root, READ_MODELS)
        keys = functools.partial(key_cipher, root)
        print(f"rebuilding {', '.join(names)}: {jobs} at a time", flush=True)
        try:
            await rebuild_side_by_side(
                [RebuildJob(url, known[name], settings, keys) for name in names],
                processes=jobs,
                done=lambda r: print(
                    f"{r.projection}: swapped in {r.schema} after {r.seconds:,.0f}s", flush=True
                ),
            )
        except RebuildFailed as failed:
            raise OperatorError(f"{failed} (each still serves its old read model)") from failed
        return
    pool = await asyncpg.create_pool(database_url(root, READ_MODELS), min_size=1, max_size=4)
    try:
        async with key_cipher(root) as cipher:
            await _rebuild_each(pool, known, names, settings, cipher)
    finally:
        await pool.close()


async def _rebuild_each(
    pool: asyncpg.Pool,
    known: dict[str, Projection],
    names: list[str],
    settings: KafkaSettings,
    cipher: FieldCipher | None,
) -> None:
    for name in names:

        def show(p: RebuildProgress, name: str = name) -> None:
            total = f"/{p.total}" if p.total else ""
            left = ""
            if p.total and p.rate > 0:
                left = f", about {max(0.0, (p.total - p.events) / p.rate):.0f}s left"
            bar = _bar(p.events / p.total if p.total else 0.0)
            print(
                f"\r{name}: {bar} {p.events}{total} events, {p.rate:,.0f}/s{left}   ",
                end="",
                flush=True,
            )

        schema = await rebuild(pool, known[name], settings, progress=show, cipher=cipher)
        print(f"\n{name}: swapped in {schema}")


def _bar(fraction: float, width: int = 24) -> str:
    filled = int(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


# -- the broker ---------------------------------------------------------------------------


async def reseed(root: Path, services: list[str]) -> None:
    """Point each relay's cursor back at the start: the running relay republishes everything."""
    await topics(root, create=True)
    for service in services:
        async with connect(root, service) as conn:
            await conn.execute(
                """
                INSERT INTO relay_cursor (topic, xid, position, published)
                VALUES ($1, '0', 0, 0)
                ON CONFLICT (topic) DO UPDATE SET xid = '0', position = 0, published = 0,
                    updated_at = now()
                """,
                service_topic(root, service),
            )
            count = await conn.fetchval("SELECT count(*) FROM events")
        print(f"{service}: relay will republish {count} events from the start")


async def topics(root: Path, *, create: bool) -> None:
    settings = kafka_settings(root)
    client = kafka.admin(settings, client_id="anju-cli")
    try:
        await asyncio.wait_for(client.start(), 10)
    except (OSError, TimeoutError, Exception) as error:
        raise OperatorError(f"cannot reach Kafka at {settings.bootstrap}: {error!r}") from error
    try:
        wanted = catalogue_topics(settings.topic_prefix)
        existing = await kafka.existing_topics(client)
        for topic in wanted:
            state = "present" if topic in existing else "missing"
            print(f"{topic:<24} {state}")
        if create:
            for topic in await kafka.ensure_topics(client, wanted, settings):
                print(f"{topic:<24} created ({settings.partitions} partitions, keep forever)")
    finally:
        await client.close()


async def watch(root: Path, service: str, *, from_start: bool, limit: int | None) -> None:
    """Print the events of a service's topic as they arrive, one JSON envelope a line."""
    settings = kafka_settings(root)
    consumer = kafka.consumer(settings, group_id=None, client_id="anju-watch")
    try:
        await asyncio.wait_for(consumer.start(), 10)
    except (OSError, TimeoutError, Exception) as error:
        raise OperatorError(f"cannot reach Kafka at {settings.bootstrap}: {error!r}") from error
    topic = topic_for(service, settings.topic_prefix)
    try:
        if topic not in await consumer.topics():
            raise OperatorError(f"no topic {topic} on {settings.bootstrap} (yet)")
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        if from_start:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        shown = 0
        while limit is None or shown < limit:
            fetched = await consumer.getmany(timeout_ms=500)
            for message in (m for batch in fetched.values() for m in batch):
                if limit is not None and shown >= limit:
                    break
                print(_shown(message.value, message.headers), flush=True)
                shown += 1
    finally:
        await consumer.stop()


def _shown(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> str:
    """A message as one line: its envelope as JSON (whichever way it travelled), or the raw
    value when it is not an Anju event."""
    try:
        return from_kafka(value, headers).model_dump_json()
    except NotAnEvent:
        return (value or b"").decode("utf-8", "replace")


# -- wiring -------------------------------------------------------------------------------


def _runner(
    make: Callable[[argparse.Namespace], Coroutine[Any, Any, None]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            asyncio.run(make(args))
        except OperatorError as error:
            print(f"anju: {error}", file=sys.stderr)
            return 2
        return 0

    return run


def add_commands(sub: Any, root: Path) -> None:
    sub.add_parser("status", help="relay lag, projection checkpoints, dead letters").set_defaults(
        func=_runner(lambda _: status(root))
    )

    dl = sub.add_parser("dead-letters", help="list, show, replay or discard dead letters")
    dl.add_argument("--service", default=READ_MODELS, help="whose dead letters (default query)")
    actions = dl.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--all", dest="all_statuses", action="store_true", help="not only pending")
    actions.add_parser("show").add_argument("id", type=int)
    replay = actions.add_parser("replay")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?")
    which.add_argument("--all", action="store_true")
    discard = actions.add_parser("discard")
    discard.add_argument("id", type=int)
    discard.add_argument("--reason", required=True)
    dl.set_defaults(func=_runner(lambda a: dead_letters(root, a)))

    au = sub.add_parser("audit", help="who read which sensitive record, newest first")
    au.add_argument("--subject", help="the record's id")
    au.add_argument("--kind", help="the kind of record, e.g. dispute or resident")
    au.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")
    au.add_argument("--service", default=READ_MODELS, help="whose audit (default query)")
    au.set_defaults(func=_runner(lambda a: audit_reads(root, a)))

    proj = sub.add_parser("projections", help="rebuild read models while the system runs")
    proj_actions = proj.add_subparsers(dest="action", required=True)
    rb = proj_actions.add_parser("rebuild")
    names = rb.add_mutually_exclusive_group(required=True)
    names.add_argument("name", nargs="?")
    names.add_argument("--all", action="store_true")
    rb.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        help="rebuild this many side by side, a process each (default 1: one after another)",
    )
    proj.set_defaults(
        func=_runner(
            lambda a: rebuild_projections(
                root, sorted(projections()) if a.all else [a.name], jobs=a.jobs
            )
        )
    )

    w = sub.add_parser("watch", help="print a service's events as they arrive (JSON lines)")
    w.add_argument("service", nargs="?", default="registry")
    w.add_argument("--from-start", action="store_true", help="from the first event on the topic")
    w.add_argument("--limit", type=int, help="stop after this many events")
    w.set_defaults(
        func=_runner(lambda a: watch(root, a.service, from_start=a.from_start, limit=a.limit))
    )

    rs = sub.add_parser("reseed", help="republish event stores to Kafka (broker lost its data)")
    rs.add_argument("--service", action="append", help="default: every service")
    rs.set_defaults(func=_runner(lambda a: reseed(root, a.service or event_services())))

    tp = sub.add_parser("topics", help="check (or --create) the event topics")
    tp.add_argument("--create", action="store_true")
    tp.set_defaults(func=_runner(lambda a: topics(root, create=a.create)))
