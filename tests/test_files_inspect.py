"""Personal-data inspection: valid identifiers counted, decoys and encrypted content ignored."""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import zipfile
from pathlib import Path

from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from sentinel.files import encryption
from sentinel.files.identifiers import MAX_MATCH, find_identifiers
from sentinel.files.inspect import CHUNK, InspectionCache, inspect_bytes, inspect_fd
from tests.gpgtool import encrypt


def make_nir(rng: random.Random, department: str | None = None) -> str:
    """A NIR with a valid key: 97 - (number mod 97), 2A -> 19 and 2B -> 18 for Corsica."""
    dept = department or f"{rng.randint(1, 95):02d}"
    body = (
        f"{rng.choice('12')}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{dept}"
        f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    )
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return f"{body}{97 - number % 97:02d}"


def make_iban(rng: random.Random) -> str:
    bank = f"{rng.randint(0, 10**10 - 1):010d}"
    bban = f"{bank}{rng.randint(0, 10**11 - 1):011d}{rng.randint(0, 99):02d}"
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(digits) % 97:02d}{bban}"


def wrong_key(nir: str) -> str:
    return nir[:13] + f"{(int(nir[13:]) + 1) % 100:02d}"


def spaced(nir: str) -> str:
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def test_generators_agree_with_stdnum() -> None:
    rng = random.Random(7)
    for dept in (None, "2A", "2B"):
        assert stdnum_nir.is_valid(make_nir(rng, dept))
    assert stdnum_iban.is_valid(make_iban(rng))
    assert not stdnum_nir.is_valid(wrong_key(make_nir(rng)))


def test_valid_identifiers_counted_decoys_ignored_and_masked() -> None:
    rng = random.Random(1)
    nirs = [make_nir(rng), make_nir(rng, "2A"), make_nir(rng, "2B")]
    text = "\n".join(
        [f"patient;{n}" for n in nirs]
        + [f"spaced;{spaced(make_nir(rng))}", f"iban;{make_iban(rng)}"]
        + [f"decoy;{wrong_key(make_nir(rng))}", "decoy;FR7630006000011234567890188"]
        + ["phone;06 12 34 56 78", "mail;jean.dupont@example.org"]
    ).encode()
    found = inspect_bytes(text, 1 << 20)
    assert found.counts == {"nir": 4, "iban": 1, "phone": 1, "email": 1}
    assert found.samples["nir"].count("*") == 8
    assert found.samples["iban"].startswith("FR") and "****" in found.samples["iban"]
    rendered = repr(found)
    for nir in nirs:
        assert nir not in rendered and spaced(nir) not in rendered
    assert "dupont" not in rendered


def test_identifier_split_across_chunks_counted_once() -> None:
    rng = random.Random(2)
    nir = make_nir(rng)
    boundary = encryption.HEAD_SIZE + CHUNK  # the head is read first, then whole chunks
    for offset in range(boundary - 25, boundary + 2):
        data = b"x" * offset + b";" + spaced(nir).encode() + b"\n" + b"y" * 100
        assert inspect_bytes(data, 1 << 30).counts == {"nir": 1}, offset


def test_lookbehind_context_preserved_at_chunk_edges() -> None:
    # A long digit run must never yield a NIR starting in its middle, whatever the cut.
    rng = random.Random(3)
    nir = make_nir(rng)
    for shift in range(-3, 4):
        run = b"9" * (encryption.HEAD_SIZE - MAX_MATCH + shift) + nir.encode() + b"\n"
        assert inspect_bytes(run, 1 << 30).counts == {}, shift


def test_gzip_and_zip_members_are_read() -> None:
    rng = random.Random(4)
    csv = "\n".join(make_nir(rng) for _ in range(5)).encode()
    assert inspect_bytes(gzip.compress(csv), 1 << 20).counts == {"nir": 5}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/export.csv", csv)
        archive.writestr("b.txt.gz", gzip.compress(csv))
    assert inspect_bytes(buffer.getvalue(), 1 << 20).counts == {"nir": 10}


def test_size_cap_truncates() -> None:
    rng = random.Random(5)
    csv = "\n".join(make_nir(rng) for _ in range(1000)).encode()
    found = inspect_bytes(csv, 160)
    assert found.truncated and 0 < found.counts["nir"] < 20


def test_encrypted_formats_recognised(tmp_path: Path) -> None:
    rng = random.Random(6)
    plain = tmp_path / "export.csv"
    plain.write_text("\n".join(make_nir(rng) for _ in range(50)))
    for armor in (False, True):
        out = tmp_path / f"export{int(armor)}.gpg"
        encrypt(plain, out, tmp_path, armor=armor)
        found = inspect_bytes(out.read_bytes(), 1 << 20)
        assert found.encrypted in ("openpgp", "openpgp-armored") and not found.counts
    enc_zip = tmp_path / "enc.zip"
    subprocess.run(["zip", "-q", "-P", "secret", "-j", str(enc_zip), str(plain)], check=True)
    assert inspect_bytes(enc_zip.read_bytes(), 1 << 20).encrypted == "zip-encrypted"
    seven = tmp_path / "enc.7z"
    subprocess.run(
        ["7z", "a", "-psecret", "-mhe=on", str(seven), str(plain)], check=True, capture_output=True
    )
    with seven.open("rb") as handle:
        assert inspect_fd(handle.fileno(), 1 << 20).encrypted == "7z-encrypted"
    assert encryption.classify(b"age-encryption.org/v1\n-> X25519 abc\n") == "age"
    cms = bytes.fromhex("3080") + bytes.fromhex("06092a864886f70d010703") + b"\x00" * 8
    assert encryption.classify(cms) == "cms"
    assert inspect_bytes(rng.randbytes(1 << 16), 1 << 20).skipped == "opaque"


def test_cache_bounded() -> None:
    cache = InspectionCache(limit=2)
    found = inspect_bytes(b"nothing", 10)
    for key in range(3):
        cache.put((0, key, 0, 0), found)
    assert len(cache) == 2 and cache.get((0, 0, 0, 0)) is None


def test_find_identifiers_respects_pos() -> None:
    rng = random.Random(8)
    data = f"{make_nir(rng)} {make_nir(rng)}".encode()
    assert len(list(find_identifiers(data, 0))) == 2
    assert len(list(find_identifiers(data, 5))) == 1
