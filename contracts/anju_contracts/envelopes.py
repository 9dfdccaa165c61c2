"""Typed envelopes: for each event, the envelope with ``type``, ``version`` and ``data`` pinned.

They give each service one discriminated union over its events (by ``type``), which is what the
JSON Schema files and the AsyncAPI document are generated from, and what an integrator can use
to parse a whole envelope in one call::

    message = read_envelope(registry.CATALOG, envelope_json)  # -> e.g. registry_ResidentRegistered

On Kafka the envelope travels as a CloudEvent (payload as the value, the rest in headers): read
a message with :func:`anju_contracts.cloudevents.read_message`, which also reads the messages
published before, whose value is the whole envelope.

Reading is tolerant: fields a newer producer added (in the envelope or the payload) are ignored.
Whoever validates with the adapter directly passes ``extra="ignore"`` for the same effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, create_model

from anju_contracts.base import Envelope, Event, EventCatalog


@cache
def typed_envelope(model: type[Event]) -> type[Envelope]:
    """The envelope of ``model``'s newest version, named like ``registry_ResidentRegistered``."""
    typed: type[Envelope] = create_model(
        model.event_type.replace(".", "_"),
        __base__=Envelope,
        __doc__=model.__doc__,
        type=(Literal[model.event_type], ...),  # type: ignore[arg-type]
        version=(Literal[model.event_version], ...),  # type: ignore[arg-type]
        data=(model, ...),
    )
    return typed


def typed_envelopes(catalog: EventCatalog) -> list[type[Envelope]]:
    return [typed_envelope(m) for m in catalog.models]


@cache
def envelope_adapter(catalog: EventCatalog) -> TypeAdapter[Any]:
    """One discriminated union over a service's envelopes, built once per catalog."""
    members = tuple(typed_envelopes(catalog))
    union = Annotated[Union[members], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union)


def read_envelope(catalog: EventCatalog, value: str | bytes | Mapping[str, Any]) -> Envelope:
    """A message of ``catalog``'s topic (its Kafka value, or that value parsed) as the typed
    envelope of its ``type``, ignoring fields this version of the contracts does not know.

    Raises pydantic's ``ValidationError`` for a type the catalogue does not publish, a version
    other than the newest (use :meth:`EventCatalog.decode` to upcast an older one), or a payload
    that does not match.
    """
    adapter = envelope_adapter(catalog)
    if isinstance(value, str | bytes):
        message: Envelope = adapter.validate_json(value, extra="ignore")
    else:
        message = adapter.validate_python(value, extra="ignore")
    return message
