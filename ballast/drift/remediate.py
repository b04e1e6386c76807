"""The two ways back from drift, per resource, and running the restore.

* accept the cloud: `pulumi refresh --stack S --target URN` writes what the cloud has into
  the state; then change the code to match, or the next `up` undoes it;
* restore the code's intent: `pulumi up --stack S --refresh --target URN` refreshes and
  puts the resource back as the code declares it (recreates it when it was deleted).

`restore` runs the second through the Automation API for the drifted URNs; the command
refuses it for a prod stack unless `--allow-prod` is given (`is_prod`).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path


def accept_command(stack: str, urn: str) -> str:
    return shlex.join(["pulumi", "refresh", "--stack", stack, "--target", urn])


def restore_command(stack: str, urn: str) -> str:
    return shlex.join(["pulumi", "up", "--stack", stack, "--refresh", "--target", urn])


def accept_note(op: str) -> str:
    if op == "delete":
        return "then remove the resource from the code (it is gone from the cloud)"
    return "then change the code to the values the cloud now has"


def restore_note(op: str) -> str:
    if op == "delete":
        return "recreates the resource as the code declares it"
    return "puts the changed properties back to what the code declares"


def is_prod(project_dir: Path, stack: str) -> bool:
    """Whether `stack` is a production stack: its `ballast:environment` is `prod` (for
    a cluster stack: its platform stack's), or it has no readable stack file (unknown
    stacks are treated as prod, the safe side)."""
    from ballast.offline.stack_config import (
        ProjectError,
        StackNotFound,
        load_project,
        load_stack_config,
    )

    try:
        project = load_project(project_dir)
        config = load_stack_config(project, stack).config
        platform = config.get("ballast:platformStack")
        if config.get("ballast:environment") is None and platform:
            config = load_stack_config(project, platform).config
    except (ProjectError, StackNotFound, OSError):
        return True
    return config.get("ballast:environment", "prod") == "prod"


def restore(project_dir: Path, stack: str, urns: Sequence[str]) -> None:
    """`pulumi up --refresh --target URN...` for `urns` through the Automation API
    (errors as `automation.RunError`)."""
    from ballast.drift.automation import run_up

    run_up(project_dir, stack, list(urns))
