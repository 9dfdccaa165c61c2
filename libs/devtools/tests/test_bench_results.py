"""The bench's figures, results file, comparison and README block, fed results (no database,
no broker): what ``make bench`` does with its numbers once it has them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anju_cli.main import main as anju
from anju_devtools import bench
from anju_devtools.bench_figures import BY_KEY, CITY_QUERIES, FIGURES, Better, Kind, Measured
from anju_devtools.bench_results import (
    BEGIN,
    END,
    Run,
    compare,
    machine_facts,
    progress_line,
    readme_block,
    replace_block,
    table,
)

ROOT = Path(__file__).resolve().parents[3]


def run_of(*measured: Measured, command: str = "make bench") -> Run:
    run = Run(machine_facts("15.20", "tansu (dev broker)"), command, {"seconds": 5.0})
    for one in measured:
        run.add(one)
    return run


def steady(rate: float, sent: int, failed: int = 0) -> dict[str, float | int]:
    return {"rate": rate, "seconds": 10.0, "sent": sent, "failed": failed}


# -- the figures --------------------------------------------------------------------------


def test_every_figure_is_declared_once_and_every_part_measures_some() -> None:
    keys = [figure.key for figure in FIGURES]
    assert len(keys) == len(set(keys))
    assert set(bench.PARTS) == {figure.part for figure in FIGURES}
    assert bench.PARTS[:2] == ("appends", "health")  # the order the parts run in


def test_targets_are_issue_17s() -> None:
    targets = {figure.key: figure.target for figure in FIGURES if figure.target is not None}
    assert targets == {
        "appends_8": 0.80,
        "relay": 0.60,
        "projection": 0.40,
        "e2e_p50": 30.0,
        "e2e_p99": 100.0,
        "mediation_p99": 60.0,
        "station_p99": 50.0,
        "city_rebuild": 600.0,  # seconds, for 10M events
        **{f"{key}_p99": 20.0 for key, _ in CITY_QUERIES},
    }


def test_a_city_duration_rate_and_size_are_ours_with_their_direction() -> None:
    rebuild = BY_KEY["city_rebuild"]
    assert rebuild.kind is Kind.DURATION
    assert rebuild.better is Better.LOWER
    assert rebuild.value(Measured("city_rebuild", 700.0, 300.0)) == 700.0
    assert rebuild.met(600.0) is True
    assert rebuild.met(601.0) is False
    assert rebuild.show_target() == "≤ 600 s"
    assert BY_KEY["city_relay"].better is Better.HIGHER
    assert BY_KEY["city_disk"].better is Better.LOWER


def test_a_ratio_is_ours_over_the_baseline_and_higher_is_better() -> None:
    appends = BY_KEY["appends_8"]
    assert appends.kind is Kind.RATIO
    assert appends.better is Better.HIGHER
    assert appends.value(Measured("appends_8", 2_400, 3_000)) == pytest.approx(0.8)
    assert appends.met(0.8) is True
    assert appends.met(0.79) is False
    assert appends.value(Measured("appends_8", 2_400, 0)) == 0.0  # no baseline, no ratio
    assert BY_KEY["appends_1"].met(0.5) is None  # no target


def test_a_latency_is_ours_in_ms_and_lower_is_better() -> None:
    p99 = BY_KEY["e2e_p99"]
    assert p99.kind is Kind.LATENCY
    assert p99.better is Better.LOWER
    assert p99.percentile == 0.99
    assert p99.value(Measured("e2e_p99", 135.0, 2.5)) == 135.0
    assert p99.met(100.0) is True
    assert p99.met(100.1) is False
    assert (p99.show(135.0), p99.show_target()) == ("135.0 ms", "≤ 100 ms")


def test_a_measurement_of_an_undeclared_figure_is_refused() -> None:
    with pytest.raises(KeyError, match="not a declared figure"):
        run_of(Measured("appends_16", 1.0, 1.0))


# -- the table and the JSON ---------------------------------------------------------------


def test_the_table_shows_value_target_verdict_and_the_raw_numbers() -> None:
    run = run_of(
        Measured("appends_8", 2_356, 3_522, {"writers": 8, "seconds": 5.0}),
        Measured("relay", 60_000, 100_000, {"events": 100_000}),
        Measured("e2e_p99", 1_641, 2.5, steady(200, 2_000, 1_148)),
    )
    text = table(run)
    appends = next(row for row in text.splitlines() if row.startswith("appends_8"))
    assert "66.9%" in appends
    assert "≥ 80%" in appends
    assert "MISSED" in appends
    assert "2,356 events/s" in appends
    assert "3,522 events/s" in appends
    relay = next(row for row in text.splitlines() if row.startswith("relay"))
    assert " met " in relay
    assert "100,000 events" in relay
    e2e = next(row for row in text.splitlines() if row.startswith("e2e_p99"))
    assert "1,641.0 ms; 1,148 of 2,000 failed" in e2e
    assert "200/s × 10 s" in e2e
    assert text.splitlines()[-1] == "1 of 3 targets met; missed: appends_8, e2e_p99"
    assert "MISSED" in progress_line(Measured("appends_8", 2_356, 3_522))


def test_the_json_carries_the_machine_and_every_figure_and_reads_back(tmp_path: Path) -> None:
    measured = [
        Measured("appends_8", 2_356, 3_522, {"writers": 8, "seconds": 5.0}),
        Measured("station_p99", 26.9, 3.1, steady(50, 500), ("a note",)),
    ]
    run = run_of(*reversed(measured))
    path = tmp_path / "bench-results.json"
    run.write(path)

    data = json.loads(path.read_text())
    assert data["format"] == 1
    assert data["command"] == "make bench"
    assert {"date", "cores", "python", "postgresql", "load_average", "broker", "commit"} <= set(
        data["machine"]
    )
    assert data["machine"]["postgresql"] == "15.20"
    assert [row["key"] for row in data["figures"]] == ["appends_8", "station_p99"]  # declared order
    appends = data["figures"][0]
    assert appends["value"] == pytest.approx(2_356 / 3_522)
    assert (appends["target"], appends["met"], appends["better"]) == (0.8, False, "higher")
    assert (appends["ours"], appends["baseline"]) == (2_356, 3_522)
    station = data["figures"][1]
    assert (station["unit"], station["met"], station["notes"]) == ("ms", True, ["a note"])

    again = Run.read(path)
    assert again.measured == {m.key: m for m in measured}
    assert again.machine == run.machine
    assert again.settings == {"seconds": 5.0}


def test_a_results_file_of_another_format_or_with_a_dropped_figure() -> None:
    data = run_of(Measured("relay", 1.0, 2.0)).to_json()
    data["figures"].append({**data["figures"][0], "key": "relay_v0"})
    assert set(Run.from_json(data).measured) == {"relay"}  # no longer declared: dropped
    with pytest.raises(ValueError, match="format"):
        Run.from_json({**data, "format": 2})


# -- comparing two runs -------------------------------------------------------------------


def changes_of(old: Run, new: Run, tolerance: float | None = None) -> dict[str, tuple[bool, str]]:
    return {c.figure.key: (c.worse, c.remark) for c in compare(old, new, tolerance)}


def test_compare_within_tolerance_better_and_worse() -> None:
    old = run_of(
        Measured("appends_8", 2_400, 3_000),  # 80 %
        Measured("relay", 50_000, 100_000),  # 50 %
        Measured("projection", 30_000, 100_000),  # 30 %
        Measured("e2e_p99", 100.0, 2.0),
        Measured("station_p99", 40.0, 3.0),
    )
    new = run_of(
        Measured("appends_8", 2_100, 3_000),  # 70 %: 12.5 % down, within 15 %
        Measured("relay", 40_000, 100_000),  # 40 %: 20 % down
        Measured("projection", 40_000, 100_000),  # 40 %: a third up
        Measured("e2e_p99", 125.0, 2.0),  # 25 % up, within 30 %
        Measured("station_p99", 60.0, 3.0),  # 50 % up
    )
    changes = changes_of(old, new)
    assert changes["appends_8"] == (False, "target now missed")
    assert changes["relay"] == (True, "WORSE by 20% (tolerance 15%)")
    assert changes["projection"] == (False, "better; target now met")
    assert changes["e2e_p99"] == (False, "target now missed")  # 100 ms met ≤ 100 ms
    assert changes["station_p99"] == (True, "WORSE by 50% (tolerance 30%); target now missed")
    # one tolerance for all
    assert changes_of(old, new, 0.10)["appends_8"][0] is True
    assert changes_of(old, new, 0.60)["station_p99"][0] is False


def test_compare_counts_a_growing_failed_share_as_worse() -> None:
    old = run_of(Measured("mediation_p99", 50.0, 2.0, steady(100, 1_000, 0)))
    new = run_of(Measured("mediation_p99", 45.0, 2.0, steady(100, 1_000, 92)))
    worse, remark = changes_of(old, new)["mediation_p99"]
    assert worse
    assert "9.2% failed (was 0.0%)" in remark
    same = run_of(Measured("mediation_p99", 45.0, 2.0, steady(100, 1_000, 5)))
    assert changes_of(old, same)["mediation_p99"][0] is False  # half a point


def test_compare_lists_figures_only_one_run_measured_never_worse() -> None:
    old = run_of(Measured("relay", 50_000, 100_000))
    new = run_of(Measured("station_p99", 20.0, 3.0))
    assert changes_of(old, new) == {
        "relay": (False, "not measured in the new run"),
        "station_p99": (False, "new"),
    }


def test_compare_from_the_command_line_exits_1_when_a_figure_got_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    run_of(Measured("relay", 50_000, 100_000)).write(old)
    run_of(Measured("relay", 30_000, 100_000)).write(new)
    assert bench.main(["--compare", str(old), str(old)]) == 0
    assert "nothing got worse" in capsys.readouterr().out
    assert bench.main(["compare", str(old), str(new)]) == 1
    assert anju(["bench", "compare", str(old), str(new)]) == 1
    assert anju(["bench", "compare", str(old), str(new), "--tolerance", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "WORSE by 40% (tolerance 15%)" in out
    assert "worse: relay" in out
    assert "new: 20" in out  # when, on how many cores, at what load, by what command
    assert "cores, load " in out


# -- the README ---------------------------------------------------------------------------


def test_the_readme_block_takes_a_later_files_figures(tmp_path: Path) -> None:
    first = run_of(Measured("relay", 50_000, 100_000), Measured("appends_8", 2_000, 3_000))
    second = run_of(Measured("relay", 70_000, 100_000), command="anju bench --only relay")
    block = readme_block([("a.json", first), ("b.json", second)])
    assert block.startswith(BEGIN)
    assert block.endswith(END)
    rows = [row for row in block.splitlines() if row.startswith("| relay")]
    assert len(rows) == 1
    assert "70,000 events/s" in rows[0]
    assert "| yes | 2 |" in rows[0]
    assert "| **no** | 1 |" in next(r for r in block.splitlines() if "8 writers" in r)
    assert "2. `b.json`:" in block
    assert "`anju bench --only relay`" in block

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{BEGIN} -->\nold table\n{END}\n\nafter\n")
    bench.main(["--readme", *_write(tmp_path, first, second), "--readme-file", str(readme)])
    text = readme.read_text()
    assert "old table" not in text
    assert "70,000 events/s" in text
    assert text.startswith("# x\n\nbefore\n\n")
    assert text.endswith(f"{END}\n\nafter\n")
    with pytest.raises(ValueError, match="no <!-- bench:begin"):
        replace_block("no markers", block)


def _write(directory: Path, *runs: Run) -> list[str]:
    paths = []
    for index, run in enumerate(runs):
        path = directory / f"run{index}.json"
        run.write(path)
        paths.append(str(path))
    return paths


def test_the_readme_table_is_what_its_results_files_give() -> None:
    """The committed README's block is regenerated from the files its marker names: nobody
    edited the table by hand, and the files in docs/bench still read."""
    text = (ROOT / "README.md").read_text()
    found = re.search(re.escape(BEGIN) + r" generated by `[^`]*--readme ([^`]+)`", text)
    assert found, "the README's bench:begin marker names its results files"
    names = found.group(1).split()
    block = readme_block([(name, Run.read(ROOT / name)) for name in names])
    assert block in text
