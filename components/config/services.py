"""`ballast:services`: the workloads the platform hosts, their tiers and objectives."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from components.config.base import _Section

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


class SloConfig(_Section):
    """`slo` of one service: the objectives its alerts and error budget derive from."""

    availability: float = Field(
        description="Availability objective in percent over 30 days, 90-99.999 "
        "(99.9 allows 43 minutes of errors a month)."
    )
    latency_p95_ms: int = Field(
        description="95th-percentile latency objective in milliseconds, 1-60000."
    )

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: float) -> float:
        if not 90.0 <= value <= 99.999:
            raise ValueError(f"must be a percentage between 90 and 99.999 (got {value})")
        return value

    @field_validator("latency_p95_ms")
    @classmethod
    def _latency(cls, value: int) -> int:
        if not 1 <= value <= 60_000:
            raise ValueError(f"must be between 1 and 60000 milliseconds (got {value})")
        return value


class ServiceConfig(_Section):
    """One entry of `ballast:services`: a workload the platform hosts."""

    name: str = Field(description="DNS-1123 label; also the default namespace.")
    tier: Literal["tier-1", "tier-2", "tier-3"] = Field(
        description="Criticality: tier-1 is user-facing and mission-critical, tier-3 batch."
    )
    namespace: str | None = Field(default=None, description="Namespace (default: name).")
    slo: SloConfig | None = Field(default=None, description="Objectives (default: none).")

    @field_validator("name", "namespace")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                "must be a DNS-1123 label: lowercase letters, digits and '-', starting "
                f"with a letter, at most 63 characters (got {value!r})"
            )
        return value
