"""Every shipped stack, both layers, against its policy config (a cluster stack is held to
its environment's): no mandatory violation. Approved exceptions live in the configs
themselves (`exemptions`, `approvedUrns`), reviewed there."""

from __future__ import annotations

import pytest

from ballast.policy.config import load_policy_config
from ballast.policy.inputs import analyzer_inputs
from tests.conftest import CLUSTER_STACKS, SHIPPED_STACKS, stack_run
from tests.policy.conftest import stack_config_file


@pytest.mark.parametrize("stack", SHIPPED_STACKS + CLUSTER_STACKS)
def test_no_mandatory_violations(pack, stack):
    run = stack_run(stack)
    config_file = stack_config_file(stack, run.outputs.get("environment"))
    assert config_file.is_file(), f"{stack} has no policy config"
    pack.configure(load_policy_config(config_file), source=stack)
    diagnostics = pack.evaluate(analyzer_inputs(run))
    assert not [d for d in diagnostics if d.skipped], "a fully resolved run has no unknowns"
    unexpected = [
        f"{d.policy} on {d.urn.rsplit('::', 1)[-1]}: {d.message}"
        for d in diagnostics
        if d.level == "mandatory"
    ]
    assert not unexpected, "\n".join(unexpected)


def test_every_shipped_stack_has_a_policy_config():
    for stack in SHIPPED_STACKS:
        assert stack_config_file(stack).is_file()
