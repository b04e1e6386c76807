"""`ballast:services`: the workloads the platform hosts, their tiers and objectives."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components.config.base import _context, _Section
from components.config.ingress import ServiceIngressConfig
from components.workloads import (
    BUDGET_CPU_FIELDS,
    BUDGET_MEMORY_FIELDS,
    NAMESPACE_BUDGETS,
    budget_order_problem,
    parse_quantity,
    tier_budget,
)

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
#: A Prometheus metric name (the data model's rule, without the `:` reserved for rules).
_METRIC_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class SloConfig(_Section):
    """`slo` of one service: the objectives its alerts and error budget derive from."""

    availability: float = Field(
        ge=90,
        le=99.999,
        description="Availability objective in percent over 30 days (99.9 allows 43 "
        "minutes of errors a month).",
    )
    latency_p95_ms: int = Field(
        ge=1,
        le=60_000,
        description="95th-percentile latency objective in milliseconds: 95 % of requests "
        "finish within it over 30 days. The latency histogram needs a bucket boundary at "
        'exactly this value (250 -> le="0.25").',
    )
    requests_metric: str = Field(
        default="http_requests_total",
        description="Request counter the service exposes, with a `code` label holding the "
        "HTTP status (default http_requests_total); 5xx count against availability.",
    )
    latency_metric: str = Field(
        default="http_request_duration_seconds",
        description="Request-duration histogram in seconds the service exposes, without "
        "the _bucket/_count suffix (default http_request_duration_seconds).",
    )
    queue_lag_seconds: float | None = Field(
        default=None,
        ge=1,
        le=86_400,
        description="Queue-lag objective in seconds, averaged over 5 minutes (unset: no "
        "queue-lag alert). Needs queueLagMetric.",
    )
    queue_lag_metric: str | None = Field(
        default=None,
        description="Gauge of the service's queue lag in seconds (unset: none).",
    )
    max_restarts_per_rollout: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Container restarts a rolling deployment may cause before the "
        "restart alert fires (0: any restart during a rollout; unset: no restart alert).",
    )

    @field_validator("requests_metric", "latency_metric", "queue_lag_metric")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not _METRIC_NAME.fullmatch(value):
            raise ValueError(
                "must be a Prometheus metric name: letters, digits and '_', not starting "
                f"with a digit (got {value!r})"
            )
        return value

    @model_validator(mode="after")
    def _queue_lag_needs_metric(self) -> SloConfig:
        if self.queue_lag_seconds is not None and self.queue_lag_metric is None:
            raise ValueError(
                "queueLagSeconds needs queueLagMetric: the gauge of the queue's lag in "
                "seconds the objective is measured on"
            )
        return self


def _default(tier: str, field: str) -> str:
    return str(getattr(NAMESPACE_BUDGETS[tier], field))


class NamespaceBudgetConfig(_Section):
    """`budget` of one service: overrides of its namespace's ResourceQuota and
    LimitRange, key by key; every key left out keeps the tier's default (the table in
    docs/cluster.md, "Namespaces, quotas and priorities"; `NAMESPACE_BUDGETS` in
    components/workloads.py). Quantities are Kubernetes quantities (`500m`, `2`,
    `512Mi`, `4Gi`)."""

    requests_cpu: str | None = Field(
        default=None,
        description="Quota: CPU all pods of the namespace may request together "
        f"(tier-1 default {_default('tier-1', 'requests_cpu')}).",
    )
    requests_memory: str | None = Field(
        default=None,
        description="Quota: memory all pods may request together (tier-1 default "
        f"{_default('tier-1', 'requests_memory')}).",
    )
    limits_cpu: str | None = Field(
        default=None,
        description="Quota: sum of the CPU limits, at least requestsCpu (tier-1 default "
        f"{_default('tier-1', 'limits_cpu')}).",
    )
    limits_memory: str | None = Field(
        default=None,
        description="Quota: sum of the memory limits, at least requestsMemory (tier-1 "
        f"default {_default('tier-1', 'limits_memory')}).",
    )
    pods: int | None = Field(
        default=None,
        ge=0,
        description=f"Quota: pods (tier-1 default {_default('tier-1', 'pods')}).",
    )
    persistent_volume_claims: int | None = Field(
        default=None,
        ge=0,
        description="Quota: PersistentVolumeClaims (tier-1 default "
        f"{_default('tier-1', 'persistent_volume_claims')}).",
    )
    default_cpu: str | None = Field(
        default=None,
        description="LimitRange: CPU request of a container that sets none (default "
        f"{_default('tier-1', 'default_cpu')}).",
    )
    default_memory: str | None = Field(
        default=None,
        description="LimitRange: memory request, and limit, of a container that sets "
        f"none (default {_default('tier-1', 'default_memory')}).",
    )
    default_cpu_limit: str | None = Field(
        default=None,
        description="LimitRange: CPU limit of a container that sets none, at least "
        f"defaultCpu (default {_default('tier-1', 'default_cpu_limit')}).",
    )
    max_cpu: str | None = Field(
        default=None,
        description="LimitRange: the most CPU one container may have as its limit, at "
        f"least defaultCpuLimit (default {_default('tier-1', 'max_cpu')}).",
    )
    max_memory: str | None = Field(
        default=None,
        description="LimitRange: the most memory one container may have, at least "
        f"defaultMemory (default {_default('tier-1', 'max_memory')}).",
    )

    @field_validator(*BUDGET_CPU_FIELDS, *BUDGET_MEMORY_FIELDS)
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            amount = parse_quantity(value)
        except ValueError as error:
            raise ValueError(f"must be a Kubernetes quantity: {error}") from None
        if amount <= 0:
            raise ValueError(f"must be a positive quantity (got {value!r})")
        return value

    def overrides(self) -> dict[str, str | int]:
        """The keys set, by their field name (what `tier_budget` takes)."""
        return self.model_dump(exclude_none=True)


#: The longest IAM policy document a role's inline policy may hold (compact JSON, bytes):
#: IAM's quota for all inline policies of one role together.
MAX_INLINE_POLICY_BYTES = 10_240


class ServiceAwsSecretsConfig(_Section):
    """`secrets.aws` of one service: the AWS rights its short-lived STS credentials carry.

    Ballast creates one IAM role for the service (through the role factory, so with the
    permission boundary), which only Vault's AWS secrets engine role may assume; Vault
    hands the service `assumed_role` credentials of it (15 minutes by default, 1 hour at
    most). An existing role ARN is not accepted: the engine may assume only the roles
    Ballast creates for it."""

    policy: dict[str, Any] = Field(
        description="The IAM policy document (a JSON object with `Version` and "
        "`Statement`) of the service's role; the environment's permission boundary "
        "still caps it."
    )

    @field_validator("policy")
    @classmethod
    def _policy_document(cls, value: dict[str, Any]) -> dict[str, Any]:
        statements = value.get("Statement")
        if value.get("Version") != "2012-10-17":
            raise ValueError(
                'must be an IAM policy document with "Version": "2012-10-17" '
                f"(got Version {value.get('Version')!r})"
            )
        if not isinstance(statements, list) or not statements:
            raise ValueError("must have a non-empty Statement list")
        for index, statement in enumerate(statements):
            if not isinstance(statement, dict) or statement.get("Effect") not in (
                "Allow",
                "Deny",
            ):
                raise ValueError(f'Statement[{index}] needs "Effect": "Allow" or "Deny"')
            if "Action" not in statement or "Resource" not in statement:
                raise ValueError(f"Statement[{index}] needs Action and Resource")
        size = len(json.dumps(value, separators=(",", ":")))
        if size > MAX_INLINE_POLICY_BYTES:
            raise ValueError(
                f"is {size} bytes of JSON; a role's inline policies may hold at most "
                f"{MAX_INLINE_POLICY_BYTES}"
            )
        return value


class ServiceSecretsConfig(_Section):
    """`secrets` of one service: the credentials it reads from Vault (docs/vault.md). Each
    service gets a Vault policy for its own paths only and a Kubernetes auth role bound to
    its namespace and service account."""

    aws: ServiceAwsSecretsConfig | None = Field(
        default=None,
        description="Short-lived AWS credentials (unset: none); see ServiceAwsSecretsConfig.",
    )
    database: bool = Field(
        default=False,
        description="Dynamic PostgreSQL users of the platform database, with rights on "
        "the service's own schema only (default false). Needs ballast:database.",
    )
    kv: bool = Field(
        default=False,
        description="A KV v2 prefix `kv/<service>/` for what cannot be dynamic (default "
        "false): third-party API keys and the like.",
    )
    service_account: str | None = Field(
        default=None,
        description="The Kubernetes service account the service's pods run as (unset: "
        "the service's name); its Vault role accepts only this account in the "
        "service's namespace.",
    )

    @field_validator("service_account")
    @classmethod
    def _account_label(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                "must be a DNS-1123 label: lowercase letters, digits and '-', starting "
                f"with a letter, at most 63 characters (got {value!r})"
            )
        return value

    @field_validator("database")
    @classmethod
    def _needs_database(cls, value: bool, info: ValidationInfo) -> bool:
        if value and _context(info, "has_database") is False:
            raise ValueError(
                "needs ballast:database: the PostgreSQL the dynamic users are created in"
            )
        return value


class ServiceConfig(_Section):
    """One entry of `ballast:services`: a workload the platform hosts."""

    name: str = Field(description="DNS-1123 label; also the default namespace.")
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Criticality: tier-1 is user-facing and mission-critical, tier-3 batch."
    )
    namespace: str | None = Field(default=None, description="Namespace (unset: name).")
    slo: SloConfig | None = Field(default=None, description="Objectives.")
    ingress: ServiceIngressConfig | None = Field(
        default=None,
        description="A route on the public ALB to this service (unset: not reachable from "
        "outside the cluster). Needs ballast:ingress.",
    )
    budget: NamespaceBudgetConfig | None = Field(
        default=None,
        description="Overrides of the namespace's quota and container defaults (unset: "
        "the tier's); see NamespaceBudgetConfig. A namespace takes at most one budget, "
        "from a service of the namespace's tier.",
    )

    secrets: ServiceSecretsConfig | None = Field(
        default=None,
        description="Credentials the service reads from Vault (unset: none); see "
        "ServiceSecretsConfig. Needs ballast:vault.",
    )

    @field_validator("secrets")
    @classmethod
    def _needs_vault(
        cls, value: ServiceSecretsConfig | None, info: ValidationInfo
    ) -> ServiceSecretsConfig | None:
        if value is not None and _context(info, "has_vault") is False:
            raise ValueError("needs ballast:vault: the Vault that issues the credentials")
        return value

    @property
    def service_account(self) -> str:
        """The service account its Vault role accepts (`secrets.serviceAccount` or the
        service's name)."""
        account = self.secrets.service_account if self.secrets is not None else None
        return account or self.name

    @field_validator("name", "namespace")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                "must be a DNS-1123 label: lowercase letters, digits and '-', starting "
                f"with a letter, at most 63 characters (got {value!r})"
            )
        return value

    @field_validator("ingress")
    @classmethod
    def _needs_ingress_section(
        cls, value: ServiceIngressConfig | None, info: ValidationInfo
    ) -> ServiceIngressConfig | None:
        if value is not None and _context(info, "has_ingress") is False:
            raise ValueError(
                "needs ballast:ingress: the public ALB, its zone and certificate the route "
                "is made on"
            )
        return value

    @field_validator("budget")
    @classmethod
    def _budget(
        cls, value: NamespaceBudgetConfig | None, info: ValidationInfo
    ) -> NamespaceBudgetConfig | None:
        tier = info.data.get("tier")
        if value is None or tier is None:
            return value
        merged = tier_budget(tier, value.overrides())
        wrong = budget_order_problem(merged)
        if wrong is not None:
            low, high = wrong
            origin = {f: "" if f in value.overrides() else f", the {tier} default" for f in wrong}
            raise ValueError(
                f"{to_camel(high)} must be at least {to_camel(low)} (got {to_camel(high)} "
                f"{getattr(merged, high)}{origin[high]}, {to_camel(low)} "
                f"{getattr(merged, low)}{origin[low]})"
            )
        return value
