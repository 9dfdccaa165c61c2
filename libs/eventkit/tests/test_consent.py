"""The consent rules, pure: given once, withdrawn only when given, given again after that."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    VolunteerConsentGiven,
    VolunteerConsentPurpose,
    VolunteerConsentWithdrawn,
)
from eventkit import consent

PATH = AreaPath(community_id=uuid4())
PROFILE = VolunteerConsentPurpose.PROFILE


def test_a_consent_is_given_withdrawn_and_given_again() -> None:
    person = uuid4()
    given = VolunteerConsentGiven(
        volunteer_id=person, purpose=PROFILE, given_on=date(2026, 1, 1), path=PATH
    )
    withdrawn = VolunteerConsentWithdrawn(
        volunteer_id=person, purpose=PROFILE, withdrawn_on=date(2026, 2, 1), path=PATH
    )
    assert consent.fold([], person="volunteer_id") is None
    assert consent.needs_giving(None)
    state = consent.fold([given], person="volunteer_id")
    assert consent.stands(state)
    assert not consent.needs_giving(state)  # giving it again records nothing
    consent.check_withdrawable(state, person, PROFILE)
    after = consent.fold([given, withdrawn], person="volunteer_id")
    assert after is not None
    assert (after.given, after.since, after.purpose) == (False, date(2026, 2, 1), "profile")
    assert not consent.stands(after)
    with pytest.raises(consent.ConsentNotGiven):
        consent.check_withdrawable(after, person, PROFILE)
    with pytest.raises(consent.ConsentNotGiven):
        consent.check_withdrawable(None, person, PROFILE)
    assert consent.needs_giving(after)
    assert consent.stands(consent.fold([given, withdrawn, given], person="volunteer_id"))


def test_each_person_and_purpose_has_its_own_consent() -> None:
    person, other = uuid4(), uuid4()
    assert consent.consent_id(person, "profile") == consent.consent_id(person, "profile")
    assert consent.consent_id(person, "profile") != consent.consent_id(person, "photos")
    assert consent.consent_id(person, "profile") != consent.consent_id(other, "profile")
