"""VPC blocks across the stacks of one project: two VPCs that share an account or are
meant to peer must not overlap (routes and peering refuse overlapping blocks, and a later
transit gateway or VPN cannot tell them apart).

What "shares an account" means here: both stacks pin the same `ballast:accountId`, or,
when either leaves it unset, both are the same `ballast:environment` (each environment's
stack file names its own account; a second stack of an environment, `qa` copied from
`staging`, lives in that account). Those overlaps are errors. Overlaps between stacks of
different environments (distinct accounts, never peered by this code) are warnings: they
only matter once the networks are connected, and then they are hard to undo.

A stack's blocks are its `network.cidr` and its `drNetwork.cidr` (the DR VPC; the two of
one stack are checked when it is parsed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from components.config.base import NAMESPACE
from components.config.platform import PlatformConfig


@dataclass(frozen=True)
class Overlap:
    """Two stacks whose VPC blocks overlap."""

    stacks: tuple[str, str]
    keys: tuple[str, str]
    cidrs: tuple[str, str]
    same_account: bool
    reason: str
    """Why the two count as one account (or why not)."""

    @property
    def message(self) -> str:
        (a, b), (key_a, key_b), (cidr_a, cidr_b) = self.stacks, self.keys, self.cidrs
        consequence = (
            "they share an account, where overlapping VPCs cannot be peered or routed; "
            "give each stack its own block"
            if self.same_account
            else "fine while the networks stay apart, but they can never be peered or "
            "routed to each other"
        )
        return (
            f"{NAMESPACE}:{key_a} {cidr_a} of stack {a} overlaps {NAMESPACE}:{key_b} "
            f"{cidr_b} of stack {b} ({self.reason}): {consequence}"
        )


def _blocks(config: PlatformConfig) -> list[tuple[str, str]]:
    blocks = []
    if config.network is not None:
        blocks.append(("network.cidr", config.network.cidr))
    if config.dr_network is not None:
        blocks.append(("drNetwork.cidr", config.dr_network.cidr))
    return blocks


def _account_relation(a: PlatformConfig, b: PlatformConfig) -> tuple[bool, str]:
    if a.account_id and b.account_id:
        if a.account_id == b.account_id:
            return True, f"both in account {a.account_id}"
        return False, f"accounts {a.account_id} and {b.account_id}"
    if a.environment == b.environment:
        return True, f"both {a.environment}, so one account unless accountId says otherwise"
    return False, f"environments {a.environment} and {b.environment}"


def vpc_overlaps(configs: Mapping[str, PlatformConfig]) -> list[Overlap]:
    """Every pair of overlapping VPC blocks between two platform stacks of `configs`
    (stack name -> config), in stack-name order."""
    found = []
    platforms = {s: c for s, c in configs.items() if c.stack_kind == "platform"}
    for a, b in combinations(sorted(platforms), 2):
        same, reason = _account_relation(platforms[a], platforms[b])
        for key_a, cidr_a in _blocks(platforms[a]):
            for key_b, cidr_b in _blocks(platforms[b]):
                if ipaddress.ip_network(cidr_a).overlaps(ipaddress.ip_network(cidr_b)):
                    found.append(Overlap((a, b), (key_a, key_b), (cidr_a, cidr_b), same, reason))
    return found
