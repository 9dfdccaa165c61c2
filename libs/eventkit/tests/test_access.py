"""The one access policy as a table: roles × places × sensitivity, in Python and in SQL.

Every expectation is written out by hand; the Python form (``may_see``) and the SQL form
(``visible_sql``, run on PostgreSQL) must both give exactly the table's answer.
"""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg
import pytest

from eventkit.access import (
    Guarded,
    Params,
    Permissions,
    mask_id_number,
    may_see,
    render_permissions,
    visible_sql,
)
from eventkit.auth import Principal, Role
from eventkit.errors import Forbidden

C1, C2 = uuid.uuid4(), uuid.uuid4()
G1, G2, G3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()  # G1, G2 in C1; G3 in C2


O1, O2 = uuid.uuid4(), uuid.uuid4()  # partner organisations


def who(
    sub: str,
    *roles: Role,
    areas: tuple[UUID | str, ...] = (),
    organisations: tuple[UUID | str, ...] = (),
) -> Principal:
    return Principal(
        sub=sub,
        roles=roles,
        areas=tuple(str(a) for a in areas),
        organisations=tuple(str(o) for o in organisations),
    )


PRINCIPALS = {
    "admin": who("a", Role.ADMIN),
    "director C1": who("d1", Role.DIRECTOR, areas=(C1,)),
    "director C2": who("d2", Role.DIRECTOR, areas=(C2,)),
    "director, no areas": who("d0", Role.DIRECTOR),
    "director of grid G1": who("dg", Role.DIRECTOR, areas=(G1,)),
    "grid worker G1": who("w1", Role.GRID_WORKER, areas=(G1,)),
    "grid worker, community C1": who("wc", Role.GRID_WORKER, areas=(C1,)),
    "grid worker, junk area": who("wj", Role.GRID_WORKER, areas=("not-an-id",)),
    "mediator m-1, no areas": who("m-1", Role.MEDIATOR),
    "mediator C1": who("m-2", Role.MEDIATOR, areas=(C1,)),
    "doctor G1": who("doc", Role.DOCTOR, areas=(G1,)),
    "liaison of O1, C1": who("l1", Role.LIAISON, areas=(C1,), organisations=(O1,)),
    "liaison of O1, no areas": who("l0", Role.LIAISON, organisations=(O1,)),
    "liaison of nothing, C1": who("ln", Role.LIAISON, areas=(C1,), organisations=("junk",)),
}

RECORDS = {
    "C1/G1": Guarded(C1, G1),
    "C1/G2": Guarded(C1, G2),
    "C1 (no grid)": Guarded(C1, None),
    "C2/G3": Guarded(C2, G3),
    "sensitive C1/G1": Guarded(C1, G1, sensitive=True),
    "sensitive C1/G1, m-1 assigned": Guarded(C1, G1, sensitive=True, assigned=frozenset({"m-1"})),
    "sensitive C2/G3": Guarded(C2, G3, sensitive=True),
    "C2/G3, m-1 assigned": Guarded(C2, G3, assigned=frozenset({"m-1"})),
    "C2, serving C1 too": Guarded.serving([C2, C1]),
    "C1/G1, O1 owns": Guarded(C1, G1, organisations=frozenset({O1})),
    "C1, O2 owns with O1": Guarded(C1, None, organisations=frozenset({O2, O1})),
    "C1/G2, O2 owns": Guarded(C1, G2, organisations=frozenset({O2})),
    "C2/G3, O1 owns": Guarded(C2, G3, organisations=frozenset({O1})),
    "sensitive C1/G1, O1 owns": Guarded(C1, G1, sensitive=True, organisations=frozenset({O1})),
}

ALL = set(RECORDS)
OWNED_C1 = {"C1/G1, O1 owns", "C1, O2 owns with O1", "C1/G2, O2 owns"}
PLAIN_C1 = {"C1/G1", "C1/G2", "C1 (no grid)", "C2, serving C1 too"} | OWNED_C1
SENSITIVE_C1_G1 = {"sensitive C1/G1", "sensitive C1/G1, m-1 assigned", "sensitive C1/G1, O1 owns"}
EXPECTED: dict[str, set[str]] = {
    "admin": ALL,
    "director C1": PLAIN_C1 | SENSITIVE_C1_G1,
    "director C2": {
        "C2/G3",
        "sensitive C2/G3",
        "C2/G3, m-1 assigned",
        "C2, serving C1 too",
        "C2/G3, O1 owns",
    },
    "director, no areas": set(),
    "director of grid G1": {"C1/G1", "C1/G1, O1 owns"} | SENSITIVE_C1_G1,
    "grid worker G1": {"C1/G1", "C1/G1, O1 owns"},
    "grid worker, community C1": PLAIN_C1,
    "grid worker, junk area": set(),
    "mediator m-1, no areas": {"sensitive C1/G1, m-1 assigned", "C2/G3, m-1 assigned"},
    "mediator C1": PLAIN_C1,
    "doctor G1": {"C1/G1", "C1/G1, O1 owns"},
    # owned or co-owned by their organisation, in their areas, never sensitive
    "liaison of O1, C1": {"C1/G1, O1 owns", "C1, O2 owns with O1"},
    "liaison of O1, no areas": set(),
    "liaison of nothing, C1": set(),
}


@pytest.mark.parametrize("name", sorted(PRINCIPALS))
def test_python_form_matches_the_table(name: str) -> None:
    seen = {r for r, record in RECORDS.items() if may_see(PRINCIPALS[name], record)}
    assert seen == EXPECTED[name]


async def test_sql_form_matches_the_table(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """
            CREATE TEMP TABLE records (
                name text, community_id uuid, grid_id uuid, sensitive boolean, assigned text[],
                communities uuid[], organisations uuid[]
            )
            """
        )
        await conn.executemany(
            "INSERT INTO records VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (
                    n,
                    r.community_id,
                    r.grid_id,
                    r.sensitive,
                    sorted(r.assigned),
                    sorted(r.communities),
                    sorted(r.organisations),
                )
                for n, r in RECORDS.items()
            ],
        )
        for name, principal in PRINCIPALS.items():
            params = Params()
            where = visible_sql(
                principal,
                params,
                community="community_id",
                grid="grid_id",
                sensitive="sensitive",
                assigned="assigned",
                communities="communities",
                organisations="organisations",
            )
            rows = await conn.fetch(f"SELECT name FROM records WHERE {where}", *params.values)
            assert {r["name"] for r in rows} == EXPECTED[name], name
    finally:
        await conn.close()


PERMS = Permissions.of(
    "demo",
    {
        "resolve": ((Role.DIRECTOR, Role.MEDIATOR), "resolve a case"),
        "read": ((Role.DIRECTOR, Role.MEDIATOR, Role.POLICE), "read a case"),
    },
)


@pytest.mark.parametrize(
    ("roles", "action", "allowed"),
    [
        ((Role.ADMIN,), "resolve", True),
        ((Role.DIRECTOR,), "resolve", True),
        ((Role.POLICE,), "resolve", False),
        ((Role.POLICE,), "read", True),
        ((Role.PETITION_AGENT,), "read", False),
        ((Role.PETITION_AGENT, Role.MEDIATOR), "resolve", True),
        ((), "read", False),
    ],
)
def test_roles_per_action(roles: tuple[Role, ...], action: str, allowed: bool) -> None:
    principal = who("x", *roles, areas=(C1,))
    assert PERMS.allows(principal, action) is allowed
    if allowed:
        PERMS.check(principal, action)
    else:
        with pytest.raises(Forbidden) as refused:
            PERMS.check(principal, action)
        assert refused.value.details["action"] == action


def test_an_undeclared_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        PERMS.allows(who("x", Role.DIRECTOR), "delete")


def test_a_mask_hides_everything_but_the_last_four() -> None:
    number = "110105194912310021"
    masked = mask_id_number(number)
    assert masked == "*" * 14 + "0021"
    # Region (6) and date of birth (8) are hidden: with the date of birth shown beside it the
    # six region digits still stay unknown.
    assert number[:6] not in masked
    assert mask_id_number("12") == "**"


def test_the_permissions_document_lists_every_action() -> None:
    text = render_permissions([PERMS])
    assert "| `resolve` | resolve a case |" in text
    assert "## demo" in text


@pytest.mark.parametrize("version", ["9" * 19, "9" * 5000, "-1", "x", ""])
def test_a_consistency_token_with_an_unreasonable_version_is_refused(version: str) -> None:
    from eventkit.commands import BadConsistencyToken, ConsistencyToken

    with pytest.raises(BadConsistencyToken):
        ConsistencyToken.decode(f"registry:resident-1:{version}")


def test_a_read_model_without_organisations_shows_a_liaison_nothing() -> None:
    params = Params()
    where = visible_sql(
        PRINCIPALS["liaison of O1, C1"], params, community="community_id", grid="grid_id"
    )
    assert where == "false"


def test_a_liaison_token_names_the_organisations_it_speaks_for() -> None:
    from eventkit.auth import issue_token, verify_token

    secret = "liaison-tests-secret-0123456789-0123456789"
    token = issue_token(secret, "l1", [Role.LIAISON], [str(C1)], organisations=[str(O1)])
    principal = verify_token(token, secret)
    assert principal.organisations == (str(O1),)
    assert may_see(principal, RECORDS["C1/G1, O1 owns"])
    assert not may_see(principal, RECORDS["C1/G1"])
    assert verify_token(issue_token(secret, "d", [Role.DIRECTOR]), secret).organisations == ()
