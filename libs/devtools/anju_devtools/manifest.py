"""The service manifest: one ``services/<name>/service.toml`` per service, read here.

Everything that must list the services (the dev stack, docker-compose.yml, the Kubernetes base
and overlays, Prometheus, gen-env.sh, the Dockerfile) is rendered from these declarations by
``anju manifest render`` (see :mod:`anju_devtools.render`), so adding a service means writing one
manifest rather than editing thirty places.

A manifest looks like::

    [service]
    name = "registry"
    description = "What it does, one line (shown in the k8s annotations)."
    module = "anju_registry"           # run as `python -m anju_registry`
    port = 8101                        # HTTP (API, /healthz, /readyz, /metrics)
    database = "anju_registry"         # omit for a service without a database
    publishes = "registry.events"      # omit for a service that publishes nothing
    follows = []                       # topics it consumes (inbound.* ones other systems publish)
    roles = ["admin", "director"]      # roles its API serves
    calls = ["registry"]               # optional: services whose HTTP APIs it calls; each
                                       # gives it ANJU_<NAME>_<CALLEE>_URL, the callee's address
                                       # where the stack runs (compose, k8s, the dev stack)
    prod_max_replicas = 10             # optional: the production HPA ceiling (base: 6)

    [service.settings]                 # optional: settings of its own that compose and k8s give
    SIGN_IN = "oidc"                   # it (ANJU_<NAME>_SIGN_IN), each a plain value

    [service.dev_settings]             # optional: what the dev stack (`make run`) gives instead
    SIGN_IN = "dev"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from eventkit.auth import Role

__all__ = ["BASE_MAX_REPLICAS", "ManifestError", "Service", "load", "load_one"]

BASE_MAX_REPLICAS = 6
INBOUND_PREFIX = "inbound."
"""Topics other systems publish into Anju (``inbound.<system>.<what>``)."""
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEYS = {
    "name",
    "description",
    "module",
    "port",
    "database",
    "publishes",
    "follows",
    "roles",
    "calls",
    "prod_max_replicas",
    "settings",
    "dev_settings",
}
_SETTING = re.compile(r"[A-Z][A-Z0-9_]*")


class ManifestError(ValueError):
    """A service.toml that is missing, malformed or inconsistent with the others."""


@dataclass(frozen=True)
class Service:
    """One service as its manifest declares it."""

    name: str
    description: str
    module: str
    port: int
    database: str | None
    publishes: str | None
    follows: tuple[str, ...]
    roles: tuple[str, ...]
    calls: tuple[str, ...] = ()
    """The services whose HTTP APIs it calls (:meth:`call_settings`)."""
    prod_max_replicas: int = BASE_MAX_REPLICAS
    settings: tuple[tuple[str, str], ...] = ()
    """Settings of its own (name without the prefix, value) that the deploy files give it."""
    dev_settings: tuple[tuple[str, str], ...] = ()
    """Settings the dev stack gives it instead (a name must be among ``settings``)."""

    @property
    def distribution(self) -> str:
        """The workspace package that holds the service (``anju-<name>``)."""
        return f"anju-{self.dashed}"

    @property
    def dashed(self) -> str:
        """The name as Kubernetes objects may carry it (DNS labels have no ``_``)."""
        return self.name.replace("_", "-")

    @property
    def env_prefix(self) -> str:
        """Where its settings are read from: ``ANJU_<NAME>_``."""
        return f"ANJU_{self.name.upper()}_"

    def call_settings(
        self, services: Iterable[Service], host: Callable[[Service], str]
    ) -> list[tuple[str, str]]:
        """The settings that tell it where the services it calls are: ``<CALLEE>_URL`` (name
        without the prefix) = ``http://<host(callee)>:<callee's port>``, ``host`` naming a
        service as the stack at hand does (compose: its service name; k8s: its Service)."""
        by_name = {s.name: s for s in services}
        return [
            (f"{name.upper()}_URL", f"http://{host(by_name[name])}:{by_name[name].port}")
            for name in self.calls
        ]


def load_one(path: Path) -> Service:
    """Read and validate one ``service.toml``."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["service"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise ManifestError(f"{path}: not a service manifest ({exc!r})") from exc
    unknown = set(table) - _KEYS
    if unknown:
        raise ManifestError(f"{path}: unknown keys {sorted(unknown)}")
    try:
        service = Service(
            name=str(table["name"]),
            description=str(table["description"]),
            module=str(table["module"]),
            port=int(table["port"]),
            database=table.get("database"),
            publishes=table.get("publishes"),
            follows=tuple(table.get("follows", ())),
            roles=tuple(table.get("roles", ())),
            calls=tuple(table.get("calls", ())),
            prod_max_replicas=int(table.get("prod_max_replicas", BASE_MAX_REPLICAS)),
            settings=_settings(path, table.get("settings", {})),
            dev_settings=_settings(path, table.get("dev_settings", {})),
        )
    except KeyError as exc:
        raise ManifestError(f"{path}: missing key {exc}") from exc
    if not _NAME.fullmatch(service.name) or path.parent.name != service.name:
        raise ManifestError(f"{path}: name {service.name!r} must be the directory's name")
    if service.module != f"anju_{service.name}":
        raise ManifestError(f"{path}: module must be anju_{service.name}")
    # Compose and k8s give each service a role and database of the same name (deploy/postgres).
    if service.database not in (None, f"anju_{service.name}"):
        raise ManifestError(f"{path}: database must be anju_{service.name} (or absent)")
    if service.publishes not in (None, f"{service.name}.events"):
        raise ManifestError(f"{path}: a service publishes to {service.name}.events (or nothing)")
    undeployed = {name for name, _ in service.dev_settings} - {n for n, _ in service.settings}
    if undeployed:
        # Else `make run` would set what compose and k8s never do: give each a deployed value.
        raise ManifestError(f"{path}: dev_settings {sorted(undeployed)} missing from settings")
    unknown_roles = set(service.roles) - {r.value for r in Role}
    if unknown_roles:
        raise ManifestError(f"{path}: unknown roles {sorted(unknown_roles)}")
    return service


def _settings(path: Path, table: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise ManifestError(f"{path}: settings must be a table")
    for name, value in table.items():
        if not _SETTING.fullmatch(name) or not isinstance(value, str):
            raise ManifestError(f'{path}: setting {name!r} must be UPPER_CASE = "a string"')
    return tuple(sorted(table.items()))


def load(root: Path) -> list[Service]:
    """Every service of the repository at ``root``, ordered by port."""
    services = [load_one(p) for p in sorted((root / "services").glob("*/service.toml"))]
    ports = [s.port for s in services]
    if len(set(ports)) != len(ports):
        raise ManifestError(f"two services share a port: {sorted(ports)}")
    topics = {s.publishes for s in services if s.publishes}
    for service in services:
        # An inbound.<system>.<what> topic is published by another system, not by a service.
        missing = {t for t in service.follows if not t.startswith(INBOUND_PREFIX)} - topics
        if missing:
            raise ManifestError(f"{service.name} follows topics nobody publishes: {missing}")
        unknown = set(service.calls) - {s.name for s in services if s is not service}
        if unknown:
            raise ManifestError(f"{service.name} calls services that are not there: {unknown}")
    return sorted(services, key=lambda s: s.port)
