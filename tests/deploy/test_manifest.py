"""The service manifests (services/*/service.toml): the deploy files are what they render, and
what they declare agrees with the services' code."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from anju_cli.main import main
from anju_contracts.catalogs import CATALOGS
from anju_devtools import render
from anju_devtools.manifest import ManifestError, Service, load, load_one
from anju_query.projections import FOLLOWS
from eventkit.settings import ServiceSettings, topic_for

ROOT = Path(__file__).resolve().parents[2]
SERVICES = load(ROOT)


def test_committed_deploy_files_are_what_the_manifests_render() -> None:
    stale = [str(p.relative_to(ROOT)) for p in render.stale_files(ROOT)]
    assert not stale, f"out of date (run `make manifest`): {stale}"


def test_every_service_directory_has_a_manifest() -> None:
    directories = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    assert directories == {s.name for s in SERVICES}


def test_a_hand_edit_is_reported_by_file_and_undone_by_render(tmp_path: Path) -> None:
    for part in ("services", "deploy"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    assert render.stale_files(tmp_path) == []
    prometheus = tmp_path / "deploy" / "prometheus" / "prometheus.yml"
    prometheus.write_text(prometheus.read_text().replace("query:8100", "query:9999"))
    (tmp_path / "deploy" / "k8s" / "base" / "registry.yaml").unlink()
    assert set(render.stale_files(tmp_path)) == {
        prometheus,
        tmp_path / "deploy" / "k8s" / "base" / "registry.yaml",
    }
    assert set(render.write(tmp_path)) == set(render.stale_files(ROOT)) | {
        prometheus,
        tmp_path / "deploy" / "k8s" / "base" / "registry.yaml",
    }
    assert render.stale_files(tmp_path) == []


def test_manifest_check_command_names_the_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for part in ("services", "deploy"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    dockerfile = tmp_path / "deploy" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("EXPOSE ", "EXPOSE 7000 "))
    monkeypatch.setattr("anju_cli.main.ROOT", tmp_path)
    assert main(["manifest", "check"]) == 1
    assert "out of date: deploy/Dockerfile" in capsys.readouterr().out
    assert main(["manifest", "render"]) == 0
    assert main(["manifest", "check"]) == 0


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_manifest_agrees_with_the_code(service: Service) -> None:
    settings = importlib.import_module(f"{service.module}.settings")
    classes = [
        v
        for v in vars(settings).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    ]
    (cls,) = classes
    assert cls.model_fields["port"].default == service.port, "settings default port"
    assert cls.model_config.get("env_prefix") == service.env_prefix
    published = {topic_for(c.source) for c in CATALOGS if c.source == service.name}
    assert published == ({service.publishes} if service.publishes else set())
    assert importlib.util.find_spec(f"{service.module}.__main__") is not None
    for callee in service.calls:
        assert f"{callee}_url" in cls.model_fields, f"a setting that says where {callee} is"


def test_query_follows_what_its_projections_follow() -> None:
    query = next(s for s in SERVICES if s.name == "query")
    assert set(query.follows) == {topic_for(source) for source in FOLLOWS}


def test_a_malformed_manifest_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "services" / "demo" / "service.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        '[service]\nname = "demo"\ndescription = "d"\nmodule = "anju_demo"\nport = 8199\n'
        'roles = ["wizard"]\n'
    )
    with pytest.raises(ManifestError, match="unknown roles"):
        load_one(path)
    path.write_text(
        '[service]\nname = "demo"\ndescription = "d"\nmodule = "anju_demo"\nport = 8199\n'
        'follows = ["nobody.events"]\n'
    )
    with pytest.raises(ManifestError, match="follows topics nobody publishes"):
        load(tmp_path)
    path.write_text(
        '[service]\nname = "demo"\ndescription = "d"\nmodule = "anju_demo"\nport = 8199\n'
        'calls = ["nobody"]\n'
    )
    with pytest.raises(ManifestError, match="calls services that are not there"):
        load(tmp_path)
