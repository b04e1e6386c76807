"""Physical names with a service's length limit: the stack's prefix
(`components.names.PhysicalNames.role_prefix`, `<namePrefix>-<stack>-`) and the limit,
so PassRole, the boundary and the apply role can be scoped to `<namePrefix>-<stack>-*`."""

from __future__ import annotations

import hashlib

ROLE_NAME_MAX = 64
#: Longest name of a load balancer or a target group (ELB's limit).
LOAD_BALANCER_NAME_MAX = 32
#: What the name of a log group WAF logs into must start with (WAF refuses any other).
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


def physical_name(prefix: str, resource_name: str, max_length: int) -> str:
    """`resource_name` with `prefix` (`PhysicalNames.role_prefix`, e.g. `ballast-dev-`)
    unless it has it already, at most `max_length` characters: a longer name keeps its
    start and a stable hash of the whole, so two long names never collide and the same
    program always yields the same name."""
    name = resource_name if resource_name.startswith(prefix) else prefix + resource_name
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: max_length - len(digest) - 1]}-{digest}"


def physical_role_name(role_prefix: str, resource_name: str) -> str:
    """The IAM name of the role registered as `resource_name` (`physical_name` within
    IAM's 64 characters)."""
    return physical_name(role_prefix, resource_name, ROLE_NAME_MAX)


def load_balancer_name(prefix: str, label: str) -> str:
    """The name of a load balancer or target group: `physical_name` within ELB's 32
    characters (letters, digits and hyphens; the label must be so too)."""
    return physical_name(prefix, label, LOAD_BALANCER_NAME_MAX)


def waf_log_group_name(prefix: str, label: str) -> str:
    """The log group a web ACL logs into: WAF's required prefix, then the stack's name
    prefix and `label`."""
    return WAF_LOG_GROUP_PREFIX + physical_name(prefix, label, 512 - len(WAF_LOG_GROUP_PREFIX))
