"""Recognises encrypted content from a file's first bytes: such a file is not flagged."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections import Counter

HEAD_SIZE = 64 * 1024  # bytes a caller should read for `classify`
HIGH_ENTROPY = 7.5  # bits per byte: compressed or encrypted data, not text
_MIN_ENTROPY_SAMPLE = 4096

# DER-encoded OIDs of CMS content types that carry encrypted content.
_CMS_ENCRYPTED_OIDS = (
    bytes.fromhex("06092a864886f70d010703"),  # envelopedData
    bytes.fromhex("06092a864886f70d010706"),  # encryptedData
    bytes.fromhex("060b2a864886f70d0109100117"),  # authEnvelopedData
)
_PGP_ENCRYPTED_TAGS = {1, 3, 18, 20}  # PKESK, SKESK, SEIPD, AEAD
_7Z_MAGIC = b"7z\xbc\xaf\x27\x1c"
_7Z_AES = bytes.fromhex("06f10701")
_ZIP_LOCAL = b"PK\x03\x04"


def _openpgp_binary(head: bytes) -> bool:
    """A binary OpenPGP message opens with an encryption packet (RFC 4880/9580 headers)."""
    if len(head) < 3 or not head[0] & 0x80:
        return False
    first = head[0]
    if first & 0x40:  # new packet format
        tag, body = first & 0x3F, 2 if head[1] < 192 else 3
    else:
        tag, body = (first >> 2) & 0x0F, 1 + (1, 2, 4, 0)[first & 0x03]
    if tag not in _PGP_ENCRYPTED_TAGS or body >= len(head):
        return False
    version = head[body]
    expected = {1: (3, 6), 3: (4, 5, 6), 18: (1, 2), 20: (1,)}[tag]
    return version in expected


def _cms(head: bytes) -> bool:
    if len(head) < 16 or head[0] != 0x30:
        return False
    return any(oid in head[:32] for oid in _CMS_ENCRYPTED_OIDS)


def _pem_cms(head: bytes) -> bool:
    for marker in (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----"):
        start = head.find(marker)
        if start < 0:
            continue
        lines = head[start + len(marker) :].split(b"-----END", 1)[0].split()
        try:
            der = base64.b64decode(b"".join(lines)[:64] + b"==", validate=False)
        except (binascii.Error, ValueError):
            return False
        return _cms(der)
    return False


def _encrypted_zip(head: bytes) -> bool:
    """The first member's general-purpose flag has bit 0 (encrypted) set."""
    if not head.startswith(_ZIP_LOCAL) or len(head) < 8:
        return False
    (flags,) = struct.unpack_from("<H", head, 6)
    return bool(flags & 1)


def _encrypted_7z(head: bytes, tail: bytes | None) -> bool:
    """A 7z archive whose (next) header names the AES coder: encrypted headers or data."""
    if not head.startswith(_7Z_MAGIC):
        return False
    return _7Z_AES in head[32:] or (tail is not None and _7Z_AES in tail)


def entropy(data: bytes) -> float:
    """Shannon entropy in bits per byte."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in Counter(data).values())


_MAGIC = (b"age-encryption.org/v1\n", _ZIP_LOCAL, _7Z_MAGIC)


def may_be_encrypted(head: bytes) -> bool:
    """What every check of `classify` needs, in a few C calls: a binary first byte (OpenPGP,
    DER), a magic number, or an armour line (PGP, age, PEM)."""
    if head and (head[0] & 0x80 or head[0] == 0x30):
        return True
    return head.startswith(_MAGIC) or b"-----BEGIN" in head


def classify(head: bytes, tail: bytes | None = None) -> str | None:  # noqa: PLR0911 (a return per format reads as the list it is; a table of lambdas cost 2x)
    """The kind of encryption recognised in a file's first bytes (and 7z's header), or None.

    The first check that holds names it, in this order; a later one is not evaluated.
    """
    if not may_be_encrypted(head):
        return None
    stripped = head.lstrip()
    if stripped.startswith(b"-----BEGIN PGP MESSAGE-----"):
        return "openpgp-armored"
    if head.startswith(b"age-encryption.org/v1\n"):
        return "age"
    if stripped.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
        return "age-armored"
    if _openpgp_binary(head):
        return "openpgp"
    if _cms(head) or _pem_cms(stripped):
        return "cms"
    if _encrypted_zip(head):
        return "zip-encrypted"
    if _encrypted_7z(head, tail):
        return "7z-encrypted"
    return None


def looks_opaque(head: bytes) -> bool:
    """High entropy: compressed or encrypted bytes, where no identifier can be read."""
    return len(head) >= _MIN_ENTROPY_SAMPLE and entropy(head) >= HIGH_ENTROPY
