"""One audit, end to end: scope -> units in the pool -> checks -> (coverage, backlog).

`audit(options)` never raises for what a service answers: failed calls become
`errors`, and what was collected is kept. It raises `ScopeError` only when the audit
cannot start at all (no usable credentials or endpoint).

The cyclic garbage collector is paused while an audit runs (`ballast.gc_pause`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from ballast.audit.checks import Context, Thresholds, run_checks
from ballast.audit.collect import SERVICES, Collector, Inventory
from ballast.audit.model import AuditError, Finding, Resource
from ballast.audit.pool import DEFAULT_DEADLINE_S, DEFAULT_WORKERS, Pool, Unit, classify
from ballast.audit.scope import (
    DEFAULT_ROLE_NAME,
    ClientFactory,
    ClientSettings,
    ScopeError,
    enabled_regions,
    role_arn,
)
from ballast.gc_pause import gc_paused

#: Exit codes of `ballast audit` (docs/audit.md).
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: Region the caller's identity and the region list are read in when none is configured.
FALLBACK_REGION = "us-east-1"


@dataclass
class AuditOptions:
    """What to audit. `accounts` empty: the caller's own account; otherwise each is
    entered through `role_name` (the caller's own account without a role). `regions`
    None: every enabled region. `services` defaults to all (`collect.SERVICES`)."""

    accounts: list[str] = field(default_factory=list)
    role_name: str = DEFAULT_ROLE_NAME
    regions: list[str] | None = None
    services: tuple[str, ...] = SERVICES
    client: ClientSettings = field(default_factory=ClientSettings)
    workers: int = DEFAULT_WORKERS
    deadline_s: float = DEFAULT_DEADLINE_S
    thresholds: Thresholds = field(default_factory=Thresholds)
    now: datetime | None = None
    session: boto3.Session | None = None


@dataclass
class AuditResult:
    findings: list[Finding]
    errors: list[AuditError]
    resources: list[Resource]
    accounts: list[str]
    regions: list[str]
    calls: int
    seconds: float

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_INCOMPLETE
        return EXIT_FINDINGS if self.findings else EXIT_CLEAN

    def stats(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
            "regions": list(self.regions),
            "accounts": list(self.accounts),
            "resources": len(self.resources),
        }


def audit(options: AuditOptions) -> AuditResult:
    started = time.monotonic()
    with gc_paused():
        factory = ClientFactory(options.client, options.session)
        try:
            return _audit(options, factory, started)
        finally:
            factory.close()


def _audit(options: AuditOptions, factory: ClientFactory, started: float) -> AuditResult:
    home = (
        (options.regions[0] if options.regions else None)
        or (options.session.region_name if options.session else None)
        or boto3.Session().region_name
        or FALLBACK_REGION
    )
    try:
        caller = factory.caller_account()
    except (BotoCoreError, ClientError) as exc:
        raise ScopeError(
            f"cannot read the caller's identity (sts:GetCallerIdentity): {exc}"
        ) from None
    errors: list[AuditError] = []
    accounts = options.accounts or [caller]
    entered = []
    for account in accounts:
        try:
            factory.add_account(
                account, None if account == caller else role_arn(account, options.role_name), home
            )
            entered.append(account)
        except (BotoCoreError, ClientError) as exc:
            kind, message = classify(exc)
            errors.append(AuditError(account, home, "sts", "AssumeRole", kind, message))
    if not entered:
        raise ScopeError("no account could be entered: " + "; ".join(e.message for e in errors))
    if options.regions is None:
        try:
            regions = enabled_regions(factory, entered[0], home)
        except (BotoCoreError, ClientError) as exc:
            raise ScopeError(
                f"cannot list the enabled regions (ec2:DescribeRegions): {exc}"
            ) from None
    else:
        regions = list(options.regions)
    home = regions[0]
    inventory = Inventory()
    collector = Collector(factory, inventory, home_region=home)
    units: list[Unit] = []
    for account in entered:
        for region in regions:
            units += collector.units(account, region, options.services)
    pool = Pool(options.workers, options.deadline_s)
    pool.run(units)
    errors += pool.errors
    context = Context(
        inventory,
        {a: list(regions) for a in entered},
        thresholds=options.thresholds,
    )
    if options.now is not None:
        context.now = options.now
    findings = run_checks(context)
    return AuditResult(
        findings=findings,
        errors=sorted(errors, key=lambda e: (e.account, e.region, e.service, e.operation)),
        resources=inventory.resources,
        accounts=entered,
        regions=regions,
        calls=factory.calls,
        seconds=time.monotonic() - started,
    )
