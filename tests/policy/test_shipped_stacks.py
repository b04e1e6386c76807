"""Every shipped stack, both layers, against its policy config (a cluster stack is held to
its environment's): no mandatory violation. Approved exceptions live in the configs
themselves (`exemptions`), reviewed there."""

from __future__ import annotations

import pytest

from ballast.policy.config import ConfigEntry, load_policy_config
from ballast.policy.exemptions import parse_exemptions
from ballast.policy.inputs import analyzer_inputs
from tests.conftest import CLUSTER_STACKS, SHIPPED_STACKS, stack_run
from tests.policy.conftest import stack_config_file


@pytest.mark.parametrize("stack", SHIPPED_STACKS + CLUSTER_STACKS)
def test_no_mandatory_violations(stack_pack, stack):
    run = stack_run(stack)
    pack = stack_pack(stack)
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


def test_the_single_az_replica_is_excused_only_by_its_recorded_exemption(stack_pack):
    """`rds-multi-az` holds the prod replica to Multi-AZ like any production instance;
    the one reviewed entry in prod.json, with its reason, is what excuses it. Without
    that entry the replica, and nothing else, trips the policy."""
    run = stack_run("prod")
    pack = stack_pack("prod")
    # The DR replica (single-AZ by design, docs/data-and-dr.md): the instance that
    # replicates another.
    (replica,) = [
        r for r in run.of_type("aws:rds/instance:Instance") if r.inputs.get("replicateSourceDb")
    ]
    replica_urn = replica.urn
    assert replica.inputs["multiAz"] is False
    config = load_policy_config(stack_config_file("prod"))
    entry = config["rds-multi-az"]
    assert entry.level == "mandatory"
    (exemption,) = parse_exemptions("rds-multi-az", entry.properties["exemptions"], "prod")
    assert exemption.matches(replica_urn)
    assert "single-AZ" in exemption.reason and "docs/data-and-dr.md" in exemption.reason
    withdrawn = {**config, "rds-multi-az": ConfigEntry(entry.level, {"exemptions": []})}
    pack.configure(withdrawn, source="prod without the replica's exemption")
    diagnostics = pack.evaluate(analyzer_inputs(run))
    mandatory = [(d.policy, d.urn) for d in diagnostics if d.level == "mandatory"]
    assert mandatory == [("rds-multi-az", replica_urn)]
