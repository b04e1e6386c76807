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


#: Longest name of a load balancer or a target group (ELB's limit).
LOAD_BALANCER_NAME_MAX = 32
#: What the name of a log group WAF logs into must start with (WAF refuses any other).
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


def physical_name(environment: str, resource_name: str, max_length: int) -> str:
    """`resource_name` with the environment prefix (unless it has it already), at most
    `max_length` characters: a longer name keeps its start and a stable hash of the whole,
    so two long names never collide and the same program always yields the same name."""
    prefix = role_name_prefix(environment)
    name = resource_name if resource_name.startswith(prefix) else prefix + resource_name
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: max_length - len(digest) - 1]}-{digest}"


def physical_role_name(environment: str, resource_name: str) -> str:
    """The IAM name of the role registered as `resource_name` (`physical_name` within
    IAM's 64 characters)."""
    return physical_name(environment, resource_name, ROLE_NAME_MAX)


def load_balancer_name(environment: str, label: str) -> str:
    """The name of a load balancer or target group: `physical_name` within ELB's 32
    characters (letters, digits and hyphens; the label must be so too)."""
    return physical_name(environment, label, LOAD_BALANCER_NAME_MAX)


def waf_log_group_name(environment: str, label: str) -> str:
    """The log group a web ACL logs into: WAF's required prefix, then the environment's
    name prefix and `label`."""
    return WAF_LOG_GROUP_PREFIX + physical_name(environment, label, 512 - 13)
