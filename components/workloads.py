"""Safe defaults for anything that runs on the cluster, as plain Kubernetes data.

`workload_defaults(...)` turns "spread across zones, a disruption budget, requests and
limits, the right priority, tolerations where asked" from a checklist into one call::

    defaults = workload_defaults("checkout", namespace="checkout", tier="tier-1",
                                 cpu="250m", memory="512Mi")
    pod_spec = defaults.pod_spec([{"name": "app", "image": "example/checkout:1.4.2"}])
    pdb = defaults.pod_disruption_budget()          # a policy/v1 manifest
    values = defaults.helm_values()                 # the same, as common chart values

Also the cluster's tiers: the PriorityClasses, and the LimitRange and ResourceQuota every
namespace gets. Nothing here creates resources (components/cluster/ does); everything
is a function of plain values, so tests validate it against the Kubernetes schemas.

Tiers: `platform` for platform add-ons, then the service tiers of `ballast:services`.

| tier | PriorityClass | zone spread | PDB maxUnavailable | memory limit |
| --- | --- | --- | --- | --- |
| platform | platform-critical | required (DoNotSchedule) | 1 | = request |
| tier-1 | tier-1 | required (DoNotSchedule) | 1 | = request |
| tier-2 | tier-2 | preferred (ScheduleAnyway) | 25% | >= request |
| tier-3 | none (priority 0) | preferred (ScheduleAnyway) | 50% | >= request |
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from components.tags import NODE_GROUP_LABEL, SYSTEM_TAINT_KEY, TIER_LABEL

WorkloadTier = Literal["platform", "tier-1", "tier-2", "tier-3"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"
SYSTEM_NODE_GROUP = "system"


@dataclass(frozen=True)
class PriorityClassSpec:
    name: str
    value: int
    description: str


#: Highest first. Kubernetes' own system-cluster-critical (2,000,000,000) stays above all
#: of them; tier-3 has no class and runs at priority 0, so it is preempted first.
PRIORITY_CLASSES: tuple[PriorityClassSpec, ...] = (
    PriorityClassSpec(
        "platform-critical",
        1_000_000,
        "Platform add-ons (autoscaler, ingress, observability): they keep every tier running.",
    ),
    PriorityClassSpec(
        "tier-1", 100_000, "User-facing, mission-critical services; preempt tier-2 and tier-3."
    ),
    PriorityClassSpec(
        "tier-2", 10_000, "Important services that degrade gracefully; preempt tier-3."
    ),
)
PRIORITY_CLASS_OF_TIER: dict[str, str | None] = {
    "platform": "platform-critical",
    "tier-1": "tier-1",
    "tier-2": "tier-2",
    "tier-3": None,
}
#: How many pods of a workload a voluntary disruption (drain, upgrade, scale-down) may
#: take at once. `maxUnavailable`, never `minAvailable`: a single-replica workload can
#: still be drained, so a PDB never blocks a node upgrade forever.
PDB_MAX_UNAVAILABLE: dict[str, int | str] = {
    "platform": 1,
    "tier-1": 1,
    "tier-2": "25%",
    "tier-3": "50%",
}
#: Tiers whose pods must be spread across zones (a zone without room leaves the pod
#: pending, which the autoscaler then fixes in that zone) rather than merely preferring it.
STRICT_SPREAD_TIERS = frozenset({"platform", "tier-1"})
#: Tiers whose memory limit must equal the request: the scheduler then reserves all the
#: memory the pod may use, and it is never the victim of a neighbour's overcommit.
GUARANTEED_MEMORY_TIERS = frozenset({"platform", "tier-1"})
#: CPU limit = this many times the request, unless given: room for bursts, but a
#: runaway container cannot starve its node.
DEFAULT_CPU_LIMIT_FACTOR = 2

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


#: A Kubernetes quantity (apimachinery's `resource.Quantity` grammar): a signed decimal
#: number, then a binary suffix (Ki..Ei), a decimal exponent (e3, E-2) or a decimal SI
#: suffix (m, none, k, M, G, T, P, E).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?\d+)|(?P<si>[mkMGTPE]?))$"
)
_BINARY_FACTORS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_SI_EXPONENTS = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(quantity: str) -> Decimal:
    """The value of a Kubernetes quantity (`250m` -> 0.25, `2Gi` -> 2147483648,
    `1.5e3` -> 1500), as the API server reads it; ValueError, naming the accepted forms,
    for anything else."""
    match = _QUANTITY.fullmatch(str(quantity))
    if match is None:
        raise ValueError(
            f"{quantity!r} is not a Kubernetes quantity: a number with an optional suffix "
            "(m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3), "
            "e.g. 500m, 2, 512Mi, 4Gi"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"{quantity!r} is not a Kubernetes quantity") from None
    if match["binary"]:
        return number * _BINARY_FACTORS[match["binary"]]
    exponent = (
        int(match["exponent"]) if match["exponent"] is not None else _SI_EXPONENTS[match["si"]]
    )
    return number.scaleb(exponent)


def cpu_millicores(quantity: str) -> int:
    """`250m` -> 250, `1.5` -> 1500 (whole millicores only, as the API stores them)."""
    match = _CPU.fullmatch(str(quantity).strip())
    if not match:
        raise ValueError(f"CPU quantity {quantity!r} must look like 250m, 1 or 1.5")
    number, milli = match.groups()
    value = float(number) if not milli else float(number) / 1000
    millicores = round(value * 1000)
    if millicores <= 0 or abs(value * 1000 - millicores) > 1e-6:
        raise ValueError(f"CPU quantity {quantity!r} must be a positive number of millicores")
    return millicores


def memory_bytes(quantity: str) -> int:
    """`512Mi` -> 536870912, `1G` -> 10**9 (whole numbers with a binary or SI suffix)."""
    match = _MEMORY.fullmatch(str(quantity).strip())
    if not match:
        raise ValueError(f"memory quantity {quantity!r} must look like 512Mi, 2Gi or 1G")
    number, suffix = match.groups()
    value = int(number) * _MEMORY_FACTORS[suffix]
    if value <= 0:
        raise ValueError(f"memory quantity {quantity!r} must be positive")
    return value


def format_millicores(millicores: int) -> str:
    return f"{millicores // 1000}" if millicores % 1000 == 0 else f"{millicores}m"


@dataclass(frozen=True)
class Toleration:
    """A toleration; `value=None` tolerates any value of the key (operator Exists)."""

    key: str
    effect: TaintEffect = "NoSchedule"
    value: str | None = None

    def manifest(self) -> dict[str, str]:
        if self.value is None:
            return {"key": self.key, "operator": "Exists", "effect": self.effect}
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


#: Tolerates the system node group's taint (whatever its value).
SYSTEM_NODES_TOLERATION = Toleration(SYSTEM_TAINT_KEY)


@dataclass(frozen=True)
class WorkloadDefaults:
    """The defaults for one workload, as Kubernetes data (camelCase, ready to embed)."""

    name: str
    namespace: str
    tier: WorkloadTier
    selector: dict[str, str]
    """Labels the pods carry and every selector below matches."""
    resources: dict[str, dict[str, str]]
    """`requests` and `limits` for each container that sets none of its own."""
    tolerations: list[dict[str, str]]
    topology_spread_constraints: list[dict[str, Any]]
    priority_class_name: str | None
    max_unavailable: int | str
    affinity: dict[str, Any] | None = None
    """Preference for the system node group (platform add-ons only)."""

    def pod_spec(self, containers: Sequence[Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
        """A pod spec: `containers` (given `resources` kept, the defaults otherwise), the
        spread, tolerations, priority and affinity, then `extra` fields (camelCase)."""
        if not containers:
            raise ValueError(f"{self.name}: a pod needs at least one container")
        spec: dict[str, Any] = {
            "containers": [
                {**c, "resources": c.get("resources") or _copy(self.resources)} for c in containers
            ],
            "topologySpreadConstraints": _copy(self.topology_spread_constraints),
        }
        if self.tolerations:
            spec["tolerations"] = _copy(self.tolerations)
        if self.priority_class_name:
            spec["priorityClassName"] = self.priority_class_name
        if self.affinity:
            spec["affinity"] = _copy(self.affinity)
        spec.update(extra)
        return spec

    def pod_labels(self) -> dict[str, str]:
        return dict(self.selector)

    def pod_disruption_budget(self) -> dict[str, Any]:
        """A policy/v1 PodDisruptionBudget selecting the workload's pods.

        `unhealthyPodEvictionPolicy: AlwaysAllow`: pods that are not Ready (crash loops)
        can always be evicted, so a broken rollout never blocks draining a node."""
        return {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "maxUnavailable": self.max_unavailable,
                "selector": {"matchLabels": dict(self.selector)},
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
        }

    def helm_values(self) -> dict[str, Any]:
        """The same defaults under the value names most charts use (`resources`,
        `tolerations`, `topologySpreadConstraints`, `priorityClassName`, `affinity`,
        `podDisruptionBudget`). Check each chart's values before relying on one."""
        values: dict[str, Any] = {
            "resources": _copy(self.resources),
            "tolerations": _copy(self.tolerations),
            "topologySpreadConstraints": _copy(self.topology_spread_constraints),
            "podDisruptionBudget": {"maxUnavailable": self.max_unavailable},
        }
        if self.priority_class_name:
            values["priorityClassName"] = self.priority_class_name
        if self.affinity:
            values["affinity"] = _copy(self.affinity)
        return values


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def topology_spread(selector: Mapping[str, str], *, strict: bool) -> list[dict[str, Any]]:
    """Spread across zones (required when `strict`, else preferred), then across nodes
    (always preferred). `matchLabelKeys: [pod-template-hash]` counts only the pods of the
    same rollout, so a Deployment update does not skew the new pods into one zone."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key, hard in ((ZONE_KEY, strict), (HOST_KEY, False))
    ]


def system_node_affinity() -> dict[str, Any]:
    """Prefer the system node group (tolerating its taint only allows it)."""
    return {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [
                            {
                                "key": NODE_GROUP_LABEL,
                                "operator": "In",
                                "values": [SYSTEM_NODE_GROUP],
                            }
                        ]
                    },
                }
            ]
        }
    }


def workload_defaults(
    name: str,
    *,
    namespace: str,
    tier: WorkloadTier,
    cpu: str = "100m",
    memory: str = "128Mi",
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
    tolerations: Sequence[Toleration] = (),
    system_nodes: bool = False,
    selector: Mapping[str, str] | None = None,
) -> WorkloadDefaults:
    """The safe shape for one workload of `tier` (see the module docstring's table).

    `cpu`/`memory` are the requests of each container. `memory_limit` defaults to the
    request and must equal it for platform and tier-1 workloads; `cpu_limit` defaults to
    twice the request. `tolerations` are added as given; `system_nodes=True` lets the
    workload onto the system node group (tolerates its taint) and prefers it: for
    platform add-ons only. `selector` defaults to `app.kubernetes.io/name: <name>`.
    """
    if tier not in PDB_MAX_UNAVAILABLE:
        raise ValueError(f"tier must be one of {', '.join(PDB_MAX_UNAVAILABLE)} (got {tier!r})")
    for what, value in (("name", name), ("namespace", namespace)):
        if not _NAME.fullmatch(value):
            raise ValueError(f"{what} {value!r} must be a DNS-1123 label")
    if system_nodes and tier != "platform":
        raise ValueError(
            f"{name}: only platform workloads run on the system node group (tier is {tier})"
        )
    cpu_request = cpu_millicores(cpu)
    cpu_max = (
        cpu_millicores(cpu_limit)
        if cpu_limit is not None
        else cpu_request * DEFAULT_CPU_LIMIT_FACTOR
    )
    if cpu_max < cpu_request:
        raise ValueError(f"{name}: cpu_limit {cpu_limit} is below the request {cpu}")
    memory_max = memory_limit if memory_limit is not None else memory
    if memory_bytes(memory_max) < memory_bytes(memory):
        raise ValueError(f"{name}: memory_limit {memory_limit} is below the request {memory}")
    if tier in GUARANTEED_MEMORY_TIERS and memory_bytes(memory_max) != memory_bytes(memory):
        raise ValueError(
            f"{name}: a {tier} workload's memory limit must equal its request ({memory}), "
            f"so the node never overcommits the memory it relies on (got {memory_limit})"
        )
    labels = dict(selector) if selector else {"app.kubernetes.io/name": name}
    all_tolerations = list(tolerations) + ([SYSTEM_NODES_TOLERATION] if system_nodes else [])
    unique = list(dict.fromkeys(all_tolerations))
    return WorkloadDefaults(
        name=name,
        namespace=namespace,
        tier=tier,
        selector=labels,
        resources={
            "requests": {"cpu": format_millicores(cpu_request), "memory": memory},
            "limits": {"cpu": format_millicores(cpu_max), "memory": memory_max},
        },
        tolerations=[t.manifest() for t in unique],
        topology_spread_constraints=topology_spread(labels, strict=tier in STRICT_SPREAD_TIERS),
        priority_class_name=PRIORITY_CLASS_OF_TIER[tier],
        max_unavailable=PDB_MAX_UNAVAILABLE[tier],
        affinity=system_node_affinity() if system_nodes else None,
    )


# --- namespaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NamespaceBudget:
    """What one namespace of a tier may use in total (ResourceQuota) and what a container
    gets when it says nothing (LimitRange)."""

    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    persistent_volume_claims: int
    default_cpu: str = "100m"
    default_memory: str = "128Mi"
    default_cpu_limit: str = "500m"
    max_cpu: str = "4"
    max_memory: str = "8Gi"


#: The budget's fields that are CPU quantities, memory quantities and counts, and the
#: pairs where the first must not exceed the second (a quota's limits cover its requests;
#: a LimitRange's default limit covers its default request, and its max covers both).
BUDGET_CPU_FIELDS = ("requests_cpu", "limits_cpu", "default_cpu", "default_cpu_limit", "max_cpu")
BUDGET_MEMORY_FIELDS = ("requests_memory", "limits_memory", "default_memory", "max_memory")
BUDGET_COUNT_FIELDS = ("pods", "persistent_volume_claims")
BUDGET_ORDER = (
    ("requests_cpu", "limits_cpu"),
    ("requests_memory", "limits_memory"),
    ("default_cpu", "default_cpu_limit"),
    ("default_cpu_limit", "max_cpu"),
    ("default_memory", "max_memory"),
)


def budget_order_problem(budget: NamespaceBudget) -> tuple[str, str] | None:
    """The first pair of `BUDGET_ORDER` whose smaller side exceeds the larger one (None
    when every pair is in order): the API server refuses such a LimitRange, and such a
    quota's requests could never all be used."""
    for low, high in BUDGET_ORDER:
        if parse_quantity(getattr(budget, low)) > parse_quantity(getattr(budget, high)):
            return low, high
    return None


def tier_budget(tier: str, overrides: Mapping[str, Any] | None = None) -> NamespaceBudget:
    """The budget of a namespace of `tier`: the tier's defaults (`NAMESPACE_BUDGETS`),
    with `overrides` (field name -> value, e.g. a service's `budget` from the config)."""
    return dataclasses.replace(NAMESPACE_BUDGETS[tier], **dict(overrides or {}))


#: Per-namespace ceilings. They are guard rails against a runaway (a replica count typo,
#: a leak of PVCs), not capacity planning: raise them in a reviewed change when a
#: service outgrows them.
NAMESPACE_BUDGETS: dict[str, NamespaceBudget] = {
    "platform": NamespaceBudget("8", "16Gi", "16", "16Gi", pods=100, persistent_volume_claims=20),
    "tier-1": NamespaceBudget("16", "32Gi", "32", "32Gi", pods=200, persistent_volume_claims=20),
    "tier-2": NamespaceBudget("8", "16Gi", "16", "16Gi", pods=100, persistent_volume_claims=10),
    "tier-3": NamespaceBudget("4", "8Gi", "8", "8Gi", pods=50, persistent_volume_claims=10),
}


@dataclass(frozen=True)
class NamespaceSpec:
    """A namespace the cluster creates, with its tier's LimitRange and ResourceQuota."""

    name: str
    tier: WorkloadTier
    load_balancers: int = 0
    """Services of type LoadBalancer allowed (default 0: traffic enters through the
    platform's ingress; every extra load balancer is one more thing that must be gone
    before the cluster can be destroyed)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    budget: NamespaceBudget | None = None
    """Quota and container defaults (default: the tier's, `NAMESPACE_BUDGETS`); a
    service's `budget` in the config overrides them field by field (`tier_budget`)."""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"namespace {self.name!r} must be a DNS-1123 label")
        if self.tier not in NAMESPACE_BUDGETS:
            raise ValueError(f"namespace {self.name}: unknown tier {self.tier!r}")
        if self.budget is not None and (wrong := budget_order_problem(self.budget)):
            raise ValueError(f"namespace {self.name}: {wrong[0]} exceeds {wrong[1]}")

    @property
    def effective_budget(self) -> NamespaceBudget:
        """`budget`, or the tier's default."""
        return self.budget if self.budget is not None else NAMESPACE_BUDGETS[self.tier]

    @property
    def pod_security(self) -> str:
        """Pod Security Standard enforced: `restricted` for services, `baseline` for
        platform add-ons (some need host paths or extra capabilities); both warn and
        audit against `restricted`."""
        return "baseline" if self.tier == "platform" else "restricted"

    def namespace_metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "labels": {
                **self.labels,
                TIER_LABEL: self.tier,
                "pod-security.kubernetes.io/enforce": self.pod_security,
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        }

    def limit_range_spec(self) -> dict[str, Any]:
        budget = self.effective_budget
        memory_limit = budget.default_memory  # memory limit = request by default
        return {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {
                        "cpu": budget.default_cpu,
                        "memory": budget.default_memory,
                    },
                    "default": {"cpu": budget.default_cpu_limit, "memory": memory_limit},
                    "max": {"cpu": budget.max_cpu, "memory": budget.max_memory},
                }
            ]
        }

    def resource_quota_spec(self) -> dict[str, Any]:
        budget = self.effective_budget
        return {
            "hard": {
                "requests.cpu": budget.requests_cpu,
                "requests.memory": budget.requests_memory,
                "limits.cpu": budget.limits_cpu,
                "limits.memory": budget.limits_memory,
                "pods": str(budget.pods),
                "persistentvolumeclaims": str(budget.persistent_volume_claims),
                "services.loadbalancers": str(self.load_balancers),
            }
        }

    def platform_priority_quota_spec(self) -> dict[str, Any] | None:
        """For non-platform namespaces: no pod may use the platform-critical priority
        (a quota of 0 pods in that priority class scope); None for platform namespaces."""
        if self.tier == "platform":
            return None
        return {
            "hard": {"pods": "0"},
            "scopeSelector": {
                "matchExpressions": [
                    {
                        "scopeName": "PriorityClass",
                        "operator": "In",
                        "values": ["platform-critical"],
                    }
                ]
            },
        }


def service_namespaces(services: Sequence[tuple[str, str]]) -> list[NamespaceSpec]:
    """One namespace per distinct service namespace, from (namespace, tier) pairs; a
    namespace shared by services of several tiers takes the most critical tier."""
    order = ("tier-1", "tier-2", "tier-3")
    tiers: dict[str, str] = {}
    for namespace, tier in services:
        if tier not in order:
            raise ValueError(f"service namespace {namespace}: unknown tier {tier!r}")
        current = tiers.get(namespace)
        if current is None or order.index(tier) < order.index(current):
            tiers[namespace] = tier
    return [NamespaceSpec(name, tier) for name, tier in sorted(tiers.items())]  # type: ignore[arg-type]
