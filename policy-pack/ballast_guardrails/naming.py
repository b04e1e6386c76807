"""How the platform names the stack the pack runs for: its permission boundaries are
`<namePrefix>-<stack>-permission-boundary` and `<namePrefix>-<stack>-audit-permission-
boundary`, and the secrets its program writes are named `<namePrefix>-<stack>/...`
(components/names.py).

The pack reads the names from the run, not from a literal: the Pulumi CLI starts a pack
with the project and stack names in `PULUMI_PROJECT` and `PULUMI_STACK`, and the stack's
config as JSON in `PULUMI_CONFIG`, where `ballast:namePrefix` (when set) replaces the
project name as the prefix. A renamed project or a second stack of one environment is
then judged by its own names without touching the pack.

Without `PULUMI_STACK` (the pack imported outside a run) the stack is unknown, and any
policy whose name ends in the boundary suffix counts as a boundary.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping

from ballast_guardrails.contract import BOUNDARY_SUFFIX, NAME_PREFIX_KEY


def stack_name_base(environ: Mapping[str, str] | None = None) -> str | None:
    """`<namePrefix>-<stack>` of the stack being analysed (`environ` defaults to the
    process environment, read once), or None when the pack does not know its stack."""
    if environ is None:
        return _process_name_base()
    return _name_base(environ)


@functools.cache
def _process_name_base() -> str | None:
    return _name_base(os.environ)


def _name_base(env: Mapping[str, str]) -> str | None:
    stack = env.get("PULUMI_STACK")
    if not stack:
        return None
    try:
        config = json.loads(env.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        config = {}
    prefix = config.get(NAME_PREFIX_KEY) if isinstance(config, dict) else None
    prefix = prefix if isinstance(prefix, str) and prefix else env.get("PULUMI_PROJECT")
    return f"{prefix}-{stack}" if prefix else None


def boundary_name_prefix(environ: Mapping[str, str] | None = None) -> str:
    """What this stack's boundary names start with (`ballast-dev-`); empty when the stack
    is unknown."""
    base = stack_name_base(environ)
    return f"{base}-" if base else ""


def program_secret_prefix(environ: Mapping[str, str] | None = None) -> str:
    """What the names of the secrets this stack's program writes start with
    (`ballast-dev/`, components/names.py `PhysicalNames.secret_prefix`): the CI roles may
    read back those secrets' values and no others. Empty when the stack is unknown."""
    base = stack_name_base(environ)
    return f"{base}/" if base else ""


def is_boundary_name(name: object, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `name` is one of this stack's permission boundary policies."""
    return (
        isinstance(name, str)
        and name.startswith(boundary_name_prefix(environ))
        and name.endswith(BOUNDARY_SUFFIX)
    )
