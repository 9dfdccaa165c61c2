"""The clinical chart: allergies, coded conditions, and what each encounter observed.

Readings are checked twice over. A value no living person shows (a systolic pressure of 400, a
diastolic above the systolic, a weight of 3 kg) is a typo or a wrong unit and is refused. A value
that is possible but alarming (200/120 mmHg, a fasting glucose of 18 mmol/L) is accepted and
marked for review, with the thresholds of the national service specification for urgent
referral.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID, uuid4

from anju_contracts import Event
from anju_contracts.health import (
    AllergyRecorded,
    ChartOpened,
    ConditionDiagnosed,
    ConditionResolved,
    EncounterRecorded,
    Observations,
    Programme,
    SelfCare,
)
from anju_health.domain.errors import (
    ConditionAlreadyActive,
    ConditionNotActive,
    DiagnosisRequired,
    ImplausibleReading,
    NothingObserved,
)

PLAUSIBLE: dict[str, tuple[float, float]] = {
    "systolic_mmhg": (50, 300),
    "diastolic_mmhg": (20, 200),
    "fasting_glucose_mmol_l": (1, 40),
    "height_cm": (100, 230),
    "weight_kg": (20, 300),
    "bmi": (8, 80),
    "heart_rate_bpm": (20, 250),
    "temperature_c": (30, 45),
    "self_care_score": (0, 37),
}
"""What a living adult can show, per reading; outside it the value is refused."""

PROGRAMME_CONDITIONS: dict[Programme, tuple[str, ...]] = {
    Programme.HYPERTENSION: ("I10", "I11", "I12", "I13", "I15"),
    Programme.TYPE2_DIABETES: ("E11",),
}
"""The ICD-10 categories a chronic-disease programme is for."""

RECENT = 10
"""How many encounters a chart keeps in its summary."""


@dataclass(frozen=True)
class Encounter:
    id: UUID
    occurred_on: date
    programme: Programme | None
    doctor_id: str
    observations: Observations | None
    """Null once the person is erased, as are the findings and guidance."""
    findings: str | None
    guidance: str | None
    review: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    resident_id: UUID
    allergies: tuple[tuple[str, str | None], ...] = ()
    conditions: dict[str, date] = field(default_factory=dict)
    encounters: tuple[Encounter, ...] = ()

    def has_condition_for(self, programme: Programme) -> bool:
        categories = PROGRAMME_CONDITIONS.get(programme)
        if categories is None:
            return True
        return any(code.split(".")[0] in categories for code in self.conditions)


def evolve(state: Chart, event: Event) -> Chart:
    if isinstance(event, AllergyRecorded):
        return replace(state, allergies=(*state.allergies, (event.substance, event.reaction)))
    if isinstance(event, ConditionDiagnosed):
        if event.icd10 is None:  # the person was erased: the code is no longer known
            return state
        return replace(state, conditions={**state.conditions, event.icd10: event.diagnosed_on})
    if isinstance(event, ConditionResolved):
        conditions = {c: d for c, d in state.conditions.items() if c != event.icd10}
        return replace(state, conditions=conditions)
    if isinstance(event, EncounterRecorded):
        encounter = Encounter(
            event.encounter_id,
            event.occurred_on,
            event.programme,
            event.doctor_id,
            event.observations,
            event.findings,
            event.guidance,
            tuple(event.review),
        )
        return replace(state, encounters=(*state.encounters, encounter)[-RECENT:])
    return state


def fold(resident_id: UUID, events: Iterable[Event]) -> Chart:
    state = Chart(resident_id)
    for event in events:
        state = evolve(state, event)
    return state


def opening(exists: bool, resident_id: UUID) -> list[Event]:
    """The chart's first event, when the chart has none yet."""
    return [] if exists else [ChartOpened(resident_id=resident_id)]


# -- readings ---------------------------------------------------------------------------------


def self_care_level(score: int) -> SelfCare:
    """老年人生活自理能力评估表: 0–3 independent, 4–8 mild, 9–18 moderate, ≥19 dependent."""
    if score <= 3:
        return SelfCare.INDEPENDENT
    if score <= 8:
        return SelfCare.MILD
    if score <= 18:
        return SelfCare.MODERATE
    return SelfCare.DEPENDENT


def check_observations(observations: Observations) -> tuple[Observations, list[str]]:
    """The readings completed (BMI, self-care level) and the codes of those that need review.

    Raises :class:`ImplausibleReading` for a value outside :data:`PLAUSIBLE` or a diastolic
    pressure not below the systolic, and :class:`NothingObserved` when nothing was read.
    """
    values = observations.model_dump(exclude_none=True)
    if not values:
        raise NothingObserved("an encounter records at least one reading")
    for name, (low, high) in PLAUSIBLE.items():
        value = values.get(name)
        if value is not None and not low <= value <= high:
            raise ImplausibleReading(
                f"{name} = {value} is outside what a person can show ({low}–{high})",
                field=name,
                value=value,
                low=low,
                high=high,
            )
    systolic, diastolic = observations.systolic_mmhg, observations.diastolic_mmhg
    if (systolic is None) != (diastolic is None):
        raise ImplausibleReading(
            "blood pressure needs both the systolic and the diastolic value", field="blood_pressure"
        )
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise ImplausibleReading(
            "the diastolic pressure must be below the systolic",
            field="diastolic_mmhg",
            value=diastolic,
        )
    update: dict[str, object] = {}
    height, weight = observations.height_cm, observations.weight_kg
    if height is not None and weight is not None:
        bmi = round(weight / (height / 100) ** 2, 1)
        low, high = PLAUSIBLE["bmi"]
        if not low <= bmi <= high:
            raise ImplausibleReading(
                f"height {height} cm and weight {weight} kg give a BMI of {bmi}",
                field="bmi",
                value=bmi,
            )
        update["bmi"] = bmi
    if observations.self_care_score is not None:
        update["self_care"] = self_care_level(observations.self_care_score)
    completed = observations.model_copy(update=update)
    return completed, review_of(completed)


def review_of(o: Observations) -> list[str]:
    """Possible but alarming readings (the specification's urgent-referral thresholds)."""
    review: list[str] = []
    if o.systolic_mmhg is not None and o.systolic_mmhg >= 180:
        review.append("systolic_high")
    if o.diastolic_mmhg is not None and o.diastolic_mmhg >= 110:
        review.append("diastolic_high")
    if o.fasting_glucose_mmol_l is not None:
        if o.fasting_glucose_mmol_l >= 16.7:
            review.append("glucose_high")
        elif o.fasting_glucose_mmol_l <= 3.9:
            review.append("glucose_low")
    if o.heart_rate_bpm is not None and (o.heart_rate_bpm > 100 or o.heart_rate_bpm < 50):
        review.append("heart_rate")
    if o.temperature_c is not None and o.temperature_c > 39:
        review.append("fever")
    if o.bmi is not None and (o.bmi >= 28 or o.bmi < 18.5):
        review.append("bmi")
    return review


# -- deciders --------------------------------------------------------------------------------


def record_allergy(
    chart: Chart, *, exists: bool, substance: str, reaction: str | None, doctor_id: str
) -> list[Event]:
    return [
        *opening(exists, chart.resident_id),
        AllergyRecorded(
            resident_id=chart.resident_id,
            substance=substance,
            reaction=reaction,
            doctor_id=doctor_id,
        ),
    ]


def diagnose(chart: Chart, *, exists: bool, icd10: str, on: date, doctor_id: str) -> list[Event]:
    if icd10 in chart.conditions:
        raise ConditionAlreadyActive("the condition is on the chart", icd10=icd10)
    return [
        *opening(exists, chart.resident_id),
        ConditionDiagnosed(
            resident_id=chart.resident_id, icd10=icd10, diagnosed_on=on, doctor_id=doctor_id
        ),
    ]


def resolve(chart: Chart, *, icd10: str, on: date, doctor_id: str) -> list[Event]:
    if icd10 not in chart.conditions:
        raise ConditionNotActive("the condition is not on the chart", icd10=icd10)
    return [
        ConditionResolved(
            resident_id=chart.resident_id, icd10=icd10, resolved_on=on, doctor_id=doctor_id
        )
    ]


def require_condition(chart: Chart, programme: Programme) -> None:
    if not chart.has_condition_for(programme):
        raise DiagnosisRequired(
            "diagnose the disease on the chart before enrolling in its programme",
            programme=programme,
            icd10=list(PROGRAMME_CONDITIONS.get(programme, ())),
        )


def record_encounter(
    chart: Chart,
    *,
    exists: bool,
    visit_id: UUID | None,
    programme: Programme | None,
    on: date,
    doctor_id: str,
    observations: Observations,
    findings: str | None,
    guidance: str | None,
) -> list[Event]:
    completed, review = check_observations(observations)
    return [
        *opening(exists, chart.resident_id),
        EncounterRecorded(
            resident_id=chart.resident_id,
            encounter_id=uuid4(),
            visit_id=visit_id,
            programme=programme,
            occurred_on=on,
            doctor_id=doctor_id,
            observations=completed,
            findings=findings,
            guidance=guidance,
            review=review,
        ),
    ]
