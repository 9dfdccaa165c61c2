"""What the read models' database keeps derived from their rows by itself: daily roll-ups, and
the place of a record that belongs to a resident or a volunteer (:func:`placed_by`).

A daily roll-up is a table's rows counted (and an amount summed) per day and place.

The dashboard counts up to a year of a community's receptions or visits per request; counted
from the records, that is tens of thousands of rows a time. A roll-up keeps the same count per
key (community, grid, day, and what the figure is broken down by) in a table of its own, one
row per key, so the year is a few hundred rows. It is kept by statement-level triggers on the
source table, from the rows each statement inserted, changed or deleted (its transition
tables), so it is right whatever writes the source — a batch of events, a rebuild, a resident
who moves — and it is a pure function of the source's rows: counting the roll-up gives what
counting the records gives, which the drill-down lists.

A key's row is added to (or taken from) by one upsert per statement, the keys in one order, so
two transactions touching the same days wait for each other rather than deadlock; a key whose
rows are all gone stays, at zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DailyRollup:
    """The rows of ``source`` that match ``where``, counted per ``keys``, ``amount`` summed.

    ``keys`` maps each column of the roll-up to its type and its expression over a source row
    aliased ``x``; ``where`` and ``amount`` are expressions over ``x`` too.
    """

    name: str
    source: str
    keys: dict[str, tuple[str, str]]
    where: str = "true"
    amount: str = "1"

    def ddl(self) -> str:
        columns = ",\n    ".join(f"{k} {t}" for k, (t, _) in self.keys.items())
        keys = ", ".join(self.keys)
        triggers = "\n".join(self._trigger(op, sources) for op, sources in _TRANSITIONS.items())
        return f"""
CREATE TABLE {self.name} (
    {columns},
    n      bigint NOT NULL,
    amount numeric NOT NULL,
    UNIQUE NULLS NOT DISTINCT ({keys})
);
{triggers}
"""

    def _deltas(self, table: str, sign: str) -> str:
        keys = ", ".join(f"{e} AS {k}" for k, (_, e) in self.keys.items())
        return (
            f"SELECT {keys}, {sign}1 AS n, {sign}({self.amount}) AS amount"
            f" FROM {table} x WHERE {self.where}"
        )

    def _trigger(self, op: str, sources: tuple[str, ...]) -> str:
        changed = " UNION ALL ".join(
            self._deltas(table, "-" if table == "old_rows" else "") for table in sources
        )
        keys = ", ".join(self.keys)
        function = f"{self.name}_{_PAST[op]}"
        referencing = " ".join(
            f"{'OLD' if t == 'old_rows' else 'NEW'} TABLE AS {t}" for t in sources
        )
        # EXECUTE: planned each time for the rows at hand, a handful or a rebuild's batch
        upsert = f"""
            INSERT INTO {self.name} AS r ({keys}, n, amount)
            SELECT {keys}, sum(n), sum(amount) FROM ({changed}) d
            GROUP BY {keys} HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY {keys}
            ON CONFLICT ({keys}) DO UPDATE
            SET n = r.n + EXCLUDED.n, amount = r.amount + EXCLUDED.amount"""
        quoted = upsert.replace("'", "''")
        return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    EXECUTE '{quoted}';
    RETURN NULL;
END $$;
CREATE TRIGGER {function} AFTER {op} ON {self.source} REFERENCING {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();"""


_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "INSERT": ("new_rows",),
    "UPDATE": ("old_rows", "new_rows"),
    "DELETE": ("old_rows",),
}
"""Each statement the triggers follow, and the transition tables it has: what it removed
(counted negatively) and what it added."""

_PAST = {"INSERT": "inserted", "UPDATE": "updated", "DELETE": "deleted"}


def placed_by(owner: str, key: str, dependents: Sequence[str], *, removed: bool = False) -> str:
    """The SQL that keeps each ``dependents`` table's ``community_id`` and ``grid_id`` those of
    its row of ``owner`` (joined on ``key``): after every statement that inserts or updates
    owners, set-based (a batch registers or moves thousands at once); with ``removed``, null
    when the owner is deleted. A dependent's row written before its owner's is placed when the
    owner's is (so a read by the dependent's own place equals a join on the owners, whichever
    stream arrived first).

    Each dependent table needs an index that leads with ``key``: the functions reach a placed
    owner's few dependents through it, one probe per owner written. The planner, left to
    itself, would hash the whole dependent table instead on every statement (it sees a
    transition table of a thousand rows against a table a hundred times larger): on the
    district bench that was 37 ms of each 51 ms batch of registrations (with 100,000 visits),
    and it grows with the city while the probes do not. The statements are static, so the
    session plans them once: run by ``EXECUTE``, each was planned again on every call, half of
    the trigger's time on a batch of a few registrations."""

    def each(update: str) -> str:
        return "\n".join(f"    {update.format(t=t)};" for t in dependents)

    moved = each(
        f"UPDATE {{t}} d SET community_id = n.community_id, grid_id = n.grid_id"
        f" FROM placed n WHERE d.{key} = n.{key}"
        " AND (d.community_id, d.grid_id) IS DISTINCT FROM (n.community_id, n.grid_id)"
    )
    sql = f"""
CREATE FUNCTION {owner}_placed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
{moved}
    RETURN NULL;
END $$;
CREATE TRIGGER {owner}_inserted AFTER INSERT ON {owner} REFERENCING NEW TABLE AS placed
    FOR EACH STATEMENT EXECUTE FUNCTION {owner}_placed();
CREATE TRIGGER {owner}_updated AFTER UPDATE ON {owner} REFERENCING NEW TABLE AS placed
    FOR EACH STATEMENT EXECUTE FUNCTION {owner}_placed();
"""
    if removed:
        gone = each(
            f"UPDATE {{t}} d SET community_id = NULL, grid_id = NULL"
            f" FROM removed o WHERE d.{key} = o.{key}"
        )
        sql += f"""
CREATE FUNCTION {owner}_removed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
{gone}
    RETURN NULL;
END $$;
CREATE TRIGGER {owner}_deleted AFTER DELETE ON {owner} REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION {owner}_removed();
"""
    return sql
