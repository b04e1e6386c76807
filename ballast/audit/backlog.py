"""Findings into a risk-ranked backlog (the blueprint's step 4).

Findings of one check in one account join one item (the same fix, done once per
account). Each item carries:

- `risk`: the worst severity among its findings (critical 4 ... low 1), times 1.5 when
  a resource is tier-1 or tier-0 (tag `tier`), plus the waste in dollars/1000;
- `business_dependency`: the `service`, `tier` and `owner` tags of its resources;
- `effort` and `type`: `EFFORT` per check (quick win: a setting or a delete, 1-2
  points; medium: a change that needs a rollout, 3-5; strategic: a re-platforming that
  Ballast's component replaces, 8); `points` grow by one per 10 resources;
- `success_criteria`: the check no longer finds anything in the account on a re-run;
- `theme`: security, reliability, cost or delivery (from the check).

Ranked by score = risk x 10 / points (value per point), highest first; ties by check id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ballast.audit.checks import REGISTRY
from ballast.audit.model import Finding

SEVERITY_RISK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
#: (type, points) per check; a check not listed is "medium", 3 points.
EFFORT: dict[str, tuple[str, int]] = {
    **{c: ("quick win", 1) for c in (
        "ebs-volume-unattached", "eip-unassociated", "ami-old-unused", "ebs-snapshot-old",
        "ebs-default-encryption-off", "s3-account-public-access-block-off",
        "s3-bucket-public-access-block-off", "s3-unversioned", "s3-unencrypted",
        "s3-public-acl", "s3-public-policy", "elb-no-access-logs", "elb-http-no-redirect",
        "elb-tls-policy-old", "cloudtrail-no-log-validation", "cloudtrail-not-logging",
        "guardduty-off", "rds-no-deletion-protection", "rds-backup-retention-short",
        "iam-access-key-unused", "eks-control-plane-logging-off", "sg-admin-ports-open",
        "sg-database-ports-open", "eks-public-endpoint-open", "rds-public",
    )},
    **{c: ("quick win", 2) for c in (
        "iam-access-key-old", "iam-console-no-mfa", "secret-no-rotation",
        "route53-failover-no-health-check", "cloudtrail-no-multi-region", "elb-no-waf",
    )},
    **{c: ("medium", 3) for c in (
        "elb-single-az", "rds-single-az", "ec2-imdsv1-allowed", "eks-system-nodegroup-untainted",
        "eks-nodegroup-remote-ssh", "backup-no-plan", "iam-passrole-wildcard",
    )},
    **{c: ("medium", 5) for c in (
        "iam-admin-access", "iam-privilege-escalation", "iam-role-no-boundary",
        "eks-nodegroup-single-az", "rds-tier1-no-dr", "ebs-volume-unencrypted",
    )},
    **{c: ("strategic", 8) for c in (
        "eks-secrets-not-encrypted", "rds-unencrypted", "org-no-scps",
    )},
}  # fmt: skip
CRITICAL_TIERS = {"tier-0", "tier0", "0", "tier-1", "tier1", "1"}


@dataclass(frozen=True)
class BacklogItem:
    rank: int
    key: str
    title: str
    check: str
    account: str
    theme: str
    severity: str
    risk: float
    business_dependency: dict[str, list[str]]
    effort: str
    type: str
    points: int
    score: float
    monthly_cost: float
    resources: list[str]
    success_criteria: str
    remediation: str
    prevented_by: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_backlog(findings: list[Finding]) -> list[BacklogItem]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check, f.account), []).append(f)
    drafts: list[dict[str, Any]] = []
    for (check_id, account), items in groups.items():
        c = REGISTRY[check_id]
        kind, base_points = EFFORT.get(check_id, ("medium", 3))
        points = base_points + len(items) // 10
        dependency = {
            tag: sorted({f.tags[tag] for f in items if f.tags.get(tag)})
            for tag in ("service", "tier", "owner")
        }
        critical = any(t.lower() in CRITICAL_TIERS for t in dependency["tier"])
        cost = round(sum(f.monthly_cost or 0.0 for f in items), 2)
        risk = round(SEVERITY_RISK[c.severity] * (1.5 if critical else 1.0) + cost / 1000, 3)
        drafts.append(
            dict(
                key=f"{check_id}@{account}", title=f"{c.title} ({len(items)} in {account})",
                check=check_id, account=account, theme=c.theme, severity=c.severity, risk=risk,
                business_dependency=dependency, effort=f"{points} points", type=kind,
                points=points, score=round(risk * 10 / points, 3), monthly_cost=cost,
                resources=sorted(f.resource for f in items),
                success_criteria=f"A re-run of `ballast audit` finds no {check_id} in account {account}.",
                remediation=c.remediation, prevented_by=list(c.prevented_by),
            )
        )  # fmt: skip
    drafts.sort(key=lambda d: (-d["score"], d["check"], d["account"]))
    return [BacklogItem(rank=i + 1, **d) for i, d in enumerate(drafts)]
