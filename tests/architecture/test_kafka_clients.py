"""Every Kafka client the code base builds connects through ``eventkit.kafka.connection``.

TLS and SASL are set there once: an aiokafka producer, consumer or admin client built with its own
``bootstrap_servers`` would reach a managed cluster without them and fail (or, worse, reach a
plaintext listener). Tests are exempt: they talk to the plaintext dev broker they start.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AIOKAFKA_CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}
BROKERS = {"KafkaBroker"}

#: Constructions that never connect, each with the reason.
NEVER_CONNECTS: set[str] = set()


@dataclass(frozen=True)
class Construction:
    path: str
    line: int
    client: str
    through_connection: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.client}(...)"


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _calls(node: ast.expr | None, function: str) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == function


def _sources() -> list[Path]:
    trees = [*ROOT.glob("libs/*"), *ROOT.glob("services/*"), ROOT / "contracts"]
    return sorted(
        path
        for tree in trees
        for path in tree.rglob("*.py")
        if "tests" not in path.relative_to(tree).parts and ".venv" not in path.parts
    )


def constructions(source: str, path: str) -> list[Construction]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        client = _name(node.func)
        if client in AIOKAFKA_CLIENTS:
            through = any(k.arg is None and _calls(k.value, "connection") for k in node.keywords)
        elif client in BROKERS:
            through = any(
                k.arg == "security" and _calls(k.value, "broker_security") for k in node.keywords
            )
        else:
            continue
        found.append(Construction(path, node.lineno, client, through))
    return found


def _all() -> list[Construction]:
    return [
        c
        for path in _sources()
        for c in constructions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]


def test_every_kafka_client_is_built_with_the_connection_settings() -> None:
    stray = [str(c) for c in _all() if not c.through_connection and c.path not in NEVER_CONNECTS]
    assert stray == [], (
        "build Kafka clients with **eventkit.kafka.connection(settings) (a FastStream broker with"
        f" security=eventkit.kafka.broker_security(settings)), or through eventkit.kafka: {stray}"
    )


def test_the_scan_sees_the_kernels_clients_and_the_exemptions_still_exist() -> None:
    found = _all()
    kernel = {c.client for c in found if c.path == "libs/eventkit/eventkit/kafka.py"}
    assert kernel == AIOKAFKA_CLIENTS
    for path in NEVER_CONNECTS:
        assert any(c.path == path for c in found), f"{path} builds no client any more: drop it"


def test_the_check_catches_a_client_built_on_its_own() -> None:
    source = """
from aiokafka import AIOKafkaProducer
from eventkit import kafka
ok = AIOKafkaProducer(**kafka.connection(settings), acks="all")
bad = AIOKafkaProducer(bootstrap_servers=settings.bootstrap)
also_bad = aiokafka.AIOKafkaConsumer("t", **options)
broker_ok = KafkaBroker(settings.bootstrap, security=broker_security(settings))
broker_bad = KafkaBroker(settings.bootstrap)
"""
    verdicts = [(c.line, c.through_connection) for c in constructions(source, "x.py")]
    assert sorted(verdicts) == [(4, True), (5, False), (6, False), (7, True), (8, False)]
