"""Cutting a batch into set-based groups keeps every stream's order."""

from __future__ import annotations

from anju_query.projections.batching import columns, plan


def _flatten(groups: list) -> list:  # type: ignore[type-arg]
    return [item for g in groups for item in g.items]


def test_one_group_per_kind_when_streams_are_distinct() -> None:
    events = [("r1", "Registered", 1), ("c1", "Raised", 2), ("r2", "Registered", 3)]
    groups = plan(events)
    assert [(g.kind, g.items) for g in groups] == [("Registered", [1, 3]), ("Raised", [2])]


def test_a_stream_never_appears_twice_in_a_group() -> None:
    events = [("c1", "Planned", 1), ("c1", "Planned", 2), ("c2", "Planned", 3)]
    groups = plan(events)
    assert [g.items for g in groups] == [[1, 3], [2]]


def test_per_stream_order_is_kept_across_kinds() -> None:
    events = [
        ("c1", "Raised", "a1"),
        ("c1", "Planned", "a2"),
        ("c2", "Raised", "b1"),
        ("c1", "Recorded", "a3"),
        ("c1", "Planned", "a4"),
        ("c2", "Planned", "b2"),
        ("c3", "Recorded", "x1"),
    ]
    groups = plan(events)
    position = {item: i for i, g in enumerate(groups) for item in g.items}
    for stream in ("a", "b"):
        chain = [position[e[2]] for e in events if e[2].startswith(stream)]
        assert chain == sorted(chain)
        assert len(set(chain)) == len(chain)
    assert sorted(_flatten(groups)) == sorted(e[2] for e in events)
    # c3's visit joins the first group of visits; it does not need one of its own
    assert len(groups) == 4


def test_interleaved_bulk_load_needs_few_groups() -> None:
    kinds = ["Registered", "Formed", "Raised", "Planned"]
    events = [(f"s{i}", kinds[i % 4], i) for i in range(1000)]
    assert len(plan(events)) == 4


def test_columns_transposes_rows() -> None:
    assert columns([(1, "a"), (2, "b")], 2) == [[1, 2], ["a", "b"]]
