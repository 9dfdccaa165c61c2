"""Reads of a full identity number are audited (DESIGN: privacy is part of the domain)."""

from anju_registry.testing import RegistryClient as Registry
from eventkit.audit import reads_of


async def test_a_full_id_number_read_is_audited_a_masked_one_is_not(registry: Registry) -> None:
    resident_id = await registry.register()
    pool = registry.runtime.pool

    desk = registry.auth("desk_staff", sub="desk-1", areas=[registry.community_id])
    masked = await registry.client.get(f"/residents/{resident_id}", headers=desk)
    assert masked.json()["id_number_masked"] is True
    assert await reads_of(pool, "resident", resident_id) == []

    director = registry.auth("director", sub="dir-1", areas=[registry.community_id])
    full = await registry.client.get(
        f"/residents/{resident_id}", headers={**director, "X-Correlation-ID": "corr-1"}
    )
    assert full.json()["id_number_masked"] is False
    [row] = await reads_of(pool, "resident", resident_id)
    assert row["sub"] == "dir-1"
    assert row["roles"] == ["director"]
    assert row["route"] == "GET /residents/{resident_id}"
    assert row["correlation_id"] == "corr-1"
    assert row["read_at"] is not None

    # A resident the caller may not see is not shown, and not audited as read.
    elsewhere = registry.auth("director", areas=["00000000-0000-0000-0000-000000000000"])
    assert (
        await registry.client.get(f"/residents/{resident_id}", headers=elsewhere)
    ).status_code == 404
    assert len(await reads_of(pool, "resident", resident_id)) == 1
