"""Settings of every rule of SPEC, with their defaults. The config loader fills them.

Field types drive validation in the loader: `timedelta` is a duration ("10m"), `ByteSize`
a size ("1GiB"), `Severity` a severity name, `HoursRange` "HH:MM-HH:MM", `Weekdays` a list
of day names, `int` a positive integer, `bool` a boolean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

from sentinel.alerts import Severity


class ByteSize(int):
    """A size in bytes, written "500MB" or "1GiB" in the configuration."""


@dataclass(frozen=True, slots=True)
class HoursRange:
    """Working hours; `start > end` means a range across midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Weekdays(frozenset[int]):
    """ISO weekdays, Monday = 0 (as `datetime.weekday()`), written [mon, tue, ...]."""


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Keys (addresses, users) each rule tracks at most; the stalest are evicted beyond, counted
# in sentinel_rule_evictions. At the cap, a flood of one-shot addresses costs about 35 MB
# for brute_force and password_spray together (~175 + ~120 bytes per address, plus the
# address): room for 100,000 attackers in a window, in a bounded footprint.
DEFAULT_MAX_TRACKED = 100_000


@dataclass(frozen=True, slots=True)
class AnonymousAccessSettings:
    enabled: bool = True
    severity: Severity = Severity.CRITICAL
    window: timedelta = timedelta(hours=1)  # anonymous events this close are one incident
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class BulkDownloadSettings:
    enabled: bool = True
    severity: Severity = Severity.CRITICAL
    window: timedelta = timedelta(minutes=10)
    max_files: int = 100
    max_bytes: ByteSize = ByteSize(1 << 30)  # noqa: RUF009 (an immutable int)
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class BruteForceSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING
    window: timedelta = timedelta(minutes=5)
    max_failures: int = 10
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class BruteForceSuccessSettings:
    enabled: bool = True
    severity: Severity = Severity.CRITICAL
    window: timedelta = timedelta(hours=1)  # failures this long before a success count
    max_failures: int = 5
    # ~110 bytes per address: 20,000 keep a flood's cost near 2 MB. An address that keeps
    # guessing stays the freshest key; only one idle while 20,000 others failed is dropped.
    max_tracked: int = 20_000


@dataclass(frozen=True, slots=True)
class PasswordSpraySettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING
    window: timedelta = timedelta(minutes=10)
    max_users: int = 5
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class SharedAccountSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING
    window: timedelta = timedelta(hours=1)
    max_ips: int = 1
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class UntrustedNetworkSettings:
    enabled: bool = True  # effective only when networks.trusted is set
    severity: Severity = Severity.CRITICAL
    window: timedelta = timedelta(hours=1)  # logins from one address this close are one incident
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class OffHoursSettings:
    enabled: bool = False
    severity: Severity = Severity.WARNING
    hours: HoursRange = HoursRange(time(7, 0), time(20, 0))
    days: Weekdays = field(default_factory=lambda: Weekdays(range(5)))
    window: timedelta = timedelta(hours=1)
    max_tracked: int = DEFAULT_MAX_TRACKED


@dataclass(frozen=True, slots=True)
class StaleFileSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING


@dataclass(frozen=True, slots=True)
class UnencryptedPersonalDataSettings:
    enabled: bool = True
    severity: Severity = Severity.CRITICAL
    min_matches: int = 3  # fewer valid identifiers than this in a file is not an incident


@dataclass(frozen=True, slots=True)
class ExposedFileSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING  # critical in an anonymous zone


@dataclass(frozen=True, slots=True)
class InsecureServerConfigSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING


@dataclass(frozen=True, slots=True)
class SourceSilentSettings:
    enabled: bool = True
    severity: Severity = Severity.WARNING
    after: timedelta = timedelta(hours=1)


RULE_SETTINGS: dict[str, type] = {
    "anonymous_access": AnonymousAccessSettings,
    "bulk_download": BulkDownloadSettings,
    "brute_force": BruteForceSettings,
    "brute_force_success": BruteForceSuccessSettings,
    "password_spray": PasswordSpraySettings,
    "shared_account": SharedAccountSettings,
    "untrusted_network": UntrustedNetworkSettings,
    "off_hours": OffHoursSettings,
    "stale_file": StaleFileSettings,
    "unencrypted_personal_data": UnencryptedPersonalDataSettings,
    "exposed_file": ExposedFileSettings,
    "insecure_server_config": InsecureServerConfigSettings,
    "source_silent": SourceSilentSettings,
}
