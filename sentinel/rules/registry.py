"""The rules that work on log events, by name, and how to build them from the config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentinel.rules.access import AnonymousAccessRule, OffHoursRule, UntrustedNetworkRule
from sentinel.rules.base import Rule
from sentinel.rules.breakin import BruteForceSuccessRule
from sentinel.rules.fleet import FleetOptions
from sentinel.rules.logins import BruteForceRule, PasswordSprayRule, SharedAccountRule
from sentinel.rules.volume import BulkDownloadRule

if TYPE_CHECKING:
    from sentinel.config.model import Config

LOG_RULES: dict[str, type] = {
    "anonymous_access": AnonymousAccessRule,
    "bulk_download": BulkDownloadRule,
    "brute_force": BruteForceRule,
    "brute_force_success": BruteForceSuccessRule,
    "password_spray": PasswordSprayRule,
    "shared_account": SharedAccountRule,
    "untrusted_network": UntrustedNetworkRule,
    "off_hours": OffHoursRule,
}

# rules that take `fleet=`: how they count a fleet's servers and IPv6 blocks
FLEET_AWARE = frozenset(
    {"brute_force", "brute_force_success", "bulk_download", "password_spray", "shared_account"}
)


def build_log_rules(config: Config) -> list[Rule]:
    """The enabled log rules, configured. `untrusted_network` needs `networks.trusted`."""
    server = config.server_name
    fleet = FleetOptions(config.ipv6_prefix, config.fleet.shared_accounts)
    rules: list[Rule] = []
    for name, rule_class in LOG_RULES.items():
        settings = config.rules[name]
        if not settings.enabled:
            continue
        if name == "untrusted_network":
            if not config.trusted_networks:
                continue
            rules.append(
                UntrustedNetworkRule(
                    settings, server=server, trusted=config.trusted_networks, fleet=fleet
                )
            )
        elif name == "off_hours":
            rules.append(OffHoursRule(settings, server=server, tz=config.timezone, fleet=fleet))
        elif name in FLEET_AWARE:
            rules.append(rule_class(settings, server=server, fleet=fleet))
        else:
            rules.append(rule_class(settings, server=server))
    return rules


__all__ = ["LOG_RULES", "Rule", "build_log_rules"]
