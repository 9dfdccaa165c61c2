"""Numbers of the certificates Anju issues, which anyone holding one can check without a token.

A number reads ``ANJU-<letter>-<year>-<8 hex digits>``: the letter says what kind of
certificate it is, the digits are random (guessing a valid number is one chance in four
billion), and the certificate's stream id follows from the number, so a public check loads the
one stream the number names and nothing else. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4, uuid5


@dataclass(frozen=True)
class CertificateNumbers:
    """The numbering of one kind of certificate."""

    letter: str
    """``V`` for a volunteer's certificate of service, ``R`` for a residence certificate."""
    namespace: UUID
    """Derives a certificate's id from its number; fixed for ever once certificates exist."""

    @property
    def pattern(self) -> str:
        """A regular expression a number of this kind matches (for a route's path parameter)."""
        return rf"^ANJU-{self.letter}-[0-9]{{4}}-[0-9A-F]{{8}}$"

    def new(self, issued_on: date) -> str:
        return f"ANJU-{self.letter}-{issued_on.year:04d}-{uuid4().hex[:8].upper()}"

    def id_of(self, number: str) -> UUID:
        """A certificate's id follows from its number, so that anyone holding the number finds
        it."""
        return uuid5(self.namespace, number)


def mask_name(name: str) -> str:
    """A name as a public check shows it: the first and last characters (王*英, 李*)."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
