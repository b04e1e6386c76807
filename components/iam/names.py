"""Physical names of IAM roles and policies: one prefix per environment, so PassRole,
the boundary and the apply role can be scoped to `ballast-<env>-*`."""

from __future__ import annotations

import hashlib

ROLE_NAME_MAX = 64


def role_name_prefix(environment: str) -> str:
    """Every platform role's name starts with this; PassRole and IAM reach are scoped to it."""
    return f"ballast-{environment}-"


def boundary_policy_name(environment: str) -> str:
    return f"ballast-{environment}-permission-boundary"


def audit_boundary_policy_name(environment: str) -> str:
    """The security-audit role's own, read-only boundary (named so the policy pack, which
    knows boundaries by `ballast-...-permission-boundary`, recognises it as one)."""
    return f"ballast-{environment}-audit-permission-boundary"


def audit_bucket_prefix(environment: str) -> str:
    """The audit trail's buckets are named with this prefix (the boundary protects them)."""
    return f"ballast-{environment}-audit-"


def physical_role_name(environment: str, resource_name: str) -> str:
    """The IAM name of the role registered as `resource_name`.

    The environment prefix is added unless the resource name has it already; names past
    IAM's 64 characters keep their start and end in a stable hash, so two long names
    never collide and the same program always yields the same name.
    """
    prefix = role_name_prefix(environment)
    name = resource_name if resource_name.startswith(prefix) else prefix + resource_name
    if len(name) <= ROLE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: ROLE_NAME_MAX - len(digest) - 1]}-{digest}"
