"""Pausing Python's cyclic garbage collector while a batch of events is decoded and applied.

Every message of a batch decodes into a dozen small objects (the record, its headers, the
envelope, the payload's fields), and all of them stay alive until the batch has been applied.
With the collector running, those allocations set off a collection every few hundred of them,
none of which can free anything: each moves the batch's objects a generation older, until a
collection of the whole heap looks at them all again. Measured on the projection bench, that
cost a quarter of the catch-up rate.

:func:`batch_pause` stops the collector from the decoding of a batch until it has been applied,
after which its objects are freed by reference counting, before the collector ever sees them.
Pauses overlap (several projections of one process catching up at once): the collector runs
again when the last one ends. So that overlapping pauses cannot keep it from running for long,
a pause that ends after :data:`LONGEST_PAUSE_S` of uninterrupted pausing collects the young
generation (everything allocated meanwhile: nothing was promoted while paused) before it goes.

:func:`tune` sets a service process's collector up once, when it has loaded everything
(:func:`eventkit.app.serve` calls it): the modules, models and routes loaded by then live as long
as the process, so they are frozen out of every later collection, and the young generation is
collected every :data:`YOUNG_THRESHOLD` allocations rather than every 700. On the projection
bench the two cut the collector's time by more than half again, most of it in collections of the
whole heap.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 5_000
"""Allocations between two collections of the young generation (Python's default is 700)."""

LONGEST_PAUSE_S = 10.0
"""How long overlapping pauses may keep the collector from running. A consumer that decodes a
batch while the one before it applies (:class:`eventkit.projection.Overlapped`) keeps its pauses
overlapping for as long as it catches up; each collection then looks at every live object of
the batches in hand (their headers alone are fifteen tuples a message), about 75 ms for two
batches of 5,000. Every second, that was 8 % of a rebuild; every ten seconds, under 1 %."""


class _Pause:
    holders = 0
    since: float | None = None
    """When this pause started (None: the collector was not running to be paused)."""


@contextmanager
def batch_pause() -> Iterator[None]:
    """Keep the cyclic garbage collector from running inside the block (see the module)."""
    if _Pause.holders == 0 and gc.isenabled():
        gc.disable()
        _Pause.since = time.monotonic()
    _Pause.holders += 1
    try:
        yield
    finally:
        _Pause.holders -= 1
        if _Pause.since is not None:
            if _Pause.holders == 0:
                _Pause.since = None
                gc.enable()
            elif time.monotonic() - _Pause.since > LONGEST_PAUSE_S:
                gc.collect(0)
                _Pause.since = time.monotonic()


def tune() -> None:
    """Freeze what the process holds now and collect the young generation less often (see the
    module); call it once, when the process has loaded what it runs."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
