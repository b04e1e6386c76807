"""`ballast:ingress` and `ballast:services[].ingress`: the Pulumi-owned load balancers in
front of the cluster, and how a service opts in to one (docs/ingress.md)."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, ValidationInfo, field_validator

from components.config.base import LOG_RETENTION_DAYS, _context, _log_retention, _Section

#: A DNS name of lowercase labels (`shop.example.com`), at most 253 characters.
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
#: A Route 53 hosted zone ID as the console and API show it.
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
#: An ALB path pattern: starts with `/`, up to 128 characters of the characters ALB
#: accepts (A-Z, a-z, 0-9, _ - . $ / ~ " ' @ : + and the wildcards * and ?).
_PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&]{0,127}$")
#: Requests per client IP per 5 minutes, as WAF's rate-based statement accepts them.
MIN_WAF_RATE_LIMIT, MAX_WAF_RATE_LIMIT = 10, 2_000_000_000
#: Seconds an ALB keeps an idle connection open, as ELB accepts them.
MIN_IDLE_TIMEOUT, MAX_IDLE_TIMEOUT = 1, 4000
#: Ports a target group and a listener rule may send to.
MIN_PORT, MAX_PORT = 1, 65535


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            loose = None
        if loose is not None:
            raise ValueError(
                f"must list network addresses: {value!r} has host bits set, did you mean {loose}?"
            ) from None
        raise ValueError(
            f"must list IPv4 or IPv6 networks in CIDR notation such as 198.51.100.0/24 "
            f"(got {value!r})"
        ) from None
    return str(network)


class IngressConfig(_Section):
    """`ballast:ingress`: the public ALB (internet-facing, WAF in front) and the internal
    ALB (platform UIs), both owned by Pulumi, in the zone their host names live in."""

    hosted_zone_name: str = Field(
        description="The public Route 53 zone every ingress host name lives in, e.g. "
        "example.com. It names the certificate (*.<zone>) and is checked against every "
        "host; the zone itself is not created here."
    )
    hosted_zone_id: str | None = Field(
        default=None,
        description="ID of that zone (unset: looked up by hostedZoneName among the "
        "account's public zones). Set it when a private zone of the same name exists.",
    )
    allowed_cidrs: tuple[str, ...] = Field(
        default=("0.0.0.0/0",),
        min_length=1,
        description="Who may reach the public ALB on 80 and 443 (default: the internet). "
        "Narrow it for a partner-only or pre-launch service.",
    )
    platform_cidrs: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        description="Office and VPN ranges that may reach the internal ALB (platform UIs: "
        "Vault, Grafana, Argo CD) on 443, besides the VPC itself; never the whole "
        "internet. No default: unset, there is no internal ALB (about $16/month less; "
        "platform UIs are then reached with kubectl port-forward).",
    )
    waf_rate_limit: int = Field(
        default=2000,
        ge=MIN_WAF_RATE_LIMIT,
        le=MAX_WAF_RATE_LIMIT,
        description="Requests one client IP may make in 5 minutes before the public ALB's "
        "WAF blocks it (default 2000, about 7 a second). Lower stops floods sooner; too "
        "low blocks users behind one NAT.",
    )
    idle_timeout_seconds: int = Field(
        default=60,
        ge=MIN_IDLE_TIMEOUT,
        le=MAX_IDLE_TIMEOUT,
        description="Seconds both ALBs keep an idle connection (default 60, the ELB "
        "default). Raise it for long polling; keep the services' keep-alive above it.",
    )
    waf_log_retention_days: int = Field(
        default=90,
        description="Days the WAF log group keeps its records (default 90). Accepted: "
        + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        + ".",
    )
    access_log_retention_days: int = Field(
        default=90,
        ge=1,
        le=3653,
        description="Days ALB access logs are kept in their bucket, in staging and prod "
        "(default 90; dev writes none).",
    )

    @field_validator("hosted_zone_name")
    @classmethod
    def _zone_name(cls, value: str) -> str:
        if not _DNS_NAME.fullmatch(value):
            raise ValueError(
                "must be a DNS name of lowercase labels such as example.com, without a "
                f"trailing dot (got {value!r})"
            )
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_ID.fullmatch(value):
            raise ValueError(
                f"must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (got {value!r})"
            )
        return value

    @field_validator("allowed_cidrs", "platform_cidrs", mode="before")
    @classmethod
    def _cidrs(cls, value: object) -> object:
        if isinstance(value, (list, tuple)):
            return tuple(_network(str(v)) for v in value)
        return value

    @field_validator("platform_cidrs")
    @classmethod
    def _not_the_internet(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for cidr in value or ():
            if ipaddress.ip_network(cidr).prefixlen == 0:
                raise ValueError(
                    "must not include the whole internet: the internal ALB serves platform "
                    f"UIs to operators only (got {cidr})"
                )
        return value

    @field_validator("waf_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _log_retention(value)


class ServiceIngressConfig(_Section):
    """`ingress` of one service: a route on the public ALB to the service's pods."""

    host: str = Field(
        description="Host name the service answers on; must be inside "
        "ingress.hostedZoneName (a record is created there)."
    )
    path: str = Field(
        default="/",
        description="Path prefix routed to the service (default '/': every path of the "
        "host). '/api' routes /api and everything below it.",
    )
    port: int = Field(
        ge=MIN_PORT,
        le=MAX_PORT,
        description="The Service's port the TargetGroupBinding names; the Service's "
        "targetPort must be the same number (the ALB sends to the pods on it, and the "
        "security-group rule opens it).",
    )
    health_check_path: str = Field(
        default="/healthz", description="Path the ALB health-checks each pod on."
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str, info: ValidationInfo) -> str:
        if not _DNS_NAME.fullmatch(value):
            raise ValueError(
                f"must be a DNS name of lowercase labels such as shop.example.com (got {value!r})"
            )
        zone = _context(info, "ingress_zone")
        if zone and not in_zone(value, zone):
            raise ValueError(
                f"must be inside ballast:ingress.hostedZoneName {zone}, where its record and "
                f"certificate are made (got {value!r})"
            )
        return value

    @field_validator("path", "health_check_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.fullmatch(value):
            raise ValueError(
                "must be a path starting with '/', at most 128 characters of letters, "
                f"digits and _ - . $ / ~ \" ' @ : + & * ? (got {value!r})"
            )
        return value


def in_zone(host: str, zone: str) -> bool:
    """Whether `host` is `zone` or a name below it."""
    return host == zone or host.endswith("." + zone)
