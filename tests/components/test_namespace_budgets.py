"""Namespace budgets a service's `budget` overrides: Kubernetes quantities parsed as the
API server reads them, overrides applied key by key over the tier's defaults, and the
cluster stack's LimitRange and ResourceQuota of that namespace carrying them."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import kubernetes_validate
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ballast.offline import load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components import versions
from components.config import NamespaceBudgetConfig, ServiceConfig
from components.workloads import (
    BUDGET_ORDER,
    NAMESPACE_BUDGETS,
    NamespaceSpec,
    cpu_millicores,
    memory_bytes,
    parse_quantity,
    tier_budget,
)
from tests.conftest import CLUSTER_STACKS, ROOT, stack_config, stack_run

SERVICE_TIERS = ("tier-1", "tier-2", "tier-3")
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"


# --- quantities ---------------------------------------------------------------------------


@given(st.integers(1, 10**6), st.sampled_from(["", "m"]))
def test_cpu_quantities_read_as_the_existing_helper_reads_them(number, suffix):
    text = f"{number}{suffix}"
    assert parse_quantity(text) * 1000 == cpu_millicores(text)


@given(st.integers(1, 10**6), st.sampled_from(["", "k", "M", "G", "Ki", "Mi", "Gi", "Ti"]))
def test_memory_quantities_read_as_the_existing_helper_reads_them(number, suffix):
    text = f"{number}{suffix}"
    assert parse_quantity(text) == memory_bytes(text)


@given(st.decimals(min_value=0, max_value=10**6, places=3), st.integers(-3, 9))
def test_an_exponent_scales_by_powers_of_ten(number, exponent):
    assert parse_quantity(f"{number}e{exponent}") == number.scaleb(exponent)


@pytest.mark.parametrize("text", ["", "1.2.3", "Gi", "1gi", "1 Gi", "1e", "0x10", "1Ki1"])
def test_what_is_not_a_quantity_is_refused(text):
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


# --- overrides over the tier's defaults ---------------------------------------------------

CPU = st.sampled_from(["100m", "250m", "500m", "1", "2", "4", "8", "16", "64"])
MEMORY = st.sampled_from(["64Mi", "128Mi", "512Mi", "1Gi", "8Gi", "16Gi", "64Gi"])
OVERRIDES = st.fixed_dictionaries(
    {},
    optional={
        "requestsCpu": CPU,
        "limitsCpu": CPU,
        "requestsMemory": MEMORY,
        "limitsMemory": MEMORY,
        "pods": st.integers(0, 1000),
        "persistentVolumeClaims": st.integers(0, 100),
        "defaultCpu": CPU,
        "defaultCpuLimit": CPU,
        "defaultMemory": MEMORY,
        "maxCpu": CPU,
        "maxMemory": MEMORY,
    },
)


def in_order(budget) -> bool:
    return all(
        parse_quantity(getattr(budget, low)) <= parse_quantity(getattr(budget, high))
        for low, high in BUDGET_ORDER
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SERVICE_TIERS), OVERRIDES)
def test_a_budget_is_accepted_exactly_when_its_merge_with_the_tier_is_in_order(tier, overrides):
    merged = tier_budget(tier, NamespaceBudgetConfig.model_validate(overrides).overrides())
    service = {"name": "api", "tier": tier, "budget": overrides}
    if not in_order(merged):
        with pytest.raises(ValidationError) as error:
            ServiceConfig.model_validate(service)
        (problem,) = error.value.errors()
        assert problem["loc"] == ("budget",)
        return
    config = ServiceConfig.model_validate(service)
    assert config.budget is not None
    spec = NamespaceSpec("api", tier, budget=tier_budget(tier, config.budget.overrides()))
    limits = spec.limit_range_spec()["limits"][0]
    hard = spec.resource_quota_spec()["hard"]
    manifest = {
        "requestsCpu": hard["requests.cpu"],
        "limitsCpu": hard["limits.cpu"],
        "requestsMemory": hard["requests.memory"],
        "limitsMemory": hard["limits.memory"],
        "pods": int(hard["pods"]),
        "persistentVolumeClaims": int(hard["persistentvolumeclaims"]),
        "defaultCpu": limits["defaultRequest"]["cpu"],
        "defaultMemory": limits["defaultRequest"]["memory"],
        "defaultCpuLimit": limits["default"]["cpu"],
        "maxCpu": limits["max"]["cpu"],
        "maxMemory": limits["max"]["memory"],
    }
    defaults = NAMESPACE_BUDGETS[tier]
    for key, value in manifest.items():
        field = NamespaceBudgetConfig.model_fields[_field(key)]
        assert field.alias == key
        expected = overrides.get(key, getattr(defaults, _field(key)))
        assert str(value) == str(expected), key
    # The memory limit of a container that sets none stays its request.
    assert limits["default"]["memory"] == limits["defaultRequest"]["memory"]
    for kind, spec_ in (("LimitRange", {"limits": [limits]}), ("ResourceQuota", {"hard": hard})):
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec_},
            versions.KUBERNETES_VERSION,
            strict=True,
        )


def _field(alias: str) -> str:
    (name,) = [n for n, f in NamespaceBudgetConfig.model_fields.items() if f.alias == alias]
    return name


def test_the_shipped_tier_defaults_are_in_order():
    assert all(in_order(budget) for budget in NAMESPACE_BUDGETS.values())


def test_a_quantity_compares_by_value_not_by_text():
    # 1500m is more than 1 CPU although "1500m" < "2" would say otherwise as text.
    assert parse_quantity("1500m") == Decimal("1.5") < parse_quantity("2")
    with pytest.raises(ValidationError, match="limitsCpu must be at least requestsCpu"):
        ServiceConfig.model_validate(
            {"name": "a", "tier": "tier-3", "budget": {"requestsCpu": "2", "limitsCpu": "1500m"}}
        )


# --- through both stacks ------------------------------------------------------------------


def test_a_service_budget_reaches_its_namespace_in_the_cluster_stack():
    cluster_stack = CLUSTER_STACKS[0]
    platform_stack = stack_config(cluster_stack).platform_stack
    base = load_stack_config(load_project(ROOT), platform_stack)
    config = dict(base.config)
    services = json.loads(config["ballast:services"])
    target = services[0]
    namespace = target.get("namespace") or target["name"]
    budget = {"requestsCpu": "24", "limitsCpu": "48", "pods": 321, "maxMemory": "12Gi"}
    target["budget"] = budget
    config["ballast:services"] = json.dumps(services)
    platform = run_stack(dataclasses.replace(base, config=config))
    layer = run_stack(
        load_stack_config(load_project(ROOT), cluster_stack), references={platform_stack: platform}
    )
    shipped = stack_run(cluster_stack)

    def objects(run, type_):
        return {
            (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["spec"]
            for r in run.of_type(type_)
        }

    quotas, limits = objects(layer, RESOURCE_QUOTA), objects(layer, LIMIT_RANGE)
    hard = quotas[(namespace, "budget")]["hard"]
    assert (hard["requests.cpu"], hard["limits.cpu"], hard["pods"]) == ("24", "48", "321")
    assert limits[(namespace, "defaults")]["limits"][0]["max"]["memory"] == "12Gi"
    # Every other namespace, and every other key of this one, is as shipped.
    shipped_quotas, shipped_limits = objects(shipped, RESOURCE_QUOTA), objects(shipped, LIMIT_RANGE)
    changed = {(namespace, "budget"), (namespace, "defaults")}
    assert {k: v for k, v in quotas.items() if k not in changed} == {
        k: v for k, v in shipped_quotas.items() if k not in changed
    }
    assert {k: v for k, v in limits.items() if k not in changed} == {
        k: v for k, v in shipped_limits.items() if k not in changed
    }
    before = shipped_quotas[(namespace, "budget")]["hard"]
    assert {k: v for k, v in hard.items() if k not in ("requests.cpu", "limits.cpu", "pods")} == {
        k: v for k, v in before.items() if k not in ("requests.cpu", "limits.cpu", "pods")
    }
