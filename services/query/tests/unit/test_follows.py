"""A consistency token waits on the read model that follows its source (``FOLLOWS``), and that
read model reads every published type of the source: a live read model records the version of
a stream only in a batch it writes, and writes nothing for a batch of nothing it reads
(:class:`eventkit.projection.ProjectionRunner`), so a token naming an event it passed over
could wait in vain."""

from __future__ import annotations

from anju_query.projections import FOLLOWS, projections
from eventkit.projection import reads_of


def test_the_read_model_a_token_waits_on_reads_every_type_of_its_source() -> None:
    by_name = {p.name: p for p in projections()}
    for source, name in FOLLOWS.items():
        projection = by_name[name]
        (catalog,) = [c for c in projection.catalogs if c.source == source]
        reads = reads_of(projection)
        published = {m.event_type for m in catalog.models} - catalog.restricted
        unread = set() if reads is None else published - set(reads)
        assert not unread, (source, name, sorted(unread))
