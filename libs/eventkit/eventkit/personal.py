"""The field cipher: personal fields sealed with their person's key (docs/personal-data.md).

A payload's personal fields (those its contract marks :data:`~anju_contracts.base.Personal`, at
any depth) are each replaced by a *sealed* string::

    pd1:<kind>:<key id>:<nonce>:<ciphertext>

- ``pd1``: the form's version; a later form gets another prefix and both stay readable.
- ``kind``: ``t`` for a text field, which reads ``[已删除]`` once erased; ``v`` for any other
  value (a date, a number, a whole object), which reads ``null``. It is decided when sealing:
  ``t`` when ``[已删除]`` is a valid value of the field.
- ``key id``: the data key (:mod:`eventkit.keys`) of the person the field describes.
- ``nonce`` (12 random bytes) and ``ciphertext`` (AES-256-GCM, tag included): URL-safe base64
  without padding. The plaintext is the field's JSON value, so a date or an object comes back
  as it was.

The associated data is the form's version and kind, the event id and the field's path
(``parties.0.name``): a sealed value copied into another event or another field does not open.

Whose key: the nearest object enclosing the field that has a ``resident_id`` names the person
(``resident:<id>``); without one the field belongs to the record (``record:<source>:<stream>``),
which is how a dispute party, a 12345 caller or a liaison is keyed.

Sealing follows the model (its personal fields, nested models and lists of them included);
opening follows the payload: every sealed string is opened wherever it is, so a payload stored
under an older version opens before its upcasters run. Sealing refuses clear text that spells a
sealed value, so nothing but a value sealed here is ever opened.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import from_json

from anju_contracts.base import PERSONAL_DATA, personal_fields
from eventkit.errors import Invalid
from eventkit.keys import NONCE_BYTES, DataKey, KeyStore

FORM = "pd1"
"""The sealed form's version prefix."""

ERASED_TEXT = "[已删除]"
"""What a text field reads once its key is destroyed (any other personal value reads null)."""

Kind = Literal["t", "v"]

_SEALED = re.compile(
    r"^pd1:(?P<kind>[tv]):(?P<key>[A-Za-z0-9_-]{1,64}):(?P<nonce>[A-Za-z0-9_-]{16}):"
    r"(?P<ciphertext>[A-Za-z0-9_-]{22,})$"
)


def resident_subject(resident_id: UUID | str) -> str:
    """The key subject of a resident: their registry id."""
    return f"resident:{resident_id}"


def record_subject(source: str, stream_id: str) -> str:
    """The key subject of a person known only by the record that names them."""
    return f"record:{source}:{stream_id}"


class SealBroken(ValueError):
    """A sealed value that does not open under its key: altered, or moved from another event
    or field. The event is refused as invalid (a consumer dead-letters it)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the sealed value at {path} does not open: altered or moved")
        self.path = path


@dataclass(frozen=True)
class Sealed:
    """A sealed value, parsed."""

    kind: Kind
    key_id: str
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, text: str) -> Sealed | None:
        """The sealed value ``text`` spells, or ``None`` when it is not one."""
        match = _SEALED.match(text)
        if match is None:
            return None
        spelt_kind, key_id, spelt_nonce, spelt_ciphertext = match.groups()
        try:
            nonce = _unb64(spelt_nonce)
            ciphertext = _unb64(spelt_ciphertext)
        except binascii.Error:
            return None
        if len(nonce) != NONCE_BYTES:
            return None
        kind: Kind = "t" if spelt_kind == "t" else "v"
        return cls(kind, key_id, nonce, ciphertext)

    def render(self) -> str:
        return f"{FORM}:{self.kind}:{self.key_id}:{_b64(self.nonce)}:{_b64(self.ciphertext)}"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and Sealed.parse(value) is not None


def erased_value(kind: Kind) -> str | None:
    return ERASED_TEXT if kind == "t" else None


class FieldCipher:
    """Seals and opens the personal fields of payloads (JSON-mode dicts) with a key store."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def seal(
        self,
        model: type[BaseModel],
        data: Mapping[str, Any],
        *,
        event_id: UUID,
        record: str,
    ) -> dict[str, Any]:
        """``data`` (``event.model_dump(mode="json")``) with every personal field of ``model``
        sealed; ``record`` is the subject of fields no ``resident_id`` claims.

        A personal field that is null stays null: there is nothing to hide. Raises
        ``ValueError`` when any string of ``data`` already spells a sealed value.
        """
        refuse_lookalikes(data)
        keys: dict[str, DataKey] = {}
        sealed = await self._seal_object(model, dict(data), "", record, event_id, keys)
        return sealed

    async def open(self, data: Mapping[str, Any], *, event_id: UUID) -> dict[str, Any]:
        """A copy of ``data`` with every sealed value opened, wherever it is; a value whose key
        is gone reads as erased (``[已删除]`` for text, null otherwise). Raises
        :class:`SealBroken`."""
        copy = _copy(dict(data))  # dict(): a TypeError for what is none
        return await self.open_in_place(copy, event_id=event_id)

    async def open_in_place(self, document: dict[str, Any], *, event_id: UUID) -> dict[str, Any]:
        """:meth:`open`, opening ``document``'s sealed values where they are (for a document
        just parsed, which no one else holds): ``document`` itself, returned."""
        if not isinstance(document, dict):
            raise TypeError(f"a payload is an object, not {type(document).__name__}")
        found: list[_Found] = []
        _find(document, "", found)
        ciphers: dict[str, AESGCM | None] = {}  # by key id: each fetched once per payload
        event = str(event_id)
        for container, slot, sealed, where in found:
            if sealed.key_id not in ciphers:
                key = await self.keys.get(sealed.key_id)
                ciphers[sealed.key_id] = None if key is None else AESGCM(key.material)
            cipher = ciphers[sealed.key_id]
            if cipher is None:
                container[slot] = erased_value(sealed.kind)
                continue
            try:
                plaintext = cipher.decrypt(
                    sealed.nonce, sealed.ciphertext, _associated(sealed.kind, event, where)
                )
            except InvalidTag as error:
                raise SealBroken(where) from error
            container[slot] = from_json(plaintext)
        return document

    async def _seal_object(
        self,
        model: type[BaseModel],
        obj: dict[str, Any],
        path: str,
        subject: str,
        event_id: UUID,
        keys: dict[str, DataKey],
    ) -> dict[str, Any]:
        if obj.get("resident_id"):
            subject = resident_subject(obj["resident_id"])
        personal = personal_fields(model)
        for name, info in model.model_fields.items():
            key = info.alias or name
            if key not in obj or obj[key] is None:
                continue
            value, where = obj[key], f"{path}{key}"
            if name in personal:
                kind = kind_of(model, name) if isinstance(value, str) else "v"
                if subject not in keys:
                    keys[subject] = await self.keys.obtain(subject)
                obj[key] = _seal_value(value, kind, keys[subject], event_id, where)
                continue
            item_kind = personal_items(model, name)
            if item_kind is not None and isinstance(value, list):
                # each item is a person's (attendees): erased, the list keeps its length
                if subject not in keys:
                    keys[subject] = await self.keys.obtain(subject)
                obj[key] = [
                    _seal_value(
                        item,
                        item_kind if isinstance(item, str) else "v",
                        keys[subject],
                        event_id,
                        f"{where}.{i}",
                    )
                    for i, item in enumerate(value)
                ]
                continue
            nested = nested_model(info.annotation)
            if nested is None:
                continue
            if isinstance(value, dict):
                obj[key] = await self._seal_object(
                    nested, dict(value), f"{where}.", subject, event_id, keys
                )
            elif isinstance(value, list):
                obj[key] = [
                    await self._seal_object(
                        nested, dict(item), f"{where}.{i}.", subject, event_id, keys
                    )
                    if isinstance(item, dict)
                    else item
                    for i, item in enumerate(value)
                ]
        return obj


_Found = tuple[Any, Any, Sealed, str]
"""Where a sealed value was found: its container (a dict or list of the copy), its key or index
there, the value parsed, and its path (what it was sealed under)."""

_SEALED_START = f"{FORM}:"


def _find(node: dict[str, Any] | list[Any], prefix: str, found: list[_Found]) -> None:
    """Note every sealed value in ``node``, a payload's dicts and lists, with its path (the
    keys are fetched, and the values opened, once the walk is done). A path is spelt only for
    what is sealed or nested: most of a payload's fields are neither."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for slot, value in items:
        if isinstance(value, str):
            if value.startswith(_SEALED_START):
                sealed = Sealed.parse(value)
                if sealed is not None:
                    found.append((node, slot, sealed, f"{prefix}{slot}"))
        elif isinstance(value, dict | list):
            _find(value, f"{prefix}{slot}.", found)


def _copy(node: Any) -> Any:
    """A copy of a payload's dicts and lists (what :meth:`FieldCipher.open` changes)."""
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(item) for item in node]
    return node


@cache
def personal_items(model: type[BaseModel], name: str) -> Kind | None:
    """For a list whose items are marked personal (``list[Annotated[str, Personal]]``), the
    kind of each item; ``None`` for any other field."""
    annotation = model.model_fields[name].annotation
    if typing.get_origin(annotation) not in (list, tuple):
        return None
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is not Annotated:
            continue
        _, *metadata = typing.get_args(arg)
        for meta in metadata:
            extra = getattr(meta, "json_schema_extra", None)
            if isinstance(extra, dict) and extra.get(PERSONAL_DATA):
                adapter: TypeAdapter[Any] = TypeAdapter(arg)
                try:
                    adapter.validate_python(ERASED_TEXT)
                except ValidationError:
                    return "v"
                return "t"
    return None


@cache
def carries_personal(model: type[BaseModel]) -> bool:
    """Whether ``model`` has a personal field at any depth: its payloads are sealed."""
    for name, info in model.model_fields.items():
        if name in personal_fields(model) or personal_items(model, name) is not None:
            return True
        nested = nested_model(info.annotation)
        if nested is not None and nested is not model and carries_personal(nested):
            return True
    return False


SEALED_MARK = '"pd1:'
"""What the JSON text of a payload holding a sealed value contains: a cheap test before
parsing (a payload without it has nothing to open)."""


def _seal_value(value: Any, kind: Kind, key: DataKey, event_id: UUID, path: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext, _associated(kind, event_id, path))
    return Sealed(kind, key.id, nonce, ciphertext).render()


def _associated(kind: Kind, event_id: UUID | str, path: str) -> bytes:
    """What a sealed value is bound to: its kind, its event and its place (``event_id`` may be
    given already spelt, as :meth:`FieldCipher.open` does once per payload)."""
    return f"{FORM}:{kind}:{event_id}:{path}".encode()


class SealedValueInInput(Invalid):
    """Text that spells a sealed value (``pd1:…``), in what a command would record: refused,
    since every reader would try to open it (and set aside the event when it does not open)."""

    code = "sealed_value_not_allowed"


def refuse_lookalikes(node: Any, path: str = "") -> None:
    """Raise :class:`SealedValueInInput` when any string in ``node`` spells a sealed value."""
    if isinstance(node, Mapping):
        for k, v in node.items():
            refuse_lookalikes(v, f"{path}{k}.")
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            refuse_lookalikes(v, f"{path}{i}.")
    elif is_sealed(node):
        field = path[:-1]
        raise SealedValueInInput(f"{field} spells a sealed value", field=field)


@cache
def kind_of(model: type[BaseModel], name: str) -> Kind:
    """``t`` when the field accepts ``[已删除]`` (free text, a name), else ``v``."""
    info = model.model_fields[name]
    annotation: Any = (
        Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    try:
        adapter.validate_python(ERASED_TEXT)
    except ValidationError:
        return "v"
    return "t"


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, alone, optional, or in a list or tuple."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = nested_model(arg)
        if found is not None:
            return found
    return None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _unb64(text: str) -> bytes:
    """The bytes of unpadded URL-safe base64 ``text`` (whose alphabet :data:`_SEALED` checked).
    Raises ``binascii.Error`` when its length cannot be base64's.

    Translated as bytes: ``str.translate`` looks each character up in a mapping, six times
    slower, and a rebuild parses two of these per sealed value."""
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    return binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
