"""Joining resources in stack policies: which bucket a versioning resource belongs to,
which security groups a load balancer uses, which subnets a node group spans.

A reference is recognised two ways: through the engine's property dependencies (the
input was built from the other resource's output; works even while IDs are unknown
during preview) or by value (the input equals one of the other resource's
identifiers: `id`, `arn`, `name`, `bucket`, `identifier`).
"""

from __future__ import annotations

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


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """Does `resource`'s input `prop` (a value or a list) point at `target`?"""
    if any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, ())):
        return True
    values = {v for v in as_list(get(resource.props, prop)) if isinstance(v, str)}
    return bool(values & identities(target))


def referring(
    resources: Sequence[PolicyResource], prop: str, target: PolicyResource
) -> list[PolicyResource]:
    """The resources among `resources` whose `prop` points at `target`."""
    return [r for r in resources if refers_to(r, prop, target)]


def referenced(
    resource: PolicyResource, prop: str, candidates: Sequence[PolicyResource]
) -> list[PolicyResource]:
    """The candidates that `resource`'s `prop` points at."""
    return [c for c in candidates if refers_to(resource, prop, c)]
