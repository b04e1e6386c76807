"""Joining resources in stack policies: which bucket a versioning resource belongs to,
which security groups a load balancer uses, which subnets a node group spans.

A reference is recognised two ways: through the engine's property dependencies (the
input was built from the other resource's output; works even while IDs are unknown
during preview) or by value (the input equals one of the other resource's
identifiers: `id`, `arn`, `name`, `bucket`, `identifier`, `keyId`).

Joins go through indexes built once per policy call, so a stack policy stays linear in
the size of the stack (a 5,000-resource stack is joined in milliseconds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from pulumi_policy import PolicyResource

from ballast_guardrails.values import as_list, get

IDENTITY_PROPS = ("id", "arn", "name", "bucket", "identifier", "keyId")


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]


def identities(resource: PolicyResource) -> set[str]:
    """The values other resources use to point at `resource`."""
    found = set()
    for prop in IDENTITY_PROPS:
        value = get(resource.props, prop)
        if isinstance(value, str) and value:
            found.add(value)
    return found


def _unique(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    seen: dict[str, PolicyResource] = {}
    for resource in resources:
        seen.setdefault(resource.urn, resource)
    return list(seen.values())


class References:
    """Which of `resources` point at a target through their input `prop` (a value or a
    list of values)."""

    def __init__(self, resources: Sequence[PolicyResource], prop: str) -> None:
        self._by_value: dict[str, list[PolicyResource]] = defaultdict(list)
        self._by_dependency: dict[str, list[PolicyResource]] = defaultdict(list)
        for resource in resources:
            for value in as_list(get(resource.props, prop)):
                if isinstance(value, str):
                    self._by_value[value].append(resource)
            for dependency in resource.property_dependencies.get(prop, ()):
                self._by_dependency[dependency.urn].append(resource)

    def to(self, target: PolicyResource) -> list[PolicyResource]:
        found = list(self._by_dependency.get(target.urn, ()))
        for identity in identities(target):
            found.extend(self._by_value.get(identity, ()))
        return _unique(found)


class Targets:
    """Look up which of `candidates` a resource's input `prop` points at."""

    def __init__(self, candidates: Sequence[PolicyResource]) -> None:
        self._by_identity: dict[str, list[PolicyResource]] = defaultdict(list)
        self._by_urn = {c.urn: c for c in candidates}
        for candidate in candidates:
            for identity in identities(candidate):
                self._by_identity[identity].append(candidate)

    def of(self, resource: PolicyResource, prop: str) -> list[PolicyResource]:
        found = [
            self._by_urn[d.urn]
            for d in resource.property_dependencies.get(prop, ())
            if d.urn in self._by_urn
        ]
        for value in as_list(get(resource.props, prop)):
            if isinstance(value, str):
                found.extend(self._by_identity.get(value, ()))
        return _unique(found)
