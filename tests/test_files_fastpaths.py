"""The scan's fast paths give exactly what the plain ones gave: regex, globs, reads, facts."""

from __future__ import annotations

import base64
import fnmatch
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentinel.config.model import DirectoryConfig
from sentinel.files import encryption, identifiers
from sentinel.files.audit import DirectoryAuditor
from sentinel.files.identifiers import DIGITS, EMAIL, Found, find_identifiers
from sentinel.files.inspect import inspect_bytes, inspect_open
from sentinel.files.safeopen import Refused, open_entry
from sentinel.files.scan import Filters, listings, walk
from sentinel.files.stale import stale_alert, stale_files
from sentinel.rules.settings import StaleFileSettings
from tests.test_files_inspect import make_iban, make_nir, spaced, wrong_key

DAY = 86400.0


def _reference(buffer: bytes, pos: int) -> Iterator[tuple[str, int]]:
    """What find_identifiers looked at before its pre-filter: finditer over everything."""
    yield from ((m.lastgroup or "", m.start()) for m in DIGITS.finditer(buffer, pos))
    yield from (("email", m.start()) for m in EMAIL.finditer(buffer, pos))


def _noise(rng: random.Random) -> str:
    rng_pieces = [
        make_nir(rng),
        spaced(make_nir(rng)),
        wrong_key(make_nir(rng)),
        make_iban(rng),
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "jean.dupont@example.org",
        "a@b@c.fr",
        "x" * 70 + "@example.com",
        "S12345678",
        "2A",
        "ab",
    ]
    alphabet = "0123456789 .-;@abAZxz\n+_%"
    parts = []
    for _ in range(rng.randint(1, 30)):
        if rng.random() < 0.3:
            parts.append(rng.choice(rng_pieces))
        else:
            parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))))
    return "".join(parts)


def test_candidates_are_finditer_matches() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        data = _noise(rng).encode()
        pos = rng.randint(0, len(data))
        got = [(m.lastgroup or "email", m.start()) for m in identifiers.candidates(data, pos)]
        assert got == list(_reference(data, pos)), (data, pos)


def test_found_identifiers_unchanged() -> None:
    rng = random.Random(12)
    text = "\n".join(_noise(rng) for _ in range(200)).encode()
    found = list(find_identifiers(text))
    assert {f.kind for f in found} == {"nir", "iban", "phone", "email"}
    assert all(isinstance(f, Found) and "*" in f.masked for f in found)


@pytest.mark.parametrize(
    ("include", "exclude"),
    [
        (("*",), (".*",)),
        (("*",), ()),
        (("*.csv", "*.txt"), (".*", "tmp/*")),
        (("*",), ("*.tmp", "[!a]*")),
        (("a/*", "*.CSV"), ()),
    ],
)
def test_compiled_globs_answer_as_fnmatchcase(
    include: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    filters = Filters(include, exclude)
    keep = filters.keep()
    for rel in ["a.csv", ".h", "tmp/x.csv", "a/b.txt", "b.CSV", "x.tmp", "a/.b", "z", "a/z"]:
        prefix, _, name = rel.rpartition("/")
        prefix = prefix + "/" if prefix else ""

        def any_of(patterns: tuple[str, ...], rel: str = rel, name: str = name) -> bool:
            return any(fnmatch.fnmatchcase(rel if "/" in p else name, p) for p in patterns)

        expected = any_of(include) and not any_of(exclude)
        kept = keep(prefix, [(name, os.stat("."))])
        assert filters.wants_file(rel, name) == expected == bool(kept), rel
        assert filters.wants_dir(rel, name) == (not any_of(exclude))


def _file(path: Path, age: float = 0.0, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_listings_come_in_bounded_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sentinel.files.scan.BATCH", 3)
    for i in range(7):
        _file(tmp_path / "d" / f"f{i}")
    sizes = [len(listing.files) for listing in listings(tmp_path, Filters())]
    assert sorted(sizes) == [1, 3, 3]
    assert sorted(f.rel for f in walk(tmp_path, Filters())) == [f"d/f{i}" for i in range(7)]


@pytest.mark.parametrize("age_by", ["mtime", "atime", "ctime", "newest"])
def test_stale_summary_matches_sorting_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, age_by: str
) -> None:
    monkeypatch.setattr("sentinel.files.scan.BATCH", 4)  # examples merged across batches
    rng = random.Random(3)
    for i in range(30):
        path = _file(tmp_path / f"d{i % 3}" / f"f{i}.csv", age=rng.choice([8, 9, 9, 20, 1]) * DAY)
        read = time.time() - rng.choice([1, 10, 30]) * DAY
        os.utime(path, (read, path.stat().st_mtime))
    directory = DirectoryConfig(path=tmp_path, max_age=timedelta(days=7), age_by=age_by)
    now = datetime.now(UTC)
    facts = list(walk(tmp_path, Filters()))
    expected = stale_alert(
        "srv", directory, stale_files(facts, directory, now.timestamp()), now, StaleFileSettings()
    )
    report = DirectoryAuditor("srv", {}).audit(directory, now, keep_facts=True)
    assert report.alerts == ((expected,) if expected else ())
    assert report.figures.stale_files == (expected.count if expected else 0)
    assert report.facts == tuple(facts) and report.files == 30


def test_one_read_or_a_stream_give_the_same_inspection(tmp_path: Path) -> None:
    rng = random.Random(4)
    body = "\n".join(f"p;{make_nir(rng)}" for _ in range(40)).encode()
    path = tmp_path / "f.csv"
    for data in (body, body * 1500):  # under and over WHOLE_READ (1 MiB)
        path.write_bytes(data)
        fd = os.open(path, os.O_RDONLY)
        try:
            found = inspect_open(fd, len(data), 1 << 30)
        finally:
            os.close(fd)
        assert found == inspect_bytes(data, 1 << 30) and found.counts["nir"] > 0


def test_a_file_grown_since_its_fstat_is_read_to_its_end(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "f.csv"
    path.write_text("\n".join(make_nir(rng) for _ in range(10)))
    fd = os.open(path, os.O_RDONLY)
    try:
        found = inspect_open(fd, 20, 1 << 20)  # "its fstat" said 20 bytes
    finally:
        os.close(fd)
    assert found.counts == {"nir": 10}


def test_open_entry_refuses_a_swapped_or_changed_file(tmp_path: Path) -> None:
    target = _file(tmp_path / "f.csv", text="abc")
    walking = listings(tmp_path, Filters())
    listing = next(walking)  # its directory fd stays open until the next one is asked for
    name, seen = listing.files[0]
    fd = open_entry(listing.fd, name, seen)
    assert os.read(fd, 10) == b"abc"
    os.close(fd)
    target.write_text("grown")
    with pytest.raises(Refused):
        open_entry(listing.fd, name, seen)
    target.unlink()
    target.symlink_to("/etc/passwd")
    with pytest.raises(OSError):  # O_NOFOLLOW: ELOOP
        open_entry(listing.fd, name, seen)
    walking.close()


def test_the_quick_no_of_classify_misses_no_format() -> None:
    der = bytes.fromhex("3080") + bytes.fromhex("06092a864886f70d010703") + b"\x00" * 8
    pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(der) + b"-----END CMS-----\n"
    heads = {
        b"  -----BEGIN PGP MESSAGE-----\nabc": "openpgp-armored",
        b"age-encryption.org/v1\n-> X25519 abc\n": "age",
        b"\n-----BEGIN AGE ENCRYPTED FILE-----\n": "age-armored",
        bytes([0x8C, 0x0D, 0x04]) + b"\x00" * 16: "openpgp",
        der: "cms",
        b"\n" + pem: "cms",
        b"PK\x03\x04\x14\x00\x01\x00" + b"\x00" * 30: "zip-encrypted",
        b"7z\xbc\xaf\x27\x1c" + b"\x00" * 26 + bytes.fromhex("06f10701"): "7z-encrypted",
        b"sample_id;value\nS1;2.0\n": None,
        b"0;1;2\n": None,
    }
    for head, kind in heads.items():
        assert encryption.classify(head) == kind, head


def test_whole_reads_agree_with_the_stream_on_random_files(tmp_path: Path) -> None:
    rng = random.Random(13)
    path = tmp_path / "f"
    for _ in range(300):
        data = _noise(rng).encode()
        if rng.random() < 0.1:
            data = b"\x00" + data  # binary
        max_size = rng.choice([len(data), len(data) - 1, 12, 1 << 20])
        path.write_bytes(data)
        with path.open("rb") as handle:
            found = inspect_open(handle.fileno(), len(data), max(max_size, 1))
        assert found == inspect_bytes(data, max(max_size, 1)), (data, max_size)
