from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from anju_contracts import Event
from anju_contracts.mediation import (
    AgreementTerm,
    Category,
    Channel,
    DisputeErased,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeRegistered,
    DisputeReopened,
    DisputeResolved,
    DisputeSlaAtRisk,
    DisputeSlaBreached,
    Location,
    MediationFailed,
    MediatorAssigned,
    MediatorRole,
    Party,
    PartyRole,
    ReferralTarget,
    Satisfaction,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath, ErasureBasis
from anju_mediation.domain import disputes, errors
from anju_mediation.domain.disputes import DEFAULT_SLAS, Dispute, Slas, Status
from eventkit.testing.deciders import given, then, then_nothing, then_raises

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
DID = uuid4()
COMMUNITY, GRID, BUILDING = uuid4(), uuid4(), uuid4()
AT_BUILDING = Location(
    area_id=BUILDING,
    kind=AreaKind.BUILDING,
    path=AreaPath(community_id=COMMUNITY, grid_id=GRID, building_id=BUILDING),
)
ALICE, BOB = uuid4(), uuid4()
PARTIES = [
    Party(party_id=uuid4(), role=PartyRole.APPLICANT, resident_id=ALICE),
    Party(party_id=uuid4(), role=PartyRole.RESPONDENT, name="李师傅", contact="138"),
]


def registered(
    tier: Tier = Tier.BUILDING, parties: list[Party] = PARTIES, at: datetime = NOW
) -> DisputeRegistered:
    return DisputeRegistered(
        dispute_id=DID,
        channel=Channel.WALK_IN,
        category=Category.NOISE,
        description="noise at night",
        location=AT_BUILDING,
        parties=parties,
        sensitivity=Sensitivity.STANDARD,
        tier=tier,
        registered_at=at,
        sla_due_by=DEFAULT_SLAS.due_by(tier, at),
    )


def state(*events: Event) -> Dispute:
    d = given(disputes.evolve, None, *events)
    assert d is not None
    return d


def test_a_dispute_starts_at_the_tier_that_fits_its_location_with_its_sla() -> None:
    events = disputes.register(
        DID,
        signal_id=None,
        channel=Channel.WALK_IN,
        category=Category.NOISE,
        description="noise at night",
        location=AT_BUILDING,
        parties=PARTIES,
        sensitivity=Sensitivity.STANDARD,
        tier=None,
        known_residents={ALICE},
        now=NOW,
        slas=DEFAULT_SLAS,
    )
    then(events, registered())
    assert registered().sla_due_by == NOW + timedelta(days=3)
    grid = Location(
        area_id=GRID, kind=AreaKind.GRID, path=AreaPath(community_id=COMMUNITY, grid_id=GRID)
    )
    assert disputes.tier_for(grid) == Tier.GRID


def test_a_party_is_a_known_resident_or_an_ad_hoc_party_with_a_contact() -> None:
    def register(parties: list[Party]) -> list[Event]:
        return disputes.register(
            DID,
            signal_id=None,
            channel=Channel.WALK_IN,
            category=Category.NOISE,
            description="x",
            location=AT_BUILDING,
            parties=parties,
            sensitivity=Sensitivity.STANDARD,
            tier=None,
            known_residents={ALICE},
            now=NOW,
            slas=DEFAULT_SLAS,
        )

    stranger = Party(party_id=uuid4(), role=PartyRole.AFFECTED, resident_id=BOB)
    then_raises(errors.UnknownResident, register, [PARTIES[0], stranger])
    no_contact = Party(party_id=uuid4(), role=PartyRole.AFFECTED, name="王")
    then_raises(errors.AdHocPartyIncomplete, register, [no_contact])


def test_escalation_goes_up_only_and_restarts_the_sla() -> None:
    d = state(registered())
    later = NOW + timedelta(days=1)
    then(
        disputes.escalate(d, to=None, reason="needs the grid", now=later, slas=DEFAULT_SLAS),
        DisputeEscalated(
            dispute_id=DID,
            from_tier=Tier.BUILDING,
            to_tier=Tier.GRID,
            reason="needs the grid",
            escalated_at=later,
            sla_due_by=later + timedelta(days=7),
        ),
    )
    at_grid = state(registered(Tier.GRID))
    then_raises(
        errors.CannotEscalate,
        disputes.escalate,
        at_grid,
        to=Tier.BUILDING,
        reason="back down",
        now=later,
        slas=DEFAULT_SLAS,
    )
    external = disputes.escalate(
        at_grid, to=Tier.EXTERNAL, reason="court", now=later, slas=DEFAULT_SLAS
    )
    assert isinstance(external[0], DisputeEscalated)
    assert external[0].sla_due_by is None


def test_sla_at_risk_and_breach_escalate_automatically_when_the_tier_says_so() -> None:
    d = state(registered())
    due = NOW + timedelta(days=3)
    assert disputes.at_risk_time(NOW, due) == NOW + timedelta(hours=54)
    at_risk = disputes.mark_at_risk(d, due_by=due)
    then(at_risk, DisputeSlaAtRisk(dispute_id=DID, tier=Tier.BUILDING, due_by=due))
    then_nothing(disputes.mark_at_risk(state(registered(), *at_risk), due_by=due))
    breach = disputes.breach(d, due_by=due, slas=DEFAULT_SLAS)
    then(
        breach,
        DisputeSlaBreached(dispute_id=DID, tier=Tier.BUILDING, due_by=due),
        DisputeEscalated(
            dispute_id=DID,
            from_tier=Tier.BUILDING,
            to_tier=Tier.GRID,
            reason="the building tier's SLA was breached",
            automatic=True,
            escalated_at=due,
            sla_due_by=due + timedelta(days=7),
        ),
    )
    # a deadline of an SLA that no longer runs says nothing
    then_nothing(disputes.breach(state(registered(), *breach), due_by=due, slas=DEFAULT_SLAS))
    no_auto = Slas(days=DEFAULT_SLAS.days, auto_escalate={})
    then(
        disputes.breach(d, due_by=due, slas=no_auto),
        DisputeSlaBreached(dispute_id=DID, tier=Tier.BUILDING, due_by=due),
    )


def cascade(registered_at: datetime) -> list[Event]:
    """What the scheduler makes of a building-tier dispute nobody resolves: breaches, each
    escalating one tier on the clock, up to ``external``."""
    events: list[Event] = [registered(at=registered_at)]
    while (due := state(*events).sla_due_by) is not None:
        events += disputes.breach(state(*events), due_by=due, slas=DEFAULT_SLAS)
    return events


def test_a_resolution_from_the_ledger_withdraws_the_automatic_escalations_after_it() -> None:
    # Registered 40 days ago from the ledger; the scheduler has escalated it up to external.
    then_at = NOW - timedelta(days=40)
    history = cascade(then_at)
    assert state(*history).tier == Tier.EXTERNAL
    building_due = then_at + timedelta(days=3)
    grid_due = building_due + timedelta(days=7)
    resolved_at = then_at + timedelta(days=2)  # as the ledger says, before the building SLA ran out
    then(
        disputes.resolve(state(*history), outcome="ok", now=resolved_at, slas=DEFAULT_SLAS),
        DisputeEscalationsWithdrawn(
            dispute_id=DID,
            tier=Tier.BUILDING,
            tier_entered_at=then_at,
            sla_due_by=building_due,
            withdrawn=[Tier.GRID, Tier.COMMUNITY, Tier.EXTERNAL],
            superseded_at=resolved_at,
        ),
        DisputeResolved(
            dispute_id=DID,
            tier=Tier.BUILDING,
            outcome="ok",
            resolved_at=resolved_at,
            reopen_until=resolved_at + timedelta(days=30),
            on_time=True,
        ),
    )
    # Resolved at the grid after its SLA: the grid escalation stands, the later ones do not.
    late = grid_due + timedelta(days=1)
    events = disputes.resolve(state(*history), outcome="ok", now=late, slas=DEFAULT_SLAS)
    withdrawn, resolved = events
    assert isinstance(withdrawn, DisputeEscalationsWithdrawn)
    assert (withdrawn.tier, withdrawn.withdrawn) == (Tier.COMMUNITY, [Tier.EXTERNAL])
    assert isinstance(resolved, DisputeResolved)
    assert (resolved.tier, resolved.on_time) == (Tier.COMMUNITY, True)
    after = state(*history, *events)
    assert (after.tier, after.status, after.resolved_on_time) == (
        Tier.COMMUNITY,
        Status.RESOLVED,
        True,
    )
    # At the very end of the building SLA: still on time there.
    _, exactly = disputes.resolve(
        state(*history), outcome="ok", now=building_due, slas=DEFAULT_SLAS
    )
    assert isinstance(exactly, DisputeResolved)
    assert (exactly.tier, exactly.on_time) == (Tier.BUILDING, True)


def test_a_resolution_after_the_sla_without_escalation_is_late() -> None:
    no_auto = Slas(days=DEFAULT_SLAS.days, auto_escalate={})
    due = NOW + timedelta(days=3)
    breached = disputes.breach(state(registered()), due_by=due, slas=no_auto)
    d = state(registered(), *breached)
    on_time = disputes.resolve(d, outcome="ok", now=due - timedelta(hours=1), slas=no_auto)
    late = disputes.resolve(d, outcome="ok", now=due + timedelta(hours=1), slas=no_auto)
    assert [e.on_time for e in on_time if isinstance(e, DisputeResolved)] == [True]
    assert [e.on_time for e in late if isinstance(e, DisputeResolved)] == [False]
    external = state(registered(Tier.GRID))
    external = state(
        registered(Tier.GRID),
        *disputes.escalate(external, to=Tier.EXTERNAL, reason="court", now=NOW, slas=no_auto),
    )
    (at_court,) = disputes.resolve(external, outcome="ok", now=NOW, slas=no_auto)
    assert isinstance(at_court, DisputeResolved)
    assert at_court.on_time is None


def test_an_escalation_by_hand_from_the_ledger_withdraws_the_automatic_ones_after_it() -> None:
    then_at = NOW - timedelta(days=40)
    history = cascade(then_at)
    by_hand = then_at + timedelta(days=1)
    events = disputes.escalate(
        state(*history),
        to=Tier.GRID,
        reason="the building lead gave up",
        now=by_hand,
        slas=DEFAULT_SLAS,
    )
    withdrawn, escalated = events
    assert isinstance(withdrawn, DisputeEscalationsWithdrawn)
    assert withdrawn.withdrawn == [Tier.GRID, Tier.COMMUNITY, Tier.EXTERNAL]
    assert escalated == DisputeEscalated(
        dispute_id=DID,
        from_tier=Tier.BUILDING,
        to_tier=Tier.GRID,
        reason="the building lead gave up",
        escalated_at=by_hand,
        sla_due_by=by_hand + timedelta(days=7),
    )
    after = state(*history, *events)
    assert (after.tier, after.tier_entered_at) == (Tier.GRID, by_hand)
    # Its grid SLA runs from the escalation by hand, which a resolution may not precede.
    then_raises(
        errors.BeforeTierEntered,
        disputes.resolve,
        after,
        outcome="ok",
        now=by_hand - timedelta(hours=1),
        slas=DEFAULT_SLAS,
    )


def test_an_agreement_needs_at_least_two_parties() -> None:
    term = AgreementTerm(party_id=PARTIES[1].party_id, action="fix the pipe")
    alone = state(registered(parties=[PARTIES[0]]))
    then_raises(
        errors.AgreementNeedsTwoParties,
        disputes.reach_agreement,
        alone,
        agreement_id=uuid4(),
        terms=[term],
        confirmed_by=[PARTIES[0].party_id],
        now=NOW,
    )
    d = state(registered())
    then_raises(
        errors.AgreementNeedsTwoParties,
        disputes.reach_agreement,
        d,
        agreement_id=uuid4(),
        terms=[term],
        confirmed_by=[PARTIES[0].party_id, PARTIES[0].party_id],
        now=NOW,
    )
    events = disputes.reach_agreement(
        d,
        agreement_id=uuid4(),
        terms=[term],
        confirmed_by=[p.party_id for p in PARTIES],
        now=NOW,
    )
    assert state(registered(), *events).agreement_id is not None


def test_referral_follows_a_failed_mediation() -> None:
    d = state(registered())
    then_raises(
        errors.MediationNotFailed,
        disputes.refer,
        d,
        referral_id=uuid4(),
        to=ReferralTarget.POLICE,
        note=None,
        now=NOW,
    )
    failed = state(registered(), MediationFailed(dispute_id=DID, reason="no"))
    assert disputes.refer(failed, referral_id=uuid4(), to=ReferralTarget.COURT, note=None, now=NOW)


def test_a_closed_dispute_takes_no_work_but_reopens_within_the_window() -> None:
    resolved = DisputeResolved(
        dispute_id=DID,
        tier=Tier.BUILDING,
        outcome="settled",
        resolved_at=NOW,
        reopen_until=NOW + timedelta(days=30),
    )
    d = state(registered(), resolved)
    closed_events = disputes.close(d, note=None, now=NOW)
    closed = state(registered(), resolved, *closed_events)
    assert closed.status == Status.CLOSED
    then_raises(
        errors.DisputeClosed,
        disputes.assign,
        closed,
        mediator_id="m-1",
        role=MediatorRole.PEOPLES_MEDIATOR,
        name=None,
    )
    then_raises(
        errors.DisputeClosed,
        disputes.return_visit,
        closed,
        satisfaction=[Satisfaction(party_id=PARTIES[0].party_id, score=5)],
        note=None,
        now=NOW,
    )
    then_raises(errors.DisputeClosed, disputes.close, closed, note=None, now=NOW)
    later = NOW + timedelta(days=10)
    then(
        disputes.reopen(closed, reason="noise again", now=later, slas=DEFAULT_SLAS),
        DisputeReopened(
            dispute_id=DID,
            reason="noise again",
            tier=Tier.BUILDING,
            reopened_at=later,
            sla_due_by=later + timedelta(days=3),
        ),
    )
    then_raises(
        errors.ReopenWindowPassed,
        disputes.reopen,
        closed,
        reason="too late",
        now=NOW + timedelta(days=31),
        slas=DEFAULT_SLAS,
    )


def test_mediators_are_assigned_and_reassigned() -> None:
    d = state(
        registered(),
        MediatorAssigned(dispute_id=DID, mediator_id="m-1", role=MediatorRole.GRID_WORKER),
    )
    then_raises(
        errors.AlreadyAssigned,
        disputes.assign,
        d,
        mediator_id="m-1",
        role=MediatorRole.GRID_WORKER,
        name=None,
    )
    events = disputes.reassign(
        d,
        from_mediator="m-1",
        to_mediator="m-2",
        role=MediatorRole.POLICE_MEDIATOR,
        name=None,
        reason="police case",
    )
    start: Dispute | None = d
    after = given(disputes.evolve, start, *events)
    assert after is not None
    assert dict(after.mediators) == {"m-2": MediatorRole.POLICE_MEDIATOR}


@pytest.mark.parametrize("score", [0, 6])
def test_satisfaction_is_one_to_five(score: int) -> None:
    with pytest.raises(ValueError, match=r"less than or equal|greater than or equal"):
        Satisfaction(party_id=uuid4(), score=score)


def test_only_a_closed_dispute_is_erased_and_only_once() -> None:
    resolved = DisputeResolved(
        dispute_id=DID,
        tier=Tier.BUILDING,
        outcome="settled",
        resolved_at=NOW,
        reopen_until=NOW + timedelta(days=30),
    )
    d = state(registered(), resolved)
    assert disputes.erase(d, basis=ErasureBasis.RETENTION) == []  # not closed: kept
    closed = state(registered(), resolved, *disputes.close(d, note=None, now=NOW))
    [erased] = disputes.erase(closed, basis=ErasureBasis.RETENTION)
    assert erased == DisputeErased(dispute_id=DID, signal_id=None, basis=ErasureBasis.RETENTION)
    after = state(registered(), resolved, *disputes.close(d, note=None, now=NOW), erased)
    assert after.erased
    assert after.status == Status.CLOSED
    assert disputes.erase(after, basis=ErasureBasis.RETENTION) == []
