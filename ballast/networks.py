"""The VPC blocks of every platform stack of a project, checked against each other
(`components.config.overlap`): what `ballast preview` runs before a stack, and what the
tests run over the shipped stacks.

A stack file that does not parse is left out: previewing that stack reports its own
problems. Cluster and organization stacks have no VPC.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.offline import list_stacks, load_stack_config
from ballast.offline.stack_config import Project, ProjectError
from components.config import ConfigError, PlatformConfig, parse_stack_config
from components.config.overlap import Overlap, vpc_overlaps


class NetworkOverlapError(ProjectError):
    """A stack's VPC overlaps another's in the same account; one line per overlap."""


@dataclass(frozen=True)
class NetworkCheck:
    errors: tuple[Overlap, ...]
    """Overlaps between stacks that share an account."""
    warnings: tuple[Overlap, ...]
    """Overlaps between stacks in different accounts."""


def project_platform_configs(project: Project) -> dict[str, PlatformConfig]:
    """Every platform stack of `project` whose file parses, by stack name."""
    configs: dict[str, PlatformConfig] = {}
    for stack in list_stacks(project):
        try:
            stack_config = load_stack_config(project, stack)
            config = parse_stack_config(
                stack_config.config,
                secret_keys=stack_config.secret_keys,
                stack=stack,
                project=project.name,
            )
        except (ProjectError, ConfigError):
            continue
        if isinstance(config, PlatformConfig):
            configs[stack] = config
    return configs


def check_project_networks(project: Project, stack: str | None = None) -> NetworkCheck:
    """The overlaps between the project's platform stacks (with `stack`: only those
    involving it)."""
    overlaps = [
        o
        for o in vpc_overlaps(project_platform_configs(project))
        if stack is None or stack in o.stacks
    ]
    return NetworkCheck(
        errors=tuple(o for o in overlaps if o.same_account),
        warnings=tuple(o for o in overlaps if not o.same_account),
    )


def require_distinct_networks(project: Project, stack: str) -> tuple[str, ...]:
    """Raise `NetworkOverlapError` when `stack` overlaps a stack of its account; else
    the warnings (one sentence each) for overlaps with other accounts' stacks."""
    check = check_project_networks(project, stack)
    if check.errors:
        raise NetworkOverlapError("\n".join(o.message for o in check.errors))
    return tuple(o.message for o in check.warnings)
