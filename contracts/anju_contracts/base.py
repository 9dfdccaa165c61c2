"""The envelope every Anju event travels in, and the catalogue that names and versions events.

An event *type* is a stable string such as ``registry.ResidentRegistered``; its *version* is a
small integer that grows whenever the payload changes in a way that is not purely additive.
Old versions stay readable: an :class:`Upcaster` turns a v1 payload into a v2 payload, and the
catalogue applies upcasters on read so that code only ever sees the newest version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import ExtraValues
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode

from anju_contracts.schema import ContractJsonSchema

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_character_in(value: str) -> bool:
    """Whether ``value`` holds a control character other than tab and line breaks (a NUL, an
    escape): text that no form produces, that PostgreSQL refuses (NUL), or that corrupts logs."""
    return any((ch < " " and ch not in _ALLOWED_CONTROLS) or ch == "\x7f" for ch in value)


def check_text(value: str) -> str:
    if control_character_in(value):
        raise ValueError("control characters other than tab and newline are not allowed")
    return value


Text = Annotated[str, AfterValidator(check_text)]
"""A string that holds no control characters other than tab and line breaks."""

PERSONAL_DATA = "x-personal-data"
"""The JSON Schema keyword that marks a field as personal data (see :data:`Personal`)."""

Personal = Field(json_schema_extra={PERSONAL_DATA: True})
"""Marks a field as personal data: ``name: Annotated[str, Personal] = Field(...)``.

Names, identity numbers, phone numbers, dates of birth, contacts and free text written about
people. The generated schemas carry ``"x-personal-data": true`` on such fields, so what must be
protected on the wire (encrypted per person, dropped on erasure) is read off the contracts.
"""


def personal_fields(model: type[BaseModel]) -> set[str]:
    """The names of ``model``'s fields marked :data:`Personal`."""
    marked = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(PERSONAL_DATA):
            marked.add(name)
    return marked


class TolerantReader(BaseModel):
    """A model that is strict about what code *builds* and tolerant of what it *reads*.

    Building one (``Model(field=...)``) refuses a field the model does not declare, so Anju
    never publishes a field its contract does not name. Reading one (``model_validate``,
    ``model_validate_json``) ignores fields it does not know, at every level of nesting: a
    producer may add an optional field without breaking anyone who reads the previous shape
    (the contracts README, "Versions"). A caller who wants the strict check on reading passes
    ``extra="forbid"``.

    Its JSON Schema spells a nullable field ``type: [T, "null"]`` (:mod:`anju_contracts.schema`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = ContractJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        return super().model_json_schema(
            by_alias=by_alias,
            ref_template=ref_template,
            schema_generator=schema_generator,
            mode=mode,
            union_format=union_format,
        )

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = "ignore",
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        return super().model_validate(
            obj,
            strict=strict,
            extra=extra,
            from_attributes=from_attributes,
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = "ignore",
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        return super().model_validate_json(
            json_data,
            strict=strict,
            extra=extra,
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )


class Event(TolerantReader):
    """Base of every event payload: a frozen fact, named in the past tense.

    Subclasses set ``event_type`` (``<service>.<Name>``) and ``event_version``. Built in code,
    an event refuses undeclared fields; read (``model_validate``, :meth:`EventCatalog.decode`),
    it ignores them (:class:`TolerantReader`).
    """

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1


class Actor(TolerantReader):
    """Who caused an event: a staff member with their roles, or a service acting on its own."""

    id: str
    roles: tuple[str, ...] = ()


class Envelope(TolerantReader):
    """One event as it is published on Kafka (the value, as JSON).

    The names follow CloudEvents where one exists. ``subject`` is the stream (aggregate) id and
    also the Kafka message key, so all events of one stream are ordered. ``sequence`` is the
    stream version the event created (1 for the first event of a stream). ``position`` is the
    event's global position in the source service's event store.

    Two times: ``occurred_at`` is **business time**, when the fact happened (a reception logged
    today from last month's paper ledger occurred last month); figures, deadlines and periods
    use it. ``recorded_at`` is when the source's store recorded the event; it is ``None`` only
    in messages published before the two were told apart, whose ``occurred_at`` is both.

    Read, it ignores attributes it does not know (:class:`TolerantReader`).
    """

    id: UUID
    type: str
    version: int = Field(ge=1)
    source: str
    subject: str
    sequence: int = Field(ge=1)
    position: int = Field(ge=1)
    occurred_at: datetime
    recorded_at: datetime | None = None
    correlation_id: str
    causation_id: str | None = None
    actor: Actor
    area: str | None = None
    data: dict[str, Any]


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _unchanged(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


def sealed_upcasters(models: Iterable[type[Event]]) -> dict[tuple[str, int], Upcaster]:
    """The upcasters into the version of each of ``models`` that seals its personal fields on
    the wire (docs/personal-data.md): the payload in code is the same, only the wire form of
    those fields changed, and a value in clear reads as it is."""
    upcasters: dict[tuple[str, int], Upcaster] = {}
    for model in models:
        if model.event_version < 2:
            raise ValueError(f"{model.event_type} seals its fields from a version after 1")
        upcasters[(model.event_type, model.event_version - 1)] = _unchanged
    return upcasters


class UnknownEvent(LookupError):
    """An event type, or a version of it, that this catalogue does not know."""

    def __init__(self, event_type: str, version: int) -> None:
        super().__init__(f"unknown event {event_type} v{version}")
        self.event_type = event_type
        self.version = version


class InvalidEvent(ValueError):
    """A payload that does not match the schema of its declared type and version."""

    def __init__(self, event_type: str, version: int, error: ValidationError) -> None:
        super().__init__(f"invalid {event_type} v{version}: {error}")
        self.event_type = event_type
        self.version = version
        self.error = error


class EventCatalog:
    """The events of one service: decode any known version into the newest model.

    >>> catalog = EventCatalog("registry", [ResidentRegistered])
    >>> catalog.decode("registry.ResidentRegistered", 1, {...})

    A catalogue also says where its events travel: on ``topic`` (by default the service's own
    ``<source>.events``), published by Anju or, with ``inbound=True``, received from another
    system. Another system's topic is declared the same way::

        EventCatalog("hotline12345", [WorkOrderSubmitted],
                     topic="inbound.hotline12345.orders", inbound=True)

    ``also`` names events published on another topic as well as the catalogue's own: an answer
    another system reads on its topic (``{WorkOrderAnswered: "outbound.hotline12345.replies"}``).
    """

    def __init__(
        self,
        source: str,
        events: Iterable[type[Event]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
        *,
        restricted: Iterable[type[Event]] = (),
        topic: str | None = None,
        inbound: bool = False,
        also: Mapping[type[Event], str] | None = None,
    ) -> None:
        self.source = source
        self.topic = topic or f"{source}.events"
        """The Kafka topic the events travel on: ``<source>.events`` unless declared."""
        self.inbound = inbound
        """True for a topic Anju *receives* from another system (it subscribes to it); False for
        one Anju publishes (its own events, or what it answers another system with). The
        AsyncAPI document gives a published topic a ``send`` operation and a received one a
        ``receive`` operation."""
        self._latest: dict[str, type[Event]] = {}
        restricted = tuple(restricted)
        self.restricted: frozenset[str] = frozenset(m.event_type for m in restricted)
        """Types the service stores but never publishes (clinical facts): no topic, no schema."""
        for model in (*events, *restricted):
            if model.event_type in self._latest:
                raise ValueError(f"duplicate event type {model.event_type}")
            if not model.event_type.startswith(f"{source}."):
                raise ValueError(f"{model.event_type} does not belong to {source}")
            self._latest[model.event_type] = model
        self.also: dict[str, str] = {m.event_type: t for m, t in (also or {}).items()}
        """Event types also published on another topic (by type): the relay sends them to both."""
        if not self.also.keys() <= self._latest.keys() - self.restricted:
            raise ValueError("only a published event of the catalogue can go on another topic")
        self._upcasters = dict(upcasters or {})
        for event_type, version in self._upcasters:
            latest = self._latest.get(event_type)
            if latest is None or version >= latest.event_version:
                raise ValueError(f"upcaster for {event_type} v{version} has nothing to upcast to")

    @property
    def models(self) -> tuple[type[Event], ...]:
        """The published events: those on the service's topic."""
        return tuple(m for t, m in self._latest.items() if t not in self.restricted)

    @property
    def restricted_models(self) -> tuple[type[Event], ...]:
        return tuple(m for t, m in self._latest.items() if t in self.restricted)

    def knows(self, event_type: str) -> bool:
        return event_type in self._latest

    def model(self, event_type: str) -> type[Event]:
        """The newest model of ``event_type`` (KeyError when unknown)."""
        return self._latest[event_type]

    def reads(self, event_type: str, version: int) -> bool:
        """Whether :meth:`decode` accepts ``event_type`` at ``version``: the newest version, or
        an older one that upcasters lead from, step by step, to the newest."""
        model = self._latest.get(event_type)
        if model is None or version > model.event_version or version < 1:
            return False
        return all((event_type, v) in self._upcasters for v in range(version, model.event_version))

    def decode(self, event_type: str, version: int, data: Mapping[str, Any]) -> Event:
        """Validate ``data`` as ``event_type`` at ``version``, upcasting it to the newest version.

        A tolerant reader: fields the model does not declare are ignored, at any depth, so an
        event a newer producer enriched with an optional field still decodes.

        Raises :class:`UnknownEvent` for an unknown type, or a version newer than this code knows
        or older than any upcaster reaches; :class:`InvalidEvent` when the payload is invalid.
        """
        model = self._latest.get(event_type)
        if model is None or not self.reads(event_type, version):
            raise UnknownEvent(event_type, version)
        payload = dict(data)
        while version < model.event_version:
            payload = self._upcasters[(event_type, version)](payload)
            version += 1
        try:
            return model.model_validate(payload, extra="ignore")
        except ValidationError as error:
            raise InvalidEvent(event_type, model.event_version, error) from error
