"""`workload_defaults(...)` and the namespace budgets: unit tests, and every object they
produce validated (strict) against the pinned Kubernetes version's schemas."""

from __future__ import annotations

import kubernetes_validate
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import versions
from components.config import PLATFORM_NAMESPACES, SYSTEM_TAINT_KEY
from components.workloads import (
    NAMESPACE_BUDGETS,
    PDB_MAX_UNAVAILABLE,
    NamespaceSpec,
    Toleration,
    cpu_millicores,
    format_millicores,
    memory_bytes,
    service_namespaces,
    workload_defaults,
)

TIERS = ("platform", "tier-1", "tier-2", "tier-3")
K8S = versions.KUBERNETES_VERSION


def validate(document: dict) -> None:
    kubernetes_validate.validate(document, K8S, strict=True)


def deployment(defaults, image: str = "example/app:1.2.3") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": defaults.name, "namespace": defaults.namespace},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": defaults.selector},
            "template": {
                "metadata": {"labels": defaults.pod_labels()},
                "spec": defaults.pod_spec([{"name": "app", "image": image}]),
            },
        },
    }


@pytest.mark.parametrize("tier", TIERS)
def test_every_tier_yields_valid_kubernetes_objects(tier):
    defaults = workload_defaults(
        "checkout", namespace="checkout", tier=tier, system_nodes=tier == "platform"
    )
    validate(deployment(defaults))
    validate(defaults.pod_disruption_budget())


@pytest.mark.parametrize(
    ("tier", "max_unavailable", "zone_rule", "priority"),
    [
        ("platform", 1, "DoNotSchedule", "platform-critical"),
        ("tier-1", 1, "DoNotSchedule", "tier-1"),
        ("tier-2", "25%", "ScheduleAnyway", "tier-2"),
        ("tier-3", "50%", "ScheduleAnyway", None),
    ],
)
def test_tier_decides_disruption_spread_and_priority(tier, max_unavailable, zone_rule, priority):
    defaults = workload_defaults("api", namespace="api", tier=tier)
    pdb = defaults.pod_disruption_budget()
    assert pdb["spec"]["maxUnavailable"] == max_unavailable == PDB_MAX_UNAVAILABLE[tier]
    assert pdb["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "api"}}
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert "minAvailable" not in pdb["spec"]
    zone, host = defaults.topology_spread_constraints
    assert zone["topologyKey"] == "topology.kubernetes.io/zone"
    assert zone["whenUnsatisfiable"] == zone_rule
    assert zone["maxSkew"] == 1
    assert host["topologyKey"] == "kubernetes.io/hostname"
    assert host["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in (zone, host):
        assert constraint["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "api"}}
    spec = defaults.pod_spec([{"name": "app", "image": "x:1"}])
    assert spec.get("priorityClassName") == priority


def test_requests_and_limits_by_default():
    defaults = workload_defaults(
        "checkout", namespace="checkout", tier="tier-1", cpu="250m", memory="512Mi"
    )
    (container,) = defaults.pod_spec([{"name": "app", "image": "x:1"}])["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }


def test_a_containers_own_resources_are_kept():
    defaults = workload_defaults("api", namespace="api", tier="tier-2")
    own = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    spec = defaults.pod_spec(
        [{"name": "app", "image": "x:1", "resources": own}, {"name": "sidecar", "image": "y:1"}]
    )
    assert spec["containers"][0]["resources"] == own
    assert spec["containers"][1]["resources"] == defaults.resources


def test_tier_1_memory_limit_must_equal_the_request():
    with pytest.raises(ValueError, match="memory limit must equal its request"):
        workload_defaults("api", namespace="api", tier="tier-1", memory="1Gi", memory_limit="2Gi")
    burst = workload_defaults(
        "api", namespace="api", tier="tier-2", memory="1Gi", memory_limit="2Gi"
    )
    assert burst.resources["limits"]["memory"] == "2Gi"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cpu": "500m", "cpu_limit": "250m"}, "cpu_limit 250m is below the request 500m"),
        ({"memory": "1Gi", "memory_limit": "512Mi"}, "memory_limit 512Mi is below the request"),
        ({"cpu": "half"}, "CPU quantity 'half' must look like"),
        ({"memory": "1GB"}, "memory quantity '1GB' must look like"),
        ({"system_nodes": True}, "only platform workloads run on the system node group"),
        ({"tier": "gold"}, "tier must be one of"),
    ],
)
def test_bad_requests_are_refused(changes, message):
    args = {"namespace": "api", "tier": "tier-2", **changes}
    with pytest.raises(ValueError, match=message):
        workload_defaults("api", **args)


def test_tolerations_where_asked():
    plain = workload_defaults("api", namespace="api", tier="tier-3")
    assert plain.tolerations == []
    assert "tolerations" not in plain.pod_spec([{"name": "app", "image": "x:1"}])
    spot = Toleration("ballast.io/capacity", value="spot")
    batch = workload_defaults("batch", namespace="reports", tier="tier-3", tolerations=[spot])
    assert batch.tolerations == [
        {"key": "ballast.io/capacity", "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
    ]
    addon = workload_defaults("dns", namespace="ingress", tier="platform", system_nodes=True)
    assert addon.tolerations == [
        {"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
    ]
    preferred = addon.affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0]["values"] == ["system"]
    validate(deployment(batch))
    validate(deployment(addon))


def test_helm_values_carry_the_same_defaults():
    defaults = workload_defaults("ingress", namespace="ingress", tier="platform", system_nodes=True)
    values = defaults.helm_values()
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["priorityClassName"] == "platform-critical"
    assert values["tolerations"] == defaults.tolerations
    assert values["topologySpreadConstraints"] == defaults.topology_spread_constraints
    values["resources"]["limits"]["cpu"] = "99"  # a copy: editing it changes nothing
    assert defaults.resources["limits"]["cpu"] == "200m"


@given(millicores=st.integers(min_value=1, max_value=256_000))
def test_cpu_quantities_round_trip(millicores):
    assert cpu_millicores(format_millicores(millicores)) == millicores


@given(
    number=st.integers(min_value=1, max_value=10_000),
    suffix=st.sampled_from(["", "k", "M", "G", "Ki", "Mi", "Gi"]),
)
def test_memory_quantities_scale_with_their_suffix(number, suffix):
    factors = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    assert memory_bytes(f"{number}{suffix}") == number * factors[suffix]


@given(
    cpu=st.integers(min_value=1, max_value=8000),
    extra=st.integers(min_value=0, max_value=8000),
    memory=st.integers(min_value=1, max_value=16_384),
)
def test_limits_never_fall_below_requests(cpu, extra, memory):
    defaults = workload_defaults(
        "api",
        namespace="api",
        tier="tier-2",
        cpu=f"{cpu}m",
        cpu_limit=f"{cpu + extra}m",
        memory=f"{memory}Mi",
    )
    requests, limits = defaults.resources["requests"], defaults.resources["limits"]
    assert cpu_millicores(limits["cpu"]) >= cpu_millicores(requests["cpu"])
    assert memory_bytes(limits["memory"]) >= memory_bytes(requests["memory"])


# --- namespaces -------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_namespace_objects_are_valid(tier):
    spec = NamespaceSpec("team-a", tier)
    validate({"apiVersion": "v1", "kind": "Namespace", "metadata": spec.namespace_metadata()})
    validate(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "defaults", "namespace": "team-a"},
            "spec": spec.limit_range_spec(),
        }
    )
    validate(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "budget", "namespace": "team-a"},
            "spec": spec.resource_quota_spec(),
        }
    )
    guard = spec.platform_priority_quota_spec()
    assert (guard is None) == (tier == "platform")
    if guard:
        validate(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "no-platform-priority", "namespace": "team-a"},
                "spec": guard,
            }
        )


def test_limit_range_defaults_fit_inside_the_quota():
    for tier, budget in NAMESPACE_BUDGETS.items():
        assert memory_bytes(budget.default_memory) <= memory_bytes(budget.max_memory), tier
        assert cpu_millicores(budget.default_cpu) <= cpu_millicores(budget.default_cpu_limit)
        assert cpu_millicores(budget.max_cpu) <= cpu_millicores(budget.limits_cpu), tier


def test_a_shared_namespace_takes_its_most_critical_tier():
    specs = service_namespaces(
        [("shop", "tier-3"), ("shop", "tier-1"), ("reports", "tier-3"), ("shop", "tier-2")]
    )
    assert [(s.name, s.tier) for s in specs] == [("reports", "tier-3"), ("shop", "tier-1")]


def test_platform_namespaces_are_valid_names():
    for name in PLATFORM_NAMESPACES:
        assert NamespaceSpec(name, "platform").pod_security == "baseline"
    with pytest.raises(ValueError, match="must be a DNS-1123 label"):
        NamespaceSpec("Team_A", "tier-1")
