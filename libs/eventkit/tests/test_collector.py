"""The garbage collector's pause around a batch, and a service process's collector setup."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from eventkit import collector
from eventkit.collector import batch_pause


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    yield
    gc.enable() if enabled else gc.disable()
    gc.set_threshold(*threshold)
    gc.unfreeze()


@pytest.fixture
def young_collections() -> Iterator[list[int]]:
    """The generations of the collections that run meanwhile."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    yield seen
    gc.callbacks.remove(callback)


def test_a_pause_stops_the_collector_until_it_ends() -> None:
    gc.enable()
    with batch_pause():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_someone_else_stopped_stays_stopped() -> None:
    gc.disable()
    with batch_pause():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_batch_ends_its_pause() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), batch_pause():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


async def test_overlapping_pauses_end_with_the_last() -> None:
    gc.enable()
    first_in, second_in, first_out = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def first() -> None:
        with batch_pause():
            first_in.set()
            await second_in.wait()
        first_out.set()

    async def second() -> None:
        await first_in.wait()
        with batch_pause():
            second_in.set()
            await first_out.wait()
            assert not gc.isenabled(), "the first pause's end must not start the collector"
        assert gc.isenabled()

    await asyncio.gather(first(), second())


def test_objects_freed_inside_the_pause_are_never_collected(
    young_collections: list[int],
) -> None:
    gc.enable()
    gc.collect()
    young_collections.clear()
    with batch_pause():
        batch = [[i] for i in range(50_000)]  # far over any threshold
        del batch
    more = [[i] for i in range(100)]
    assert more
    assert young_collections == []


async def test_overlapping_pauses_still_collect_the_young_after_the_longest_pause(
    monkeypatch: pytest.MonkeyPatch, young_collections: list[int]
) -> None:
    monkeypatch.setattr(collector, "LONGEST_PAUSE_S", 0.0)
    gc.enable()
    inside = asyncio.Event()
    done = asyncio.Event()

    async def long_batch() -> None:
        with batch_pause():
            inside.set()
            await done.wait()

    task = asyncio.create_task(long_batch())
    await inside.wait()
    with batch_pause():
        pass
    assert young_collections == [0], "the second pause ends while the first goes on"
    assert not gc.isenabled()
    done.set()
    await task
    assert gc.isenabled()


def test_tune_freezes_what_is_loaded_and_collects_the_young_less_often() -> None:
    gc.unfreeze()
    collector.tune()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
