"""Podman for tests: the project's Dockerfile built once per session on a Debian 12 base, and
containers started and removed by the names this run gave them.

What these machines need (issue 14): runc and cgroupfs (crun refuses their hybrid cgroups),
ulimits within what is allowed, chroot isolation and the host network for builds. No container
registry is reachable, so the base is made from Debian's packages with mmdebstrap and
`podman import`, and pip installs offline in the image from wheels built here by the host's pip
(which has the CA bundle and the package index). Both inputs are cached by content under
.cache/containers ($SENTINEL_TEST_CACHE): a new package list or dependency list makes new ones.
The session's images and containers are removed at the end; the cache files are kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SENTINEL_TEST_CACHE", REPO / ".cache" / "containers"))
PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs")
# No health-check timer: podman would ask the host's systemd for one, and there may be none;
# tests run the check themselves with `podman healthcheck run`.
RUN_OPTIONS = (
    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--health-interval=disable",
)  # fmt: skip
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# systemd, systemd-sysv and dbus let the same base boot the unit (test_systemd_boot.py); they
# add about 17 MB. No procps: the unit must not need /bin/kill.
PACKAGES = ("python3", "python3-venv", "ca-certificates", "systemd", "systemd-sysv", "dbus")
DPKG_OPTIONS = (
    "force-unsafe-io",
    "path-exclude=/usr/share/doc/*",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)
MAKE_TIMEOUT = 900  # seconds: mmdebstrap or pip wheel on a cold cache, a busy 2-core machine
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 60


class PodmanError(AssertionError):
    """A podman command that failed: its arguments and what it said."""


def podman(
    *args: str, timeout: float = RUN_TIMEOUT, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*PODMAN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise PodmanError(f"podman {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result


def digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def base_tarball_path() -> Path:
    key = digest(SUITE, MIRROR, "minbase", *PACKAGES, *DPKG_OPTIONS)
    return CACHE / f"debian-{SUITE}-{key}.tar"


def image_requirements() -> list[str]:
    """What pip needs to install sentinel from source: its dependencies and build backend."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    return [*project["build-system"]["requires"], *project["project"]["dependencies"]]


def wheels_path() -> Path:
    key = digest(f"{sys.version_info[0]}.{sys.version_info[1]}", *image_requirements())
    return CACHE / f"wheels-{key}"


def scratch(final: Path) -> Path:
    """A fresh temporary path beside `final` (same file system, so the rename is atomic)."""
    path = final.with_name(f".{final.stem}.{os.getpid()}{final.suffix}")
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    return path


def prepare_inputs() -> tuple[Path, Path]:
    """The cached base tarball and wheel directory, made (side by side) if missing."""
    CACHE.mkdir(mode=0o700, parents=True, exist_ok=True)
    base, wheels = base_tarball_path(), wheels_path()
    base_tmp, wheels_tmp = scratch(base), scratch(wheels)
    wheel_job = None
    try:
        if not wheels.is_dir():
            wheels_tmp.mkdir(mode=0o700)
            command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", wheels_tmp]
            wheel_job = subprocess.Popen(
                [*command, *image_requirements()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        if not base.is_file():
            make_base(base_tmp)
            base_tmp.replace(base)
        if wheel_job is not None:
            output, _ = wheel_job.communicate(timeout=MAKE_TIMEOUT)
            assert wheel_job.returncode == 0, f"pip wheel: {output.decode(errors='replace')}"
            wheels_tmp.replace(wheels)
    finally:
        if wheel_job is not None and wheel_job.poll() is None:  # only the job started here
            wheel_job.kill()
            wheel_job.wait(10)
        shutil.rmtree(wheels_tmp, ignore_errors=True)  # what a failure left
        base_tmp.unlink(missing_ok=True)
    return base, wheels


def make_base(path: Path) -> None:
    """A Debian root file system as a tarball (mmdebstrap picks the format from `.tar`)."""
    result = subprocess.run(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
            SUITE,
            path,
            MIRROR,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"mmdebstrap: {result.stderr[-2000:]}"
    path.chmod(0o600)


def token() -> str:
    """A name part no other run (or earlier session) uses."""
    return f"{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Image:
    name: str
    size: int  # bytes, as `podman image inspect` reports it
    seconds: dict[str, float]  # how long making it took, step by step (inputs, import, build)


def build_image(base_tar: Path, wheels: Path, name: str, base: str) -> None:
    podman("import", "--quiet", str(base_tar), base, timeout=BUILD_TIMEOUT)
    podman(
        "build",
        "--isolation",
        "chroot",
        "--network",
        "host",
        "--format",
        "docker",  # OCI images have no HEALTHCHECK
        "--layers=false",
        "--force-rm",
        "--quiet",
        "--volume",
        f"{wheels}:/wheels:ro",
        "--build-arg",
        f"BASE={base}",
        "--build-arg",
        "PIP_OPTIONS=--no-index --find-links /wheels",
        "--tag",
        name,
        str(REPO),
        timeout=BUILD_TIMEOUT,
    )


@pytest.fixture(scope="session")
def sentinel_image() -> Iterator[Image]:
    """The Dockerfile built on the Debian base, for the whole session; removed at its end."""
    seconds = {}
    began = time.monotonic()
    base_tar, wheels = prepare_inputs()
    seconds["inputs"] = time.monotonic() - began
    run = token()
    base, name = f"localhost/sentinel-test-base:{run}", f"localhost/sentinel-test:{run}"
    try:
        began = time.monotonic()
        build_image(base_tar, wheels, name, base)
        seconds["import+build"] = time.monotonic() - began
        size = int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout)
        yield Image(name, size, seconds)
    finally:
        for image in (name, base):  # only these two: the names this session gave
            podman("rmi", "--ignore", image)


def run(options: tuple[str, ...], image: str, *command: str) -> subprocess.CompletedProcess[str]:
    """`podman run --rm` with what these machines need, for a command that ends by itself."""
    return podman("run", "--rm", *RUN_OPTIONS, *options, image, *command)


class Container:
    """One container this run started, known by the name it gave; `remove()` ends it."""

    def __init__(self, image: str, *options: str, command: tuple[str, ...] = ()) -> None:
        self.name = f"sentinel-test-{token()}"
        podman("run", "--detach", "--name", self.name, *RUN_OPTIONS, *options, image, *command)

    def exec(
        self, *command: str, user: str | None = None, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        options = ["--interactive"] if stdin is not None else []
        if user is not None:
            options += ["--user", user]
        return podman("exec", *options, self.name, *command, stdin=stdin, check=check)

    def inspect(self, template: str) -> str:
        return podman("container", "inspect", "--format", template, self.name).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def host_pid(self, pid: int) -> int:
        """The host's PID of a process the container knows as `pid`."""
        rows = podman("top", self.name, "pid", "hpid").stdout.splitlines()[1:]
        mapping = {int(row.split()[0]): int(row.split()[1]) for row in rows}
        return mapping[pid]

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def remove(self) -> None:
        podman("rm", "--force", "--time", "10", self.name)
