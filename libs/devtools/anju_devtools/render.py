"""Render the deploy files from the service manifests (``anju manifest render``).

Two kinds of output. Files that are all about one service (``deploy/k8s/base/<name>.yaml``) are
rendered whole from a template in ``templates/``. Files that mix hand-written configuration with
the list of services (compose, overlays, Prometheus, gen-env, the Dockerfile) carry generated
regions between marker comments::

    # >>> anju manifest: <region>
    ...rendered, do not edit...
    # <<< anju manifest

and only those regions are rewritten; the rest of the file is left as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from anju_devtools.manifest import BASE_MAX_REPLICAS, Service, load

__all__ = ["expected_files", "stale_files", "write"]

TEMPLATES = Path(__file__).parent / "templates"
_REGION = re.compile(
    r"^(?P<indent>[ \t]*)# >>> anju manifest: (?P<key>[\w-]+)\n(?P<body>.*?)^[ \t]*# <<< anju manifest$",
    re.MULTILINE | re.DOTALL,
)

Regions = dict[str, Callable[[list[Service]], list[str]]]


def fill(template: str, service: Service, services: list[Service]) -> str:
    """A template with ``@name@``-style placeholders filled; ``?db `` lines only with a database.
    ``services``: all of them, where ``service`` finds those it calls."""
    lines = []
    for line in template.splitlines(keepends=True):
        if line.startswith("?db "):
            if service.database is None:
                continue
            line = line[len("?db ") :]
        lines.append(line)
    text = "".join(lines)
    text = _expand_settings(text, service, services)
    for key, value in {
        "@name@": service.name,
        "@dashed@": service.dashed,
        "@NAME@": service.name.upper(),
        "@port@": str(service.port),
        "@description_yaml@": json.dumps(service.description, ensure_ascii=False),
        "@description@": service.description,
    }.items():
        text = text.replace(key, value)
    return text


def compose_host(service: Service) -> str:
    """A service's host name in the compose stack: its compose service's name."""
    return service.name


def k8s_host(service: Service) -> str:
    """A service's host name in Kubernetes: its Service's (in the same namespace)."""
    return f"anju-{service.dashed}"


def _expand_settings(text: str, service: Service, services: list[Service]) -> str:
    """The template's ``@settings:compose@`` / ``@settings:k8s@`` lines, one line per setting of
    the service's own and per service it calls (none: the line goes)."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped not in ("@settings:compose@", "@settings:k8s@"):
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        host = compose_host if stripped == "@settings:compose@" else k8s_host
        for name, value in [*service.settings, *service.call_settings(services, host)]:
            var = f"{service.env_prefix}{name}"
            if stripped == "@settings:compose@":
                out.append(f"{indent}{var}: {json.dumps(value)}\n")
            else:
                out.append(f"{indent}- name: {var}\n{indent}  value: {json.dumps(value)}\n")
    return "".join(out)


def replace_regions(text: str, regions: Regions, services: list[Service], path: Path) -> str:
    """``text`` with every marked region re-rendered; an unknown or missing region is an error."""
    seen: set[str] = set()

    def one(match: re.Match[str]) -> str:
        key, indent = match["key"], match["indent"]
        if key not in regions:
            raise KeyError(f"{path}: unknown region {key!r}")
        seen.add(key)
        body = "".join(f"{indent}{line}\n" if line else "\n" for line in regions[key](services))
        return f"{indent}# >>> anju manifest: {key}\n{body}{indent}# <<< anju manifest"

    rendered = _REGION.sub(one, text)
    missing = set(regions) - seen
    if missing:
        raise KeyError(f"{path}: regions {sorted(missing)} are not marked")
    return rendered


def _names(services: list[Service]) -> str:
    """The services' Kubernetes names as a kustomize target pattern's alternatives."""
    return "|".join(s.dashed for s in services)


def _compose_services(services: list[Service]) -> list[str]:
    template = (TEMPLATES / "compose-service.yml").read_text(encoding="utf-8")
    text = "".join(fill(template, s, services) for s in services)
    # The template is indented for the `services:` mapping already; strip it (the region re-adds).
    return [line.removeprefix("  ") for line in text.rstrip("\n").splitlines()]


def _db_services(services: list[Service]) -> list[Service]:
    return [s for s in services if s.database is not None]


def _compose_databases(services: list[Service]) -> list[str]:
    with_db = _db_services(services)
    lines = [f"ANJU_DATABASES: {' '.join(s.name for s in with_db)}"]
    for s in with_db:
        var = f"ANJU_{s.name.upper()}_DB_PASSWORD"
        lines.append(f"{var}: ${{{var}:?set {var}}}")
    return lines


def _compose_database_urls(services: list[Service]) -> list[str]:
    lines = []
    for s in _db_services(services):
        var = f"ANJU_{s.name.upper()}_DB_PASSWORD"
        lines.append(
            f"{s.env_prefix}DATABASE_URL: postgresql://anju_{s.name}:${{{var}:?set {var}}}"
            f"@postgres:5432/{s.database}"
        )
    return lines


def _gen_env(services: list[Service]) -> list[str]:
    return [f'DATABASES="{" ".join(s.name for s in _db_services(services))}"']


def _prometheus(services: list[Service]) -> list[str]:
    lines = []
    for s in services:
        lines += [f'- targets: ["{s.name}:{s.port}"]', "  labels:", f"    anju_service: {s.name}"]
    return lines


def _expose(services: list[Service]) -> list[str]:
    return [f"EXPOSE {' '.join(str(s.port) for s in sorted(services, key=lambda s: s.port))}"]


def _k8s_resources(services: list[Service]) -> list[str]:
    return [f"- {s.name}.yaml" for s in services]


def _dev_images(services: list[Service]) -> list[str]:
    lines = []
    for s in services:
        lines += [f"- name: anju/{s.name}", "  newTag: dev"]
    return lines


def _prod_images(services: list[Service]) -> list[str]:
    lines = []
    for s in services:
        lines += [
            f"- name: anju/{s.name}",
            f"  newName: registry.example.org/anju/{s.name}",
            '  newTag: "0.1.0"',
        ]
    return lines


def _all_services(services: list[Service]) -> list[str]:
    return [f"name: anju-({_names(services)})"]


def _prod_replicas(services: list[Service]) -> list[str]:
    lines = []
    ceilings = sorted({s.prod_max_replicas for s in services} - {BASE_MAX_REPLICAS})
    for ceiling in ceilings:
        group = [s for s in services if s.prod_max_replicas == ceiling]
        lines += [
            "- target:",
            "    kind: HorizontalPodAutoscaler",
            f"    name: anju-({_names(group)})",
            "  patch: |-",
            "    - op: replace",
            "      path: /spec/maxReplicas",
            f"      value: {ceiling}",
        ]
    return lines


REGIONS: dict[str, Regions] = {
    "docker-compose.yml": {
        "services": _compose_services,
        "databases": _compose_databases,
        "database-urls": _compose_database_urls,
    },
    "deploy/gen-env.sh": {"databases": _gen_env},
    "deploy/prometheus/prometheus.yml": {"targets": _prometheus},
    "deploy/Dockerfile": {"expose": _expose},
    "deploy/k8s/base/kustomization.yaml": {"resources": _k8s_resources},
    "deploy/k8s/overlays/dev/kustomization.yaml": {
        "images": _dev_images,
        "services": _all_services,
    },
    "deploy/k8s/overlays/prod/kustomization.yaml": {
        "images": _prod_images,
        "replicas": _prod_replicas,
    },
}
"""Files with generated regions (relative to the repository root) → region → renderer."""


def expected_files(root: Path) -> dict[Path, str]:
    """Every rendered file → the content the manifests produce now."""
    services = load(root)
    files: dict[Path, str] = {}
    for relative, regions in REGIONS.items():
        path = root / relative
        files[path] = replace_regions(path.read_text(encoding="utf-8"), regions, services, path)
    template = (TEMPLATES / "k8s-service.yaml").read_text(encoding="utf-8")
    for service in services:
        files[root / "deploy" / "k8s" / "base" / f"{service.name}.yaml"] = fill(
            template, service, services
        )
    return files


def stale_files(root: Path) -> list[Path]:
    """Rendered files that are missing or differ from what the manifests produce now."""
    return [
        path
        for path, text in expected_files(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write(root: Path) -> list[Path]:
    """Write every rendered file that changed; return them."""
    changed = []
    for path, text in expected_files(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
