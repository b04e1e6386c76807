"""`ballast:services`: the workloads the platform hosts, their tiers and objectives."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import _context, _Section
from components.config.ingress import ServiceIngressConfig

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


class SloConfig(_Section):
    """`slo` of one service: the objectives its alerts and error budget derive from."""

    availability: float = Field(
        ge=90,
        le=99.999,
        description="Availability objective in percent over 30 days (99.9 allows 43 "
        "minutes of errors a month).",
    )
    latency_p95_ms: int = Field(
        ge=1, le=60_000, description="95th-percentile latency objective in milliseconds."
    )


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
