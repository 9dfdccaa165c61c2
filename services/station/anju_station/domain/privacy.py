"""What the desk must never write down: account numbers, passwords, payment details.

The elderly window helps older residents pay bills online; what it records is that help
happened, the kind of bill and the outcome. A note that looks like it holds a card or account
number, a password or a verification code is refused, before anything is stored.
"""

from __future__ import annotations

import re

from anju_station.domain.errors import PaymentDetailsRefused

_DIGITS = re.compile(r"(?:\d[\s-]?){8,}")
"""Eight digits or more, spaces and dashes allowed between them: a card, an account, a meter."""
_WORDS = re.compile(
    r"密码|口令|验证码|卡号|账号|帐号|户号|CVV|CVC|PIN\b|password|passcode|card\s*number|"
    r"account\s*number|银行卡|支付宝|微信支付",
    re.IGNORECASE,
)


def check_no_payment_details(text: str | None, *, field: str) -> None:
    """Refuse ``text`` if it looks like it holds payment credentials."""
    if text is None:
        return
    if _DIGITS.search(text) or _WORDS.search(text):
        raise PaymentDetailsRefused(
            "the desk records that help happened and its outcome, never account numbers,"
            " passwords or payment details",
            field=field,
        )
