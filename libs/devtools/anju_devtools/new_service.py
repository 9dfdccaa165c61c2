"""``anju new-service NAME``: a complete, working service skeleton in the shape of the others.

The skeleton is the directory ``template/`` beside this module: real files whose paths and text
carry placeholders (``{{name}}``, ``{{Name}}``, ``{{NAME}}``, ``{{dashed}}``, ``{{port}}``) and
the suffix ``.tmpl``, so no tool mistakes them for workspace code. Generating a service

1. copies the template with the placeholders filled (contracts module, domain, application on
   the kernel's command path with its permission table, entrypoints, settings, ``__main__``,
   unit/handler/integration tests, ``service.toml``);
2. registers it: the catalogue in ``contracts/anju_contracts/catalogs.py``; the workspace
   member, source and dependency, ruff's first-party list and mypy's path in ``pyproject.toml``;
3. runs ``uv lock`` and ``uv sync``, then ``anju contracts`` and ``anju manifest render`` in the
   fresh environment, so schemas, compose, k8s, Prometheus and the rest include it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from anju_devtools import manifest

__all__ = ["NAME", "generate", "placeholders", "register"]

TEMPLATE = Path(__file__).parent / "template"
NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


class GeneratorError(ValueError):
    """A name that cannot be a service, or one that exists already."""


def placeholders(name: str, port: int) -> dict[str, str]:
    return {
        "{{name}}": name,
        "{{Name}}": "".join(part.capitalize() for part in name.split("_")),
        "{{NAME}}": name.upper(),
        "{{dashed}}": name.replace("_", "-"),
        "{{port}}": str(port),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _insert_after_last(text: str, section: str, pattern: str, line: str) -> str:
    """``line`` after the last line matching ``pattern`` inside the TOML array or table that
    starts at ``section`` (a line of its own)."""
    start = text.index(section)
    end = text.find("\n[", start + len(section))
    end = len(text) if end == -1 else end
    block = text[start:end]
    matches = list(re.finditer(pattern, block, re.MULTILINE))
    if not matches:
        raise GeneratorError(f"pyproject.toml: nothing matches {pattern!r} in {section!r}")
    at = start + matches[-1].end()
    return text[:at] + "\n" + line + text[at:]


def _append_to_list(text: str, key: str, item: str) -> str:
    """``item`` appended to the one-line TOML list ``key = [...]``."""
    pattern = re.compile(rf"^({re.escape(key)} = \[.*?)(\])$", re.MULTILINE)
    if not pattern.search(text):
        raise GeneratorError(f"pyproject.toml: no one-line list {key}")
    return pattern.sub(lambda m: f'{m[1]}, "{item}"{m[2]}', text, count=1)


def register(root: Path, name: str) -> None:
    """Register the service ``name`` in the workspace and in the contracts' catalogue list."""
    dashed = name.replace("_", "-")
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    text = _insert_after_last(text, "[project]", r'^    "anju-[a-z-]+",$', f'    "anju-{dashed}",')
    text = _insert_after_last(
        text, "[tool.uv.workspace]", r'^    "services/\w+",$', f'    "services/{name}",'
    )
    text = _insert_after_last(
        text,
        "[tool.uv.sources]",
        r"^anju-[a-z-]+ = \{ workspace = true \}$",
        f"anju-{dashed} = {{ workspace = true }}",
    )
    text = _append_to_list(text, "known-first-party", f"anju_{name}")
    text = _append_to_list(text, "mypy_path", f"services/{name}")
    tomllib.loads(text)  # still valid TOML
    path.write_text(text, encoding="utf-8")

    path = root / "contracts" / "anju_contracts" / "catalogs.py"
    path.write_text(_catalogs_with(path.read_text(encoding="utf-8"), name, path), encoding="utf-8")


def _catalogs_with(text: str, name: str, path: Path) -> str:
    """``catalogs.py`` with ``name``'s catalogue added last (the file is ruff-formatted, so the
    import and the tuple may each span one line or several)."""
    imports = re.search(r"^from anju_contracts import (\([^)]*\)|[^\n]+)$", text, re.MULTILINE)
    catalogs = re.search(
        r"^CATALOGS: tuple\[EventCatalog, \.\.\.\] = \(([^)]*)\)$", text, re.MULTILINE
    )
    if imports is None or catalogs is None:
        raise GeneratorError(f"{path}: cannot find the imports and CATALOGS to extend")
    modules = [m.strip() for m in imports[1].strip("()").replace("\n", " ").split(",")]
    listed = re.findall(r"(\w+)\.CATALOG\b", catalogs[1])
    if name not in listed:
        listed.append(name)
    names = sorted({m for m in modules if m} | {name})
    line = f"from anju_contracts import {', '.join(names)}"
    if len(line) > 100:
        line = "from anju_contracts import (\n" + "".join(f"    {n},\n" for n in names) + ")"
    entries = "".join(f"    {m}.CATALOG,\n" for m in listed)
    text = text.replace(imports[0], line)
    return text.replace(catalogs[0], f"CATALOGS: tuple[EventCatalog, ...] = (\n{entries})")


def copy_template(root: Path, values: dict[str, str]) -> list[Path]:
    """Write the template's files under ``root`` with ``values`` filled in; return them."""
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = _fill(str(source.relative_to(TEMPLATE)), values).removesuffix(".tmpl")
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(source.read_text(encoding="utf-8"), values), encoding="utf-8")
        written.append(target)
    return written


def _run(command: list[str], root: Path, env: dict[str, str]) -> None:
    print("$ " + " ".join(command))
    subprocess.run(command, cwd=root, env=env, check=True)


def generate(root: Path, name: str, *, venv: Path | None = None) -> list[Path]:
    """Generate and register the service ``name`` in the repository at ``root``.

    ``venv`` is the environment to sync and run the generators in (default ``<root>/.venv``).
    """
    if not NAME.fullmatch(name):
        raise GeneratorError(f"{name!r}: a service name is lower_snake_case (e.g. demo_x)")
    existing = manifest.load(root)
    if (root / "services" / name).exists() or any(s.name == name for s in existing):
        raise GeneratorError(f"services/{name} exists already")
    port = max((s.port for s in existing), default=8100) + 1
    written = copy_template(root, placeholders(name, port))
    register(root, name)

    venv = venv or root / ".venv"
    uv = Path(sys.executable).with_name("uv")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    _run([str(uv), "lock"], root, env)
    _run([str(uv), "sync", "--frozen", "--all-packages"], root, env)
    # Import order and line breaks depend on the name's length and place in the alphabet.
    files = [str(p.relative_to(root)) for p in written if p.suffix == ".py"]
    files.append("contracts/anju_contracts/catalogs.py")
    _run([str(venv / "bin" / "ruff"), "check", "--fix", "--select", "I", *files], root, env)
    _run([str(venv / "bin" / "ruff"), "format", *files], root, env)
    # In a new process: this one imported the contracts before the new module existed.
    _run([str(venv / "bin" / "anju"), "contracts"], root, {**env, "ANJU_HOME": str(root)})
    _run([str(venv / "bin" / "anju"), "manifest", "render"], root, {**env, "ANJU_HOME": str(root)})
    # docs/permissions.md lists every service's permission table, the new one's too.
    permissions_doc = root / "tests" / "architecture" / "permissions_doc.py"
    if permissions_doc.exists():
        _run([str(venv / "bin" / "python"), str(permissions_doc)], root, env)
    return written
