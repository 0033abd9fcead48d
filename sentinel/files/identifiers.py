"""Personal identifiers in bytes: regex candidates, stdnum validation, masked samples.

The regexes run only on runs of the bytes an identifier is made of (found at memory speed),
a fast check-digit test screens their matches, and only those go through python-stdnum.
Nothing here keeps or returns an identifier in clear: callers get a kind and a masked form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass

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
# Every DIGITS match is a run of these bytes, at least _SHORTEST long (a national phone
# number): runs are found with bytes.translate and bytes.find, at memory speed, and the
# regex runs on them only. Same for EMAIL, on runs of its bytes that hold an "@".
_SHORTEST = 10
_DIGITS_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZab +.-"
_EMAIL_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._%+-@"
_MAX_LOCAL = 64  # an e-mail match starts at most this far before its "@"


def _classes(members: bytes) -> bytes:
    """A translation table: member bytes to "x", every other byte to "."."""
    return bytes(0x78 if byte in members else 0x2E for byte in range(256))


_DIGITS_CLASS, _EMAIL_CLASS = _classes(_DIGITS_BYTES), _classes(_EMAIL_BYTES)
_RUN = b"x" * _SHORTEST


@dataclass(frozen=True, slots=True)
class Found:
    """One validated identifier: its kind, its masked form, where it starts in the buffer."""

    kind: str
    masked: str
    start: int


def _compact(raw: bytes) -> str:
    return raw.translate(None, b" .-").decode("ascii", "replace")


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


def _stdnum_valid(kind: str, number: str) -> bool:
    """python-stdnum's verdict; imported on first use (35 ms), past the fast checks."""
    if kind == "nir":
        from stdnum.fr import nir

        return bool(nir.is_valid(number))
    from stdnum import iban

    return bool(iban.is_valid(number))


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
        return self._confirm("nir", _stdnum_valid("nir", number))

    def iban(self, raw: bytes) -> str | None:
        """The IBAN at the start of `raw`: a greedy candidate may have swallowed a next word."""
        text = _compact(raw).upper()
        for end in range(len(text), 14, -1):
            if not _iban_sum_ok(text[:end]):
                continue
            if self._confirmed["iban"] >= TRUST_AFTER:
                return text[:end]
            if self._confirm("iban", _stdnum_valid("iban", text[:end])):
                return text[:end]
        return None


def _digit_spans(buffer: bytes, pos: int) -> Iterator[tuple[int, int]]:
    """Runs of DIGITS bytes at least _SHORTEST long, from `pos`."""
    mapped = buffer.translate(_DIGITS_CLASS)
    found = mapped.find(_RUN, pos)
    while found >= 0:
        end = mapped.find(b".", found)
        end = len(mapped) if end < 0 else end
        yield max(mapped.rfind(b".", 0, found) + 1, pos), end
        found = mapped.find(_RUN, end)


def _email_spans(buffer: bytes, pos: int) -> Iterator[tuple[int, int]]:
    """Runs of e-mail bytes holding an "@", from `pos`: the "@" itself marks them."""
    mapped = buffer.translate(_EMAIL_CLASS)
    found = buffer.find(b"@", pos)
    while found >= 0:
        end = mapped.find(b".", found)
        end = len(mapped) if end < 0 else end
        # this is the first "@" from where the search stands: a match starting there or
        # later starts at most _MAX_LOCAL bytes before it
        yield max(mapped.rfind(b".", 0, found) + 1, pos, found - _MAX_LOCAL), end
        found = buffer.find(b"@", end)


def may_hold(buffer: bytes, pos: int = 0) -> bool:
    """False when no identifier can start at or after `pos`: no run of bytes long enough for
    DIGITS, no "@" for EMAIL (most buffers). Two C calls over the bytes."""
    return buffer.translate(_DIGITS_CLASS).find(_RUN, pos) >= 0 or buffer.find(b"@", pos) >= 0


def candidates(buffer: bytes, pos: int = 0) -> Iterator[re.Match[bytes]]:
    """The matches of DIGITS, then of EMAIL, from `pos`: `finditer`'s, found faster.

    A match lies within one run of its pattern's bytes and the lookarounds only look at
    bytes outside the run, which are searched with it (one byte past its end, and before
    `pos` as `finditer` does), so matching run by run gives exactly `finditer`'s matches.
    """
    for start, end in _digit_spans(buffer, pos):
        yield from DIGITS.finditer(buffer, start, end + 1)
    if b"@" in buffer:
        for start, end in _email_spans(buffer, pos):
            yield from EMAIL.finditer(buffer, start, end + 1)


def _validated(
    buffer: bytes, pos: int = 0, validator: Validator | None = None
) -> Iterator[tuple[str, int, str]]:
    """(kind, start, identifier in clear) of each valid identifier: never leaves this module."""
    check = validator or Validator()
    for match in candidates(buffer, pos):
        kind = match.lastgroup
        if kind == "nir":
            number = _compact(match.group()).upper()
            if check.nir(number):
                yield "nir", match.start(), number
        elif kind == "iban":
            valid = check.iban(match.group())
            if valid is not None:
                yield "iban", match.start(), valid
        elif kind == "phone":
            yield "phone", match.start(), _compact(match.group())
        else:
            yield "email", match.start(), match.group().decode("ascii")


_MASKS = {"nir": mask_nir, "iban": mask_iban, "phone": mask_phone, "email": mask_email}


def find_identifiers(
    buffer: bytes, pos: int = 0, validator: Validator | None = None
) -> Iterator[Found]:
    """Validated identifiers starting at or after `pos` (earlier bytes give context only)."""
    for kind, start, number in _validated(buffer, pos, validator):
        yield Found(kind, _MASKS[kind](number), start)


class DistinctIds:
    """Distinct identifiers of each kind, known only by a keyed hash: never in clear.

    Each identifier is kept as the first 16 bytes of its HMAC-SHA256 under `key`, which
    the caller draws at random for one run and never stores or shows, so the digests
    cannot be matched against a list of candidate numbers. State: at most `cap` digests
    per kind; past that `saturated` is set and the counts are lower bounds.
    """

    __slots__ = ("_key", "cap", "digests", "saturated")

    def __init__(self, key: bytes, cap: int = 1_000_000) -> None:
        self._key = key
        self.cap = cap
        self.digests: dict[str, set[bytes]] = {}
        self.saturated = False

    def add(self, kind: str, number: str) -> None:
        seen = self.digests.setdefault(kind, set())
        if len(seen) >= self.cap:
            self.saturated = True
            return
        seen.add(hmac.new(self._key, number.encode(), hashlib.sha256).digest()[:16])

    def merge(self, other: DistinctIds) -> None:
        for kind, digests in other.digests.items():
            seen = self.digests.setdefault(kind, set())
            room = self.cap - len(seen)
            if len(digests) > room and not digests <= seen:
                self.saturated = True
            seen.update(digests if len(digests) <= room else list(digests)[:room])
        self.saturated = self.saturated or other.saturated

    def counts(self) -> dict[str, int]:
        return {kind: len(digests) for kind, digests in self.digests.items() if digests}


def count_identifiers(
    buffer: bytes,
    span: tuple[int, int],
    validator: Validator,
    counts: dict[str, int],
    samples: dict[str, str],
    *,
    distinct: DistinctIds | None = None,
) -> None:
    """Counts the identifiers starting within `span` of `buffer` (the bytes around it are
    context) and keeps the first masked sample of each kind; masks only that one.
    `distinct`, when given, learns each identifier's keyed hash."""
    pos, cut = span
    if not may_hold(buffer, pos):
        return
    for kind, start, number in _validated(buffer, pos, validator):
        if start < cut:
            counts[kind] += 1
            if kind not in samples:
                samples[kind] = _MASKS[kind](number)
            if distinct is not None:
                distinct.add(kind, number)
