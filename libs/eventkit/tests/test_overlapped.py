"""Decoding a batch while the one before it applies (:class:`eventkit.projection.Overlapped`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest

from eventkit.messages import Decoded, RawMessage
from eventkit.projection import DECODE_SLICE, Overlapped


class Recorder:
    """Stands for a decoder and a projection: notes what happens, in order."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.log: list[str] = []
        self.applied: list[list[int]] = []
        self.fail_on = fail_on
        self.release: dict[int, asyncio.Event] = {}

    async def read(self, messages: Sequence[RawMessage]) -> list[Decoded]:
        batch = cast(list[int], messages)[0] // 1000
        self.log.append(f"decode {batch}")
        return cast(list[Decoded], list(messages))

    async def apply(self, decoded: list[Decoded]) -> None:
        numbers = cast(list[int], decoded)
        batch = numbers[0] // 1000
        self.log.append(f"apply {batch}")
        gate = self.release.get(batch)
        if gate is not None:
            await gate.wait()
        if batch == self.fail_on:
            raise RuntimeError(f"batch {batch} does not apply")
        self.applied.append(numbers)
        self.log.append(f"applied {batch}")


def batch(n: int, size: int = 3) -> list[Any]:
    return [n * 1000 + i for i in range(size)]


async def test_batches_apply_whole_and_in_order() -> None:
    recorder = Recorder()
    overlapped = Overlapped(recorder.read)
    for n in range(1, 6):
        await overlapped.submit(batch(n, size=DECODE_SLICE * 2 + 7), recorder.apply)
    await overlapped.drain()
    assert recorder.applied == [batch(n, size=DECODE_SLICE * 2 + 7) for n in range(1, 6)]
    applies = [line for line in recorder.log if line.startswith("apply ")]
    assert applies == [f"apply {n}" for n in range(1, 6)]


async def test_the_next_batch_is_decoded_while_one_applies() -> None:
    recorder = Recorder()
    recorder.release[1] = asyncio.Event()  # batch 1 waits on "PostgreSQL" until released
    overlapped = Overlapped(recorder.read)
    await overlapped.submit(batch(1), recorder.apply)
    await overlapped.submit(batch(2), recorder.apply)
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(recorder.log) == ["apply 1", "decode 1", "decode 2"]  # 2 waits for 1

    # a third batch waits until the first has applied: two in hand at most
    third = asyncio.create_task(overlapped.submit(batch(3), recorder.apply))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not third.done()
    assert "decode 3" not in recorder.log

    recorder.release[1].set()
    await third
    await overlapped.drain()
    assert recorder.applied == [batch(1), batch(2), batch(3)]


async def test_an_error_stops_every_later_batch_and_is_raised() -> None:
    recorder = Recorder(fail_on=2)
    overlapped = Overlapped(recorder.read)

    async def feed() -> None:
        for n in range(1, 6):
            await overlapped.submit(batch(n), recorder.apply)
        await overlapped.drain()

    with pytest.raises(RuntimeError, match="batch 2"):
        await feed()
    overlapped.cancel()
    assert recorder.applied == [batch(1)]
    assert "apply 3" not in recorder.log


async def test_cancel_stops_the_batches_in_hand() -> None:
    recorder = Recorder()
    recorder.release[1] = asyncio.Event()
    overlapped = Overlapped(recorder.read)
    await overlapped.submit(batch(1), recorder.apply)
    await overlapped.submit(batch(2), recorder.apply)
    await asyncio.sleep(0)
    overlapped.cancel()
    await asyncio.sleep(0)
    recorder.release[1].set()
    await asyncio.sleep(0)
    assert recorder.applied == []
    await overlapped.drain()  # nothing left in hand
