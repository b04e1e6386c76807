"""Accelerated node groups: the AMI type follows the instance family (NVIDIA, Neuron,
standard; x86_64 or ARM64), an explicit `amiType` is honoured or refused, NVIDIA groups
are tainted, and the cluster layer runs the NVIDIA device plugin exactly when the
platform has a GPU group, on those nodes and tolerating their taint."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ballast.offline import load_stack_config, run_component, run_stack
from ballast.offline.stack_config import load_project
from components import versions
from components.aws_catalog import (
    accelerator,
    eks_ami_types,
    instance_types,
    node_ami_types,
    unsupported_accelerator,
)
from components.cluster.addons import nvidia_device_plugin
from components.config import NodeGroupConfig, TaintConfig
from components.config.cluster import instance_architecture
from components.tags import GPU_TAINT_KEY, NODE_GROUP_LABEL
from tests.components.test_cluster import GENERAL, component
from tests.conftest import CLUSTER_STACKS, ROOT, stack_config, stack_run
from tests.tokens import HELM_RELEASE, NODE_GROUP

TYPES = sorted(instance_types())
ACCELERATED = [t for t in TYPES if accelerator(t) and not unsupported_accelerator(t)]
STANDARD = [
    t
    for t in TYPES
    if not accelerator(t) and not unsupported_accelerator(t) and not t.startswith(("t1.", "t2."))
]


def group(*types: str, **changes) -> NodeGroupConfig:
    return NodeGroupConfig(name="g", instance_types=types, max_size=2, **changes)


def drivers(ami_type: str) -> str | None:
    """The accelerator an AMI type's name says it carries drivers for."""
    return next((k for k in ("nvidia", "neuron") if ami_type.lower().endswith(k)), None)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ACCELERATED))
def test_an_accelerated_family_gets_its_drivers_ami(instance_type):
    ami = group(instance_type).resolved_ami_type
    assert ami in eks_ami_types()
    assert ami.startswith("AL2023_")
    assert drivers(ami) == accelerator(instance_type)
    assert ("_ARM_64_" in ami) == (instance_architecture(instance_type) == "arm64")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(STANDARD))
def test_a_standard_family_gets_the_standard_ami(instance_type):
    ami = group(instance_type).resolved_ami_type
    assert ami.endswith("_STANDARD") and ami in eks_ami_types()
    assert ("_ARM_64_" in ami) == (instance_architecture(instance_type) == "arm64")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ACCELERATED), st.sampled_from(STANDARD))
def test_accelerated_and_standard_types_never_share_a_group(accelerated, standard):
    if instance_architecture(accelerated) != instance_architecture(standard):
        return  # refused for the architectures already
    with pytest.raises(ValidationError) as error:
        group(accelerated, standard)
    (problem,) = error.value.errors()
    assert problem["loc"] == ("instance_types",)
    assert "must not mix accelerated and standard types" in problem["msg"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ACCELERATED + STANDARD[:200]), st.sampled_from(node_ami_types()))
def test_an_explicit_ami_type_is_honoured_only_when_it_fits(instance_type, ami_type):
    chosen = group(instance_type).resolved_ami_type
    if ami_type == chosen:
        assert group(instance_type, ami_type=ami_type).resolved_ami_type == ami_type
        return
    with pytest.raises(ValidationError) as error:
        group(instance_type, ami_type=ami_type)
    (problem,) = error.value.errors()
    assert problem["loc"] == ("ami_type",)
    assert chosen in problem["msg"]


def test_grace_and_graviton_gpus_run_the_arm_nvidia_ami():
    for instance_type in ("g5g.xlarge", "p6e-gb200.36xlarge"):
        if instance_type in instance_types():
            assert group(instance_type).resolved_ami_type == "AL2023_ARM_64_NVIDIA"


# --- the node groups ----------------------------------------------------------------------

GPU = NodeGroupConfig(name="gpu", instance_types=("g6.xlarge", "g5.xlarge"), max_size=2)
NEURON = NodeGroupConfig(name="inference", instance_types=("inf2.xlarge",), max_size=2)


def test_each_group_runs_its_ami_type_and_only_gpu_groups_carry_the_gpu_taint():
    run = run_component(component(node_groups=(GENERAL, GPU, NEURON)))
    groups = {g.inputs["labels"][NODE_GROUP_LABEL]: g for g in run.of_type(NODE_GROUP)}
    for settings_ in (GENERAL, GPU, NEURON):
        assert groups[settings_.name].inputs["amiType"] == settings_.resolved_ami_type
    gpu_taints = {
        name: [t for t in g.inputs.get("taints", []) if t["key"] == GPU_TAINT_KEY]
        for name, g in groups.items()
    }
    assert gpu_taints.pop("gpu") == [
        {"key": GPU_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert all(taints == [] for taints in gpu_taints.values())


def test_a_gpu_taint_the_config_already_sets_is_not_repeated():
    own = NodeGroupConfig(
        name="gpu",
        instance_types=GPU.instance_types,
        max_size=2,
        taints=(TaintConfig(key=GPU_TAINT_KEY, value="a100"),),
    )
    run = run_component(component(node_groups=(own,)))
    (gpu,) = [g for g in run.of_type(NODE_GROUP) if g.inputs["labels"][NODE_GROUP_LABEL] == "gpu"]
    assert gpu.inputs["taints"] == [
        {"key": GPU_TAINT_KEY, "value": "a100", "effect": "NO_SCHEDULE"}
    ]


# --- the device plugin in the cluster layer -----------------------------------------------


def with_gpu_group(stack: str, *groups: dict):
    """`stack`'s platform run with `groups` added to its node groups."""
    base = load_stack_config(load_project(ROOT), stack)
    config = dict(base.config)
    cluster = json.loads(config["ballast:cluster"])
    cluster["nodeGroups"] = [*cluster["nodeGroups"], *groups]
    config["ballast:cluster"] = json.dumps(cluster)
    return run_stack(dataclasses.replace(base, config=config))


def device_plugins(run) -> list:
    return [
        r
        for r in run.of_type(HELM_RELEASE)
        if r.inputs["chart"] == versions.NVIDIA_DEVICE_PLUGIN_CHART
    ]


@pytest.mark.parametrize("cluster_stack", CLUSTER_STACKS)
def test_the_device_plugin_is_there_exactly_when_the_platform_has_a_gpu_group(cluster_stack):
    platform_stack = stack_config(cluster_stack).platform_stack
    platform = stack_run(platform_stack)
    gpu_groups = [
        g.name
        for g in stack_config(platform_stack).cluster.node_groups
        if g.accelerator == "nvidia"
    ]
    assert platform.outputs["clusterGpuNodeGroups"] == gpu_groups
    assert bool(device_plugins(stack_run(cluster_stack))) == bool(gpu_groups)


def test_a_gpu_group_gets_the_device_plugin_on_its_nodes_tolerating_its_taint():
    cluster_stack = CLUSTER_STACKS[0]
    platform_stack = stack_config(cluster_stack).platform_stack
    gpu = {"name": "gpu", "instanceTypes": ["g6.xlarge", "g5.xlarge"], "maxSize": 2, "perAz": True}
    neuron = {"name": "inference", "instanceTypes": ["inf2.xlarge"], "maxSize": 2}
    platform = with_gpu_group(platform_stack, gpu, neuron)
    assert platform.outputs["clusterGpuNodeGroups"] == ["gpu"]
    layer = run_stack(
        load_stack_config(load_project(ROOT), cluster_stack), references={platform_stack: platform}
    )
    (plugin,) = device_plugins(layer)
    assert plugin.inputs["version"] == versions.NVIDIA_DEVICE_PLUGIN_CHART_VERSION
    assert plugin.inputs["repositoryOpts"]["repo"] == versions.NVIDIA_DEVICE_PLUGIN_CHART_REPOSITORY
    values = plugin.inputs["values"]
    gpu_nodes = [g for g in platform.of_type(NODE_GROUP) if g.inputs["amiType"].endswith("_NVIDIA")]
    assert gpu_nodes  # one per zone (perAz)
    for nodes in gpu_nodes:
        # Scheduled onto these nodes: their labels satisfy the required affinity.
        (term,) = values["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        for expression in term["matchExpressions"]:
            assert expression["operator"] == "In"
            assert nodes.inputs["labels"][expression["key"]] in expression["values"]
        # And it tolerates every NoSchedule taint they carry that is the GPU's.
        for taint in nodes.inputs["taints"]:
            if taint["key"] == GPU_TAINT_KEY:
                assert any(_tolerates(t, taint) for t in values["tolerations"])
    # Not on any other node: no other group's labels match.
    others = [g for g in platform.of_type(NODE_GROUP) if g not in gpu_nodes]
    allowed = set(term["matchExpressions"][0]["values"])
    assert all(g.inputs["labels"][NODE_GROUP_LABEL] not in allowed for g in others)


def _tolerates(toleration: dict, taint: dict) -> bool:
    effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}.get(
        taint["effect"], "PreferNoSchedule"
    )
    if toleration.get("effect") not in (None, effect) or toleration["key"] != taint["key"]:
        return False
    return toleration["operator"] == "Exists" or toleration.get("value") == taint.get("value")


def test_the_device_plugin_values_need_a_gpu_group():
    with pytest.raises(ValueError, match="at least one GPU node group"):
        nvidia_device_plugin.helm_values([])
