"""Volunteering's erasure reach: a volunteer's hours ledger goes with the volunteer."""

from __future__ import annotations

import uuid

from anju_volunteering.application.aggregates import ledgers_of


def test_each_volunteer_brings_their_ledger_and_nothing_else() -> None:
    volunteer = uuid.uuid4()
    streams = [f"volunteer-{volunteer}", f"request-{uuid.uuid4()}", f"ledger-{volunteer}"]
    assert ledgers_of(streams) == [f"ledger-{volunteer}"]
