"""Personal identifiers in bytes: regex candidates, stdnum validation, masked samples.

A cheap regex finds candidates; only those go through python-stdnum. Nothing here keeps
or returns an identifier in clear: callers get a kind and a masked form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

STRONG = ("nir", "iban")  # identifiers that make a file personal data on their own
WEAK = ("email", "phone")  # personal, but common in ordinary documents too
KINDS = STRONG + WEAK
MAX_MATCH = 400  # longest candidate any pattern can produce, in bytes

_SEP = rb"[ .\-]?"
# French NIR: sex, year, month, department (2A/2B for Corsica), commune, order, key.
_NIR = (
    rb"(?P<nir>[123478]" + _SEP + rb"\d\d" + _SEP + rb"\d\d" + _SEP + rb"(?:\d\d|2[ABab])"
    rb"" + _SEP + rb"\d{3}" + _SEP + rb"\d{3}" + _SEP + rb"\d\d)"
)
# IBAN: country, check digits, then the BBAN, compact or in groups of four.
_IBAN = rb"(?P<iban>[A-Z]{2}\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)"
# French phone numbers, national or international form.
_PHONE = rb"(?P<phone>(?:\+33 ?|0033 ?|0)[1-9](?:[ .\-]?\d\d){4})"
DIGITS = re.compile(
    rb"(?<![0-9A-Za-z])(?:" + _NIR + rb"|" + _IBAN + rb"|" + _PHONE + rb")(?![0-9A-Za-z])"
)
EMAIL = re.compile(
    rb"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}"
    rb"\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


@dataclass(frozen=True, slots=True)
class Found:
    """One validated identifier: its kind, its masked form, where it starts in the buffer."""

    kind: str
    masked: str
    start: int


def _compact(raw: bytes) -> str:
    return raw.decode("ascii", "replace").replace(" ", "").replace(".", "").replace("-", "")


def mask_nir(number: str) -> str:
    """`2 95 10 ** *** *** 93`: sex, birth year and month, key; never the place or order."""
    return f"{number[0]} {number[1:3]} {number[3:5]} ** *** *** {number[13:15]}"


def mask_iban(number: str) -> str:
    """`FR76 **** ... 1234`: country, check digits and the last four characters."""
    return f"{number[:4]} **** ... {number[-4:]}"


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}"


def mask_phone(number: str) -> str:
    return f"** ** ** ** {number[-2:]}"


_LETTERS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})
TRUST_AFTER = 64  # stdnum confirmations of a kind before the fast check alone is trusted


def _nir_key_ok(number: str) -> bool:
    body = number[:13]
    if body[5:7] in ("2A", "2B"):
        body = body[:5] + ("19" if body[6] == "A" else "18") + body[7:]
    return body.isdigit() and number[13:].isdigit() and 97 - int(body) % 97 == int(number[13:])


def _iban_sum_ok(number: str) -> bool:
    rearranged = (number[4:] + number[:4]).translate(_LETTERS)
    return rearranged.isdigit() and int(rearranged) % 97 == 1


class Validator:
    """Validates candidates: a fast check-digit test first, then python-stdnum.

    Decoys (wrong keys) stop at the fast test. A file holding thousands of identifiers
    would spend its time in stdnum's format tables, so once stdnum has confirmed
    `TRUST_AFTER` of one kind in this file without ever disagreeing, the fast test
    (the same mod-97 arithmetic) decides alone. One instance per file.
    """

    __slots__ = ("_confirmed",)

    def __init__(self) -> None:
        self._confirmed = {"nir": 0, "iban": 0}

    def _confirm(self, kind: str, valid: bool) -> bool:
        if valid:
            self._confirmed[kind] += 1
        else:
            self._confirmed[kind] = -(1 << 30)  # a disagreement: stdnum decides from now on
        return valid

    def nir(self, number: str) -> bool:
        if not _nir_key_ok(number):
            return False
        if self._confirmed["nir"] >= TRUST_AFTER:
            return True
        return self._confirm("nir", stdnum_nir.is_valid(number))

    def iban(self, raw: bytes) -> str | None:
        """The IBAN at the start of `raw`: a greedy candidate may have swallowed a next word."""
        text = _compact(raw).upper()
        for end in range(len(text), 14, -1):
            if not _iban_sum_ok(text[:end]):
                continue
            if self._confirmed["iban"] >= TRUST_AFTER:
                return text[:end]
            if self._confirm("iban", stdnum_iban.is_valid(text[:end])):
                return text[:end]
        return None


def find_identifiers(
    buffer: bytes, pos: int = 0, validator: Validator | None = None
) -> Iterator[Found]:
    """Validated identifiers starting at or after `pos` (earlier bytes give context only)."""
    check = validator or Validator()
    for match in DIGITS.finditer(buffer, pos):
        kind = match.lastgroup
        raw = match.group()
        if kind == "nir":
            number = _compact(raw).upper()
            if check.nir(number):
                yield Found("nir", mask_nir(number), match.start())
        elif kind == "iban":
            valid = check.iban(raw)
            if valid is not None:
                yield Found("iban", mask_iban(valid), match.start())
        elif kind == "phone":
            yield Found("phone", mask_phone(_compact(raw)), match.start())
    if b"@" in buffer:
        for match in EMAIL.finditer(buffer, pos):
            yield Found("email", mask_email(match.group().decode("ascii")), match.start())
