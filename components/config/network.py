"""`ballast:network` and `ballast:drNetwork`: the platform's VPC in the primary region and
the smaller one in the DR region. Both are validated by the same rules; the DR VPC names
another region's zones and is exempt from the prod rules meant for the VPC carrying the
traffic."""

from __future__ import annotations

import ipaddress
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import (
    _PRIVATE_RANGES,
    _context,
    _is_zone_of,
    _log_retention,
    _Section,
)

MIN_AZ_COUNT, MAX_AZ_COUNT, MIN_PROD_AZ_COUNT = 2, 6, 3
#: The subnet plan (components/network.py) carves private subnets of /(p+3) and public
#: and isolated subnets of /(p+6); /22 is the smallest VPC whose /28s still fit, /16
#: the largest AWS allows.
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 22


class NetworkConfig(_Section):
    """`ballast:network`: the VPC every other component sits on."""

    #: The validation-context key of the region whose zones availabilityZones must name.
    _zone_region: ClassVar[str] = "primary_region"
    #: Whether the prod rules apply (at least 3 zones, a NAT gateway per zone): they
    #: protect the VPC that carries the traffic.
    _prod_rules: ClassVar[bool] = True

    cidr: str = Field(
        description="VPC IPv4 block, /16 to /22 from a private range; no default, because "
        "environments that may ever be peered must not overlap."
    )
    az_count: int = Field(
        default=3,
        ge=MIN_AZ_COUNT,
        le=MAX_AZ_COUNT,
        description=f"Availability zones to span; at least {MIN_PROD_AZ_COUNT} in prod, so "
        "losing one zone leaves a majority for quorum-based workloads.",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Explicit zone names (unset: the first azCount zones the region "
        "reports as available). Pin them when zone capacity or an existing "
        "deployment matters; their count must equal azCount.",
    )
    nat_mode: Literal["per-az", "single"] = Field(
        default="per-az",
        description="'per-az': one NAT gateway per zone, so a zone outage cuts "
        "only that zone's egress. 'single' saves ~$33/month plus data processing per "
        "extra zone, but every zone then depends on one; refused in prod.",
    )
    interface_endpoints: bool = Field(
        default=False,
        description="Interface endpoints for ecr.api, ecr.dkr, sts and logs (~$7/month per "
        "endpoint per zone); turn on to keep image pulls and STS calls off the NAT "
        "gateways.",
    )
    flow_log_retention_days: int = Field(
        default=90,
        description="VPC flow log retention in CloudWatch Logs, in days: one of the "
        "periods CloudWatch accepts.",
    )

    @classmethod
    def _in_prod(cls, info: ValidationInfo) -> bool:
        """Whether the prod rules apply: a prod stack, and a VPC they protect."""
        return cls._prod_rules and _context(info, "environment") == "prod"

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})"
            ) from None
        if network.version != 4:
            raise ValueError(f"must be an IPv4 CIDR block such as 10.40.0.0/16 (got {value!r})")
        if str(network) != value:
            raise ValueError(
                f"must be a network address: {value!r} has host bits set, did you mean {network}?"
            )
        if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(
                f"must be a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} block so that every "
                f"subnet of the plan fits (got /{network.prefixlen})"
            )
        if not isinstance(network, ipaddress.IPv4Network) or not any(
            network.subnet_of(r) for r in _PRIVATE_RANGES
        ):
            raise ValueError(
                "must lie in a private range (10.0.0.0/8, 172.16.0.0/12, "
                f"192.168.0.0/16 or 100.64.0.0/10) (got {value})"
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int, info: ValidationInfo) -> int:
        if value < MIN_PROD_AZ_COUNT and cls._in_prod(info):
            raise ValueError(f"must be at least {MIN_PROD_AZ_COUNT} in prod (got {value})")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...] | None, info: ValidationInfo):
        if value is None:
            return value
        region = _context(info, cls._zone_region)
        for zone in value:
            if region and not _is_zone_of(zone, region):
                raise ValueError(f"must name zones of {region} such as {region}a (got {zone!r})")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a zone (got {list(value)})")
        count = info.data.get("az_count")
        if count is not None and len(value) != count:
            raise ValueError(f"must list exactly azCount={count} zones (got {len(value)})")
        return value

    @field_validator("nat_mode")
    @classmethod
    def _nat_mode(cls, value: str, info: ValidationInfo) -> str:
        if value == "single" and cls._in_prod(info):
            raise ValueError(
                "must be 'per-az' in prod: a single NAT gateway makes every zone's "
                "egress depend on one zone (got 'single')"
            )
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _log_retention(value)

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.cidr).prefixlen


class DrNetworkConfig(NetworkConfig):
    """`ballast:drNetwork`: the smaller VPC in the DR region that holds the database
    replica (and, after a failover, whatever the team restores there)."""

    # NetworkConfig's rules, with the zones of ballast:drRegion and without the prod
    # rules: the DR VPC idles until a failover (natMode goes to 'per-az' before it
    # takes production traffic).
    _zone_region: ClassVar[str] = "dr_region"
    _prod_rules: ClassVar[bool] = False

    cidr: str = Field(
        description="VPC IPv4 block in the DR region, /16 to /22 from a private range, not "
        "overlapping ballast:network.cidr (no default: the two VPCs may be peered). A /20 "
        "is plenty for a replica and a recovery-time cluster."
    )
    az_count: int = Field(
        default=2,
        ge=MIN_AZ_COUNT,
        le=MAX_AZ_COUNT,
        description="Availability zones of the DR VPC: the RDS subnet group needs two; a "
        "third adds NAT and endpoint cost to a region that is idle until a failover. No "
        "prod minimum here.",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Explicit zone names of the DR region (unset: the first azCount "
        "zones it reports as available); their count must equal azCount.",
    )
    nat_mode: Literal["per-az", "single"] = Field(
        default="single",
        description="'single': one NAT gateway for the idle DR VPC, ~$33/month "
        "less per extra zone; switch to 'per-az' before running production traffic there.",
    )
    flow_log_retention_days: int = Field(
        default=90,
        description="VPC flow log retention of the DR VPC, in days: one of the periods "
        "CloudWatch accepts.",
    )
