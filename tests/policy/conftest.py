"""Policy tests: one pack process per session, driven over gRPC like the CLI does.

The pack directory is also put on `sys.path` so unit tests (and Hypothesis) can import
`ballast_guardrails` in-process; every pass/fail case still goes through the analyzer
protocol.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from ballast.offline import load_stack_config
from ballast.offline.stack_config import load_project
from ballast.policy.evaluate import config_file_of, pack_dir_of
from ballast.policy.harness import PolicyPackProcess
from tests.conftest import ROOT

PACK_DIR = pack_dir_of(ROOT)
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))


def stack_config_file(stack: str, environment: str | None = None):
    """The policy config a stack is held to (a cluster stack: its environment's)."""
    return config_file_of(PACK_DIR, stack, environment)


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackProcess]:
    """The policy pack, started once for the whole session (configure before use), as
    the CLI starts it for stack `test` of project `ballast`: the boundary names it
    accepts are `ballast-test-...` (ballast_guardrails/naming.py)."""
    with PolicyPackProcess(PACK_DIR, project="ballast", stack="test") as process:
        yield process


@pytest.fixture(scope="session")
def stack_pack() -> Iterator[Callable[[str], PolicyPackProcess]]:
    """`stack_pack(stack)`: the pack started as the CLI starts it for that shipped stack
    (its project, stack name and stack config, so it knows the stack's own names), once
    per stack for the session (configure before use)."""
    started: dict[str, PolicyPackProcess] = {}

    def start(stack: str) -> PolicyPackProcess:
        if stack not in started:
            config = load_stack_config(load_project(ROOT), stack)
            started[stack] = PolicyPackProcess(
                PACK_DIR, project=config.project.name, stack=stack, config=config.config
            ).start()
        return started[stack]

    try:
        yield start
    finally:
        for process in started.values():
            process.close()
