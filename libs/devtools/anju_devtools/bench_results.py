"""A bench run's results: the table ``make bench`` ends with, the JSON it writes
(``bench-results.json``), the comparison of two runs and the README's generated block.

Nothing here measures or connects to anything; the figures are declared in
:mod:`anju_devtools.bench_figures`.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anju_devtools.bench_figures import BY_KEY, FIGURES, Better, Figure, Kind, Measured

FORMAT = 1
"""The JSON's layout version; a reader refuses another."""

BEGIN = "<!-- bench:begin"
END = "<!-- bench:end -->"


@dataclass
class Run:
    """One run of the bench: where and when it ran, with what settings, and what it measured."""

    machine: dict[str, Any]
    command: str
    settings: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Measured] = field(default_factory=dict)

    def add(self, measured: Measured) -> None:
        if measured.key not in BY_KEY:
            raise KeyError(f"{measured.key!r} is not a declared figure (bench_figures.FIGURES)")
        self.measured[measured.key] = measured

    def figures(self) -> list[tuple[Figure, Measured]]:
        """The measured figures in the order they are declared."""
        return [(f, self.measured[f.key]) for f in FIGURES if f.key in self.measured]

    def to_json(self) -> dict[str, Any]:
        rows = []
        for figure, measured in self.figures():
            value = figure.value(measured)
            rows.append(
                {
                    "key": figure.key,
                    "title": figure.title,
                    "kind": figure.kind.value,
                    "unit": figure.unit,
                    "percentile": figure.percentile,
                    "better": figure.better.value,
                    "target": figure.target,
                    "value": value,
                    "met": figure.met(value),
                    "ours": measured.ours,
                    "baseline": measured.baseline,
                    "baseline_is": figure.baseline,
                    "conditions": measured.conditions,
                    "notes": list(measured.notes),
                }
            )
        return {
            "format": FORMAT,
            "command": self.command,
            "machine": self.machine,
            "settings": self.settings,
            "figures": rows,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        """Read a run back; only what was measured is taken, the declarations are today's (a
        figure no longer declared is dropped)."""
        if data.get("format") != FORMAT:
            raise ValueError(f"bench results format {data.get('format')!r}, expected {FORMAT}")
        run = cls(data["machine"], data.get("command", ""), data.get("settings", {}))
        for row in data["figures"]:
            if row["key"] in BY_KEY:
                run.add(
                    Measured(
                        row["key"],
                        float(row["ours"]),
                        float(row["baseline"]),
                        row.get("conditions", {}),
                        tuple(row.get("notes", ())),
                    )
                )
        return run

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> Run:
        return cls.from_json(json.loads(path.read_text()))


def machine_facts(postgresql: str | None, broker: str) -> dict[str, Any]:
    """What a run's numbers depend on besides the code: the machine, its load, the versions."""
    commit = None
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
        commit = found.stdout.strip() or None
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": postgresql,
        "broker": broker,
        "platform": platform.platform(),
        "commit": commit,
    }


# -- what one part prints as it goes, and the table at the end ----------------------------


def _raw(figure: Figure, measured: Measured) -> tuple[str, str]:
    """Anju's number and the baseline's, with units, and what went wrong in a steady run."""
    if figure.kind is Kind.RATIO:
        ours = f"{measured.ours:,.0f} {figure.unit}"
        base = f"{measured.baseline:,.0f} {figure.unit}"
    elif figure.kind is Kind.LATENCY:
        ours, base = f"{measured.ours:,.1f} ms", f"{measured.baseline:,.1f} ms"
    else:
        ours = figure.show(measured.ours)
        base = figure.show(measured.baseline) if measured.baseline else "—"
    failed = measured.conditions.get("failed")
    if failed:
        ours += f"; {failed:,} of {measured.conditions.get('sent', 0):,} failed"
    return ours, base


def _conditions(measured: Measured) -> str:
    c = measured.conditions
    if "rate" in c:
        return f"{c['rate']:,.0f}/s × {c.get('seconds', 0):,.0f} s"
    if "residents" in c and "events" in c:
        return f"{c['residents']:,} residents, {c['events']:,} events"
    if "calls" in c:
        return f"{c['calls']:,} calls"
    if "events" in c:
        return f"{c['events']:,} events"
    if "writers" in c:
        return f"{c['writers']} writer(s) × {c.get('seconds', 0):,.0f} s"
    return ""


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[met]


def progress_line(measured: Measured) -> str:
    """One line as a part finishes, like the table's row."""
    figure = BY_KEY[measured.key]
    value = figure.value(measured)
    ours, base = _raw(figure, measured)
    text = (
        f"{figure.key:<18} {figure.show(value):>11}  target {figure.show_target():<9}"
        f" {_verdict(figure.met(value)):<6}  {ours} against {base}"
    )
    return text + "".join(f"\n{'':<18} {note}" for note in measured.notes)


def table(run: Run) -> str:
    """Every measured figure: value, target, met or not, and the raw numbers behind it."""
    head = ("figure", "at", "value", "target", "met", "Anju", "baseline (same run)")
    rows = [head]
    for figure, measured in run.figures():
        value = figure.value(measured)
        ours, base = _raw(figure, measured)
        rows.append(
            (
                figure.key,
                _conditions(measured),
                figure.show(value),
                figure.show_target(),
                _verdict(figure.met(value)),
                ours,
                base,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    missed = [f.key for f, m in run.figures() if f.met(f.value(m)) is False]
    with_target = [f for f, _ in run.figures() if f.target is not None]
    lines.append(
        f"{len(with_target) - len(missed)} of {len(with_target)} targets met"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return "\n".join(line.rstrip() for line in lines)


# -- comparing two runs -------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    figure: Figure
    old: float | None
    new: float | None
    worse: bool
    remark: str

    @property
    def relative(self) -> float | None:
        if self.old is None or self.new is None or not self.old:
            return None
        return self.new / self.old - 1


FAILED_SHARE_ALLOWED = 0.01
"""A steady run whose failed (shed or stale) share grows by more than this has got worse,
whatever its latency: the latency is of the requests that succeeded."""


def compare(old: Run, new: Run, tolerance: float | None = None) -> list[Change]:
    """Each declared figure in either run: its value then and now, and whether it got worse by
    more than its tolerance (``tolerance`` overrides every figure's). A figure only one run
    measured is listed, never worse (a run with ``--only`` measures some)."""
    changes = []
    for figure in FIGURES:
        before, after = old.measured.get(figure.key), new.measured.get(figure.key)
        if before is None and after is None:
            continue
        if before is None or after is None:
            remark = "not measured in the new run" if after is None else "new"
            changes.append(
                Change(
                    figure,
                    figure.value(before) if before else None,
                    figure.value(after) if after else None,
                    False,
                    remark,
                )
            )
            continue
        was, now = figure.value(before), figure.value(after)
        allowed = figure.allowed if tolerance is None else tolerance
        relative = now / was - 1 if was else 0.0
        wrong_way = -relative if figure.better is Better.HIGHER else relative
        remarks = []
        worse = wrong_way > allowed
        if worse:
            remarks.append(f"WORSE by {wrong_way:.0%} (tolerance {allowed:.0%})")
        elif wrong_way < -allowed:
            remarks.append("better")
        if after.failed_share > before.failed_share + FAILED_SHARE_ALLOWED:
            worse = True
            remarks.append(
                f"WORSE: {after.failed_share:.1%} failed (was {before.failed_share:.1%})"
            )
        met_before, met_now = figure.met(was), figure.met(now)
        if met_before and met_now is False:
            remarks.append("target now missed")
        elif met_before is False and met_now:
            remarks.append("target now met")
        changes.append(Change(figure, was, now, worse, "; ".join(remarks)))
    return changes


def describe(run: Run) -> str:
    """When and where a run was taken, and how loaded the machine was: two runs compare only as
    well as their machines do."""
    m = run.machine
    load = m.get("load_average")
    return ", ".join(
        part
        for part in (
            str(m.get("date") or "date not recorded"),
            f"{m['cores']} cores" if m.get("cores") else "",
            f"load {load[0]}" if load else "",
            f"commit {m['commit']}" if m.get("commit") else "",
            f"`{run.command}`",
        )
        if part
    )


def compare_report(changes: list[Change], old: Run | None = None, new: Run | None = None) -> str:
    head = [f"{label}: {describe(run)}" for label, run in (("old", old), ("new", new)) if run]
    rows = [("figure", "old", "new", "change", "")]
    for c in changes:
        rows.append(
            (
                c.figure.key,
                "—" if c.old is None else c.figure.show(c.old),
                "—" if c.new is None else c.figure.show(c.new),
                "" if c.relative is None else f"{c.relative:+.1%}",
                c.remark,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    worse = [c.figure.key for c in changes if c.worse]
    lines.append(f"worse: {', '.join(worse)}" if worse else "nothing got worse")
    return "\n".join(line.rstrip() for line in [*head, *lines])


# -- the README's block -------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_block(sources: list[tuple[str, Run]]) -> str:
    """The README's benchmark table from one or more results files (``(name, run)``, later
    runs' figures replacing earlier ones'), and where each row came from."""
    rows: dict[str, tuple[Figure, Measured, int]] = {}
    for index, (_, run) in enumerate(sources):
        for figure, measured in run.figures():
            rows[figure.key] = (figure, measured, index)
    out = [
        f"{BEGIN} generated by `python -m anju_devtools.bench --readme"
        f" {' '.join(name for name, _ in sources)}`; edit the results, not this table -->",
        "| figure | at | Anju | baseline (same run) | value | target | met | run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure in FIGURES:
        if figure.key not in rows:
            continue
        _, measured, index = rows[figure.key]
        value = figure.value(measured)
        ours, base = _raw(figure, measured)
        met = {True: "yes", False: "**no**", None: "—"}[figure.met(value)]
        out.append(
            "| "
            + " | ".join(
                _cell(cell)
                for cell in (
                    figure.title,
                    _conditions(measured),
                    ours,
                    f"{base} {figure.baseline}",
                    figure.show(value),
                    figure.show_target(),
                    met,
                    str(index + 1),
                )
            )
            + " |"
        )
    out.append("")
    for index, (name, run) in enumerate(sources):
        m = run.machine
        facts = ", ".join(
            f"{label} {m[key]}"
            for key, label in (("cores", "cores:"), ("python", "Python"), ("postgresql", "PG"))
            if m.get(key)
        )
        used = sum(1 for _, _, i in rows.values() if i == index)
        out.append(
            f"{index + 1}. `{name}`: {m.get('date') or 'date not recorded'}, `{run.command}`"
            + (f", {facts}" if facts else "")
            + (f" — {used} row(s)" if len(sources) > 1 else "")
        )
    out.append(END)
    return "\n".join(out)


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the markers (both included) replaced by ``block``."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {BEGIN} … {END} block in the README")
    return pattern.sub(lambda _: block, text, count=1)
