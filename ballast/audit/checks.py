"""The checks an audit runs over the discovered inventory, one registry.

Each check has an id, a title, a severity (critical, high, medium, low), a theme
(security, reliability, cost, delivery), a remediation, and `prevented_by`: what makes
the finding impossible on Ballast, as `policy:<policy-pack policy name>` or
`component:<Ballast component class>` (empty when Ballast does not prevent it yet). A
check yields `Hit`s: the resource, the evidence (the offending values) and, for waste,
the monthly cost.

Thresholds (`Thresholds`): AMIs and snapshots older than 180 days, access keys older
than 90 days or unused for 90 days, RDS backups under 7 days. Costs are us-east-1
on-demand list prices (`PRICES`), an estimate, not a bill.

The IAM checks read documents with the policy pack's own parser and action lists
(`policy-pack/ballast_guardrails/iam_document.py`, `escalation.py`), so the audit flags
exactly what the guardrails refuse on Ballast.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ballast.audit.collect import Inventory
from ballast.audit.model import Finding, Resource

SEVERITIES = ("critical", "high", "medium", "low")
THEMES = ("security", "reliability", "cost", "delivery")

#: USD per GB-month of EBS by volume type, snapshots, and per idle Elastic IP-month.
PRICES = {
    "gp2": 0.10, "gp3": 0.08, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015,
    "standard": 0.05, "snapshot": 0.05, "elastic-ip": 3.60,
}  # fmt: skip
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
#: TCP ports no security group opens to the internet: SSH, RDP, and database engines.
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
DATABASE_PORTS = {3306: "MySQL", 5432: "PostgreSQL", 1433: "SQL Server", 1521: "Oracle",
                  27017: "MongoDB", 6379: "Redis", 9200: "Elasticsearch"}  # fmt: skip
WORLD = ("0.0.0.0/0", "::/0")
#: The EKS control-plane log types Ballast turns on.
EKS_LOG_TYPES = ("api", "audit", "authenticator")
#: Labels and taints that mark a system node group (Ballast's `ballast.io/pool=system`,
#: and the common `CriticalAddonsOnly`/`role=system` conventions).
SYSTEM_LABELS = {"ballast.io/pool": "system", "role": "system", "node-role": "system"}
OLD_TLS_POLICIES = ("ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-0-2015-04",
                    "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-2015-05",
                    "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08")  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    """Ages and floors the checks use; defaults in the module docstring."""

    image_days: int = 180
    snapshot_days: int = 180
    key_days: int = 90
    key_unused_days: int = 90
    backup_days: int = 7


@dataclass
class Context:
    """What a check sees: the inventory, the audited regions per account, the clock."""

    inventory: Inventory
    regions: dict[str, list[str]]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True)
class Hit:
    resource: Resource
    evidence: dict[str, Any]
    cost: float | None = None


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: str
    theme: str
    remediation: str
    prevented_by: tuple[str, ...]
    run: Callable[[Context], Iterator[Hit]]


REGISTRY: dict[str, Check] = {}


def check(
    id: str, title: str, severity: str, theme: str, remediation: str, prevented_by: tuple[str, ...]
) -> Callable[[Callable[[Context], Iterator[Hit]]], Callable[[Context], Iterator[Hit]]]:
    if severity not in SEVERITIES or theme not in THEMES:
        raise ValueError(f"check {id}: unknown severity {severity!r} or theme {theme!r}")

    def register(fn: Callable[[Context], Iterator[Hit]]) -> Callable[[Context], Iterator[Hit]]:
        if id in REGISTRY:
            raise ValueError(f"check {id} is declared twice")
        REGISTRY[id] = Check(id, title, severity, theme, remediation, prevented_by, fn)
        return fn

    return register


def run_checks(ctx: Context, only: set[str] | None = None) -> list[Finding]:
    """Every registered check (or those in `only`) over the inventory, as findings."""
    findings = []
    for c in REGISTRY.values():
        if only is not None and c.id not in only:
            continue
        for hit in c.run(ctx):
            r = hit.resource
            findings.append(
                Finding(
                    check=c.id, title=c.title, severity=c.severity, theme=c.theme,
                    account=r.account, region=r.region, service=r.service,
                    resource=r.key, evidence=hit.evidence, remediation=c.remediation,
                    prevented_by=c.prevented_by,
                    monthly_cost=round(hit.cost, 2) if hit.cost is not None else None,
                    tags=dict(r.tags),
                )
            )  # fmt: skip
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(
        findings, key=lambda f: (order[f.severity], f.check, f.account, f.region, f.resource)
    )


def _age_days(ctx: Context, stamp: str) -> float | None:
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (ctx.now - when) / timedelta(days=1)


# --- the policy pack's IAM reading ---------------------------------------------------


#: The pack's modules the IAM checks read, both standard-library only.
_PACK_MODULES = ("iam_document", "escalation")


@cache
def _guardrails() -> tuple[ModuleType, ModuleType]:
    """The pack's policy-document parser and its escalation action lists
    (`policy-pack/ballast_guardrails/iam_document.py`, `escalation.py`).

    Loaded from their files, not through the package, when the package is not imported
    yet: its `__init__` declares every policy and so imports pulumi-policy and pulumi
    (~0.25 s of every audit), and these two modules need neither. Where the pack
    is already imported (the tests), its own modules are used.
    """
    loaded = []
    for name in _PACK_MODULES:
        module = sys.modules.get(f"ballast_guardrails.{name}")
        if module is None:
            private = f"_ballast_audit_{name}"
            module = sys.modules.get(private)
        if module is None:
            path = Path(__file__).resolve().parents[2] / "policy-pack" / "ballast_guardrails"
            spec = importlib.util.spec_from_file_location(private, path / f"{name}.py")
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path / name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[private] = module
            spec.loader.exec_module(module)
        loaded.append(module)
    return loaded[0], loaded[1]


def _document(statements: list[dict[str, Any]]) -> Any:
    document, _ = _guardrails()
    return document.parse({"Version": "2012-10-17", "Statement": statements})


def _is_admin(r: Resource) -> list[str]:
    """Why the principal is an administrator (empty when it is not)."""
    reasons = [
        a for a in r.data["attached"] if a.rsplit("/", 1)[-1].lower() == "administratoraccess"
    ]
    if _document(r.data["statements"]).star_on_star():
        reasons.append("Allow * on *")
    return reasons


def _principals(ctx: Context) -> list[Resource]:
    return [
        r
        for r in ctx.inventory.of("iam", "role") + ctx.inventory.of("iam", "user")
        if not r.data.get("service_linked")
    ]


def _starred_grants(r: Resource, action: str) -> bool:
    document, _ = _guardrails()
    return any(
        any(document.is_star(res) for res in s.resources)
        for s in _document(r.data["statements"]).granting(action)
    )


# --- EKS -----------------------------------------------------------------------------


@check("eks-nodegroup-single-az", "EKS node group in one availability zone", "high",
       "reliability", "Give the node group subnets in at least two zones (one per zone).",
       ("policy:eks-nodegroup-multi-az", "component:Cluster"))  # fmt: skip
def _nodegroup_single_az(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "nodegroup"):
        if len(r.data["subnets"]) < 2:
            yield Hit(r, {"subnets": r.data["subnets"]})


@check("eks-system-nodegroup-untainted", "System node group without a taint", "medium",
       "reliability", "Taint system node groups (CriticalAddonsOnly=true:NoSchedule) so "
       "workloads cannot crowd out cluster add-ons.", ("component:Cluster",))  # fmt: skip
def _system_untainted(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "nodegroup"):
        labels = r.data["labels"]
        system = any(labels.get(k) == v for k, v in SYSTEM_LABELS.items()) or "system" in r.name
        if system and not r.data["taints"]:
            yield Hit(r, {"labels": labels, "taints": []})


@check("eks-public-endpoint-open", "EKS API endpoint public to the whole internet",
       "critical", "security", "Turn the public endpoint off, or restrict publicAccessCidrs "
       "to known networks.", ("policy:eks-public-endpoint-restricted", "component:Cluster"))  # fmt: skip
def _eks_public(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "cluster"):
        if r.data["public"] and any(c in WORLD for c in r.data["public_cidrs"]):
            yield Hit(
                r, {"endpointPublicAccess": True, "publicAccessCidrs": r.data["public_cidrs"]}
            )


@check("eks-secrets-not-encrypted", "EKS secrets not envelope-encrypted with KMS", "high",
       "security", "Add an encryptionConfig for `secrets` with a customer-managed KMS key.",
       ("policy:eks-secrets-encryption", "component:Cluster"))  # fmt: skip
def _eks_secrets(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "cluster"):
        if "secrets" not in r.data["encrypted_resources"]:
            yield Hit(r, {"encryptionConfig": r.data["encrypted_resources"]})


@check("eks-control-plane-logging-off", "EKS control-plane logs off", "medium", "security",
       "Enable the api, audit and authenticator control-plane log types.",
       ("policy:eks-control-plane-logging", "component:Cluster"))  # fmt: skip
def _eks_logging(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "cluster"):
        missing = [t for t in EKS_LOG_TYPES if t not in r.data["logging"]]
        if missing:
            yield Hit(r, {"enabled": r.data["logging"], "missing": missing})


@check("eks-nodegroup-remote-ssh", "EKS node group allows remote SSH", "high", "security",
       "Remove remoteAccess; reach nodes through SSM Session Manager.",
       ("policy:eks-nodegroup-no-remote-access", "component:Cluster"))  # fmt: skip
def _nodegroup_ssh(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("eks", "nodegroup"):
        access = r.data["remote_access"]
        if access.get("ec2SshKey"):
            yield Hit(r, {"ec2SshKey": access["ec2SshKey"],
                          "sourceSecurityGroups": access.get("sourceSecurityGroups", [])})  # fmt: skip


# --- Load balancers ------------------------------------------------------------------


def _load_balancers(ctx: Context) -> list[Resource]:
    return ctx.inventory.of("elbv2", "load-balancer")


@check("elb-single-az", "Load balancer in one availability zone", "high", "reliability",
       "Attach subnets in at least two zones.", ("policy:lb-min-subnets",))  # fmt: skip
def _lb_single_az(ctx: Context) -> Iterator[Hit]:
    for r in _load_balancers(ctx):
        if len(r.data["zones"]) < 2:
            yield Hit(r, {"zones": r.data["zones"]})


@check("elb-http-no-redirect", "HTTP listener does not redirect to HTTPS", "medium",
       "security", "Make every HTTP listener's default action a redirect to HTTPS (301).",
       ("policy:lb-http-redirects-to-https",))  # fmt: skip
def _lb_http(ctx: Context) -> Iterator[Hit]:
    for r in _load_balancers(ctx):
        bad = [
            listener["port"]
            for listener in r.data["listeners"]
            if listener["protocol"] == "HTTP" and not listener["redirects_https"]
        ]
        if bad:
            yield Hit(r, {"http_ports": bad})


@check("elb-tls-policy-old", "TLS listener allows TLS older than 1.2", "high", "security",
       "Use ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS 1.2+ policy).",
       ("policy:lb-tls-policy",))  # fmt: skip
def _lb_tls(ctx: Context) -> Iterator[Hit]:
    for r in _load_balancers(ctx):
        old = [
            {"port": listener["port"], "ssl_policy": listener["ssl_policy"]}
            for listener in r.data["listeners"]
            if listener["protocol"] in ("HTTPS", "TLS")
            and (listener["ssl_policy"] or "") in OLD_TLS_POLICIES
        ]
        if old:
            yield Hit(r, {"listeners": old})


@check("elb-no-waf", "Internet-facing ALB without a WAF web ACL", "medium", "security",
       "Associate a WAFv2 web ACL (AWS managed common and known-bad-inputs rule groups).", ())  # fmt: skip
def _lb_waf(ctx: Context) -> Iterator[Hit]:
    for r in _load_balancers(ctx):
        if r.data["waf"] == "":
            yield Hit(r, {"scheme": r.data["scheme"], "webAcl": None})


@check("elb-no-access-logs", "Load balancer access logs off", "low", "security",
       "Enable access logs to the audit bucket.", ("policy:lb-access-logs",))  # fmt: skip
def _lb_logs(ctx: Context) -> Iterator[Hit]:
    for r in _load_balancers(ctx):
        if not r.data["access_logs"]:
            yield Hit(r, {"access_logs.s3.enabled": False})


# --- EC2 and EBS ---------------------------------------------------------------------


@check("ebs-volume-unattached", "EBS volume attached to nothing", "low", "cost",
       "Snapshot it if needed, then delete it.", ("component:Platform",))  # fmt: skip
def _volume_unattached(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "volume"):
        if r.data["state"] == "available" and not r.data["attachments"]:
            cost = r.data["size"] * PRICES.get(r.data["type"], PRICES["gp2"])
            yield Hit(r, {"size_gb": r.data["size"], "type": r.data["type"]}, cost)


@check("eip-unassociated", "Elastic IP associated with nothing", "low", "cost",
       "Release it (AWS bills every public IPv4 address).", ("component:Network",))  # fmt: skip
def _eip(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "elastic-ip"):
        if not (r.data["association"] or r.data["instance"] or r.data["eni"]):
            yield Hit(r, {"public_ip": r.data["public_ip"]}, PRICES["elastic-ip"])


@check("ami-old-unused", "Old AMI used by no instance or launch template", "low", "cost",
       "Deregister it and delete its snapshots.", ())  # fmt: skip
def _ami(ctx: Context) -> Iterator[Hit]:
    used = {r.data["image"] for r in ctx.inventory.of("ec2", "instance")}
    for t in ctx.inventory.of("ec2", "launch-template"):
        used.update(t.data["images"])
    for r in ctx.inventory.of("ec2", "image"):
        age = _age_days(ctx, r.data["created"])
        if r.id not in used and age is not None and age > ctx.thresholds.image_days:
            yield Hit(r, {"created": r.data["created"], "age_days": int(age)},
                      r.data["size"] * PRICES["snapshot"])  # fmt: skip


@check("ebs-snapshot-old", "EBS snapshot older than the retention horizon", "low", "cost",
       "Delete it, or move its retention under an AWS Backup plan.",
       ("component:Resilience",))  # fmt: skip
def _snapshot(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "snapshot"):
        age = _age_days(ctx, r.data["started"])
        if age is not None and age > ctx.thresholds.snapshot_days:
            yield Hit(r, {"started": r.data["started"], "age_days": int(age)},
                      r.data["size"] * PRICES["snapshot"])  # fmt: skip


@check("ebs-volume-unencrypted", "EBS volume not encrypted", "high", "security",
       "Copy it through an encrypted snapshot; turn on EBS encryption by default.",
       ("policy:ebs-volume-encrypted", "policy:ec2-volumes-encrypted"))  # fmt: skip
def _volume_unencrypted(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "volume"):
        if not r.data["encrypted"]:
            yield Hit(r, {"encrypted": False})


@check("ebs-default-encryption-off", "EBS encryption by default off in the region",
       "medium", "security", "Enable EBS encryption by default (ec2:EnableEbsEncryptionByDefault).",
       ())  # fmt: skip
def _ebs_default(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "ebs-encryption-default"):
        if not r.data["enabled"]:
            yield Hit(r, {"EbsEncryptionByDefault": False})


@check("ec2-imdsv1-allowed", "Instance allows IMDSv1", "high", "security",
       "Require IMDSv2 (HttpTokens=required), in launch templates too.",
       ("policy:ec2-imdsv2-required", "component:Cluster"))  # fmt: skip
def _imds(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "instance"):
        if r.data["http_endpoint"] != "disabled" and r.data["http_tokens"] != "required":
            yield Hit(r, {"HttpTokens": r.data["http_tokens"]})


def _open_ports(r: Resource, ports: dict[int, str]) -> list[str]:
    found = []
    for rule in r.data["ingress"]:
        if not any(c in WORLD for c in rule["cidrs"]):
            continue
        every = rule["protocol"] == "-1"
        for port, label in ports.items():
            low, high = rule["from"], rule["to"]
            if every or (
                rule["protocol"] in ("tcp", "6") and low is not None and low <= port <= high
            ):
                found.append(f"{label} ({port})")
    return sorted(set(found))


@check("sg-admin-ports-open", "Security group opens SSH or RDP to the internet",
       "critical", "security", "Remove the 0.0.0.0/0 and ::/0 rules; use SSM Session Manager.",
       ("policy:sg-no-public-admin-ports", "component:Network"))  # fmt: skip
def _sg_admin(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "security-group"):
        found = _open_ports(r, ADMIN_PORTS)
        if found:
            yield Hit(r, {"open_to_world": found})


@check("sg-database-ports-open", "Security group opens a database port to the internet",
       "critical", "security", "Allow the database port only from the application's "
       "security group.", ("policy:sg-no-public-ingress", "component:Database"))  # fmt: skip
def _sg_db(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("ec2", "security-group"):
        found = _open_ports(r, DATABASE_PORTS)
        if found:
            yield Hit(r, {"open_to_world": found})


# --- IAM and Organizations -----------------------------------------------------------


@check("iam-admin-access", "Principal with administrator access", "critical", "security",
       "Replace AdministratorAccess or `*` on `*` with least-privilege policies; keep "
       "break-glass admin in a separate, monitored role.",
       ("policy:iam-no-admin-managed-policies", "policy:iam-no-admin-wildcard", "component:Identity"))  # fmt: skip
def _admin(ctx: Context) -> Iterator[Hit]:
    for r in _principals(ctx):
        reasons = _is_admin(r)
        if reasons:
            yield Hit(r, {"kind": r.kind, "grants": reasons})


@check("iam-passrole-wildcard", "iam:PassRole on every role", "high", "security",
       "Scope iam:PassRole to the role ARNs the principal must pass, with iam:PassedToService.",
       ("policy:iam-passrole-requires-approval", "policy:iam-scoped-resources"))  # fmt: skip
def _passrole(ctx: Context) -> Iterator[Hit]:
    for r in _principals(ctx):
        if not _is_admin(r) and _starred_grants(r, "iam:PassRole"):
            yield Hit(r, {"kind": r.kind, "action": "iam:PassRole", "resource": "*"})


@check("iam-privilege-escalation", "Principal can escalate its own privileges", "high",
       "security", "Remove the escalation actions, or constrain them with a permission "
       "boundary and resource scoping.", ("policy:iam-no-privilege-escalation",))  # fmt: skip
def _escalation(ctx: Context) -> Iterator[Hit]:
    _, escalation = _guardrails()
    for r in _principals(ctx):
        if _is_admin(r):
            continue
        document = _document(r.data["statements"])
        actions = [a for a in escalation.ESCALATION_ACTIONS if document.granting(a)]
        if document.granting(escalation.PASS_ROLE):
            actions += [
                f"{escalation.PASS_ROLE}+{a}"
                for a in escalation.PASS_ROLE_LAUNCHERS
                if document.granting(a)
            ]
        if actions:
            yield Hit(r, {"kind": r.kind, "actions": actions})


@check("iam-access-key-old", "Access key older than 90 days", "medium", "security",
       "Rotate it, or better replace the user with a role (OIDC for CI).",
       ("policy:iam-no-user-access-keys", "component:Identity"))  # fmt: skip
def _key_old(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("iam", "user"):
        old = [
            {"id": k["id"], "age_days": int(age)}
            for k in r.data["keys"]
            if (age := _age_days(ctx, k["created"])) is not None and age > ctx.thresholds.key_days
        ]
        if old:
            yield Hit(r, {"keys": old})


@check("iam-access-key-unused", "Access key unused for 90 days or never used", "medium",
       "security", "Deactivate and delete it.", ("policy:iam-no-user-access-keys",))  # fmt: skip
def _key_unused(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("iam", "user"):
        unused = []
        for k in r.data["keys"]:
            if k["last_used"] is None:
                created = _age_days(ctx, k["created"])
                if created is None or created > ctx.thresholds.key_unused_days:
                    unused.append({"id": k["id"], "last_used": None})
            elif (
                age := _age_days(ctx, k["last_used"])
            ) is not None and age > ctx.thresholds.key_unused_days:
                unused.append({"id": k["id"], "last_used": k["last_used"]})
        if unused:
            yield Hit(r, {"keys": unused})


@check("iam-console-no-mfa", "Console user without MFA", "high", "security",
       "Require MFA (or move people to IAM Identity Center).", ("component:Identity",))  # fmt: skip
def _no_mfa(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("iam", "user"):
        if r.data["console"] and not r.data["mfa"]:
            yield Hit(r, {"console": True, "mfa": False})


@check("iam-role-no-boundary", "Role without a permission boundary", "low", "security",
       "Attach the platform's permission boundary to every role teams create.",
       ("policy:iam-role-permission-boundary", "component:Identity"))  # fmt: skip
def _no_boundary(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("iam", "role"):
        if not r.data["service_linked"] and not r.data["boundary"]:
            yield Hit(r, {"PermissionsBoundary": None})


@check("org-no-scps", "No service control policies guard the account", "high", "security",
       "Put the account in an organization with SCPs that protect the audit trail, "
       "regions and root user.", ("component:OrgGuardrails",))  # fmt: skip
def _scps(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("organizations", "scps"):
        if not r.data["custom"]:
            yield Hit(r, {"organization": r.data["organization"], "custom_scps": []})


# --- S3 ------------------------------------------------------------------------------


def _buckets(ctx: Context) -> list[Resource]:
    return ctx.inventory.of("s3", "bucket")


BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@check("s3-public-acl", "Bucket ACL grants access to everyone", "critical", "security",
       "Remove the AllUsers/AuthenticatedUsers grants; set object ownership to "
       "BucketOwnerEnforced.", ("policy:s3-no-public-acl",))  # fmt: skip
def _s3_acl(ctx: Context) -> Iterator[Hit]:
    for r in _buckets(ctx):
        if r.data["public_grants"]:
            yield Hit(r, {"public_grants": r.data["public_grants"]})


@check("s3-public-policy", "Bucket policy allows any principal", "critical", "security",
       "Remove the Principal `*` statements or narrow them with a condition.",
       ("policy:s3-no-public-policy", "policy:resource-policy-no-public-principal"))  # fmt: skip
def _s3_policy(ctx: Context) -> Iterator[Hit]:
    for r in _buckets(ctx):
        if r.data["public_statements"]:
            yield Hit(r, {"statements": r.data["public_statements"]})


@check("s3-bucket-public-access-block-off", "Bucket public access block not fully on",
       "high", "security", "Turn on all four public access block settings.",
       ("policy:s3-public-access-block",))  # fmt: skip
def _s3_block(ctx: Context) -> Iterator[Hit]:
    for r in _buckets(ctx):
        off = [k for k in BLOCK_KEYS if not r.data["block"].get(k)]
        if off:
            yield Hit(r, {"off": off})


@check("s3-account-public-access-block-off", "Account-wide S3 public access block not "
       "fully on", "high", "security", "Turn on all four settings of the account's S3 "
       "public access block.", ())  # fmt: skip
def _s3_account_block(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("s3", "account-block"):
        off = [k for k in BLOCK_KEYS if not r.data["block"].get(k)]
        if off:
            yield Hit(r, {"off": off})


@check("s3-unversioned", "Bucket versioning off", "medium", "reliability",
       "Enable versioning (with a lifecycle rule that expires old versions).",
       ("policy:s3-versioning",))  # fmt: skip
def _s3_versioning(ctx: Context) -> Iterator[Hit]:
    for r in _buckets(ctx):
        if not r.data["versioning"]:
            yield Hit(r, {"versioning": "off"})


@check("s3-unencrypted", "Bucket without a default encryption configuration", "medium",
       "security", "Set default encryption with a KMS key.", ("policy:s3-kms-encryption",))  # fmt: skip
def _s3_encryption(ctx: Context) -> Iterator[Hit]:
    for r in _buckets(ctx):
        if not r.data["encrypted"]:
            yield Hit(r, {"ServerSideEncryptionConfiguration": None})


# --- RDS -----------------------------------------------------------------------------


def _databases(ctx: Context) -> list[Resource]:
    return [r for r in ctx.inventory.of("rds", "db-instance") if not r.data["replica_of"]]


@check("rds-single-az", "Database in one availability zone", "high", "reliability",
       "Turn on Multi-AZ.", ("policy:rds-multi-az", "component:Database"))  # fmt: skip
def _rds_az(ctx: Context) -> Iterator[Hit]:
    for r in _databases(ctx):
        if not r.data["multi_az"]:
            yield Hit(r, {"MultiAZ": False})


@check("rds-unencrypted", "Database storage not encrypted", "high", "security",
       "Restore an encrypted copy from a snapshot and switch over.",
       ("policy:rds-storage-encrypted", "component:Database"))  # fmt: skip
def _rds_encrypted(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("rds", "db-instance"):
        if not r.data["encrypted"]:
            yield Hit(r, {"StorageEncrypted": False})


@check("rds-public", "Database publicly accessible", "critical", "security",
       "Set PubliclyAccessible=false and keep it in private subnets.",
       ("policy:rds-not-public", "component:Database"))  # fmt: skip
def _rds_public(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("rds", "db-instance"):
        if r.data["public"]:
            yield Hit(r, {"PubliclyAccessible": True})


@check("rds-backup-retention-short", "Database backups kept under 7 days", "medium",
       "reliability", "Keep automated backups for at least 7 days (35 for tier 1).",
       ("policy:rds-backup-retention", "component:Database"))  # fmt: skip
def _rds_backups(ctx: Context) -> Iterator[Hit]:
    for r in _databases(ctx):
        if r.data["retention"] < ctx.thresholds.backup_days:
            yield Hit(r, {"BackupRetentionPeriod": r.data["retention"]})


@check("rds-no-deletion-protection", "Database without deletion protection", "medium",
       "reliability", "Turn on deletion protection.",
       ("policy:rds-deletion-protection", "component:Database"))  # fmt: skip
def _rds_deletion(ctx: Context) -> Iterator[Hit]:
    for r in _databases(ctx):
        if not r.data["deletion_protection"]:
            yield Hit(r, {"DeletionProtection": False})


def _other_region(arn: str, region: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 3 and parts[0] == "arn" and parts[3] not in ("", region)


@check("rds-tier1-no-dr", "Tier-1 database without a cross-region replica or backup copy",
       "high", "reliability", "Add a cross-region read replica (or replicate automated "
       "backups to the DR region).", ("policy:rds-cross-region-replica", "component:Database"))  # fmt: skip
def _rds_dr(ctx: Context) -> Iterator[Hit]:
    for r in _databases(ctx):
        tier = r.tags.get("tier", "").lower().replace("-", "")
        if tier not in ("1", "tier1"):
            continue
        remote = [a for a in r.data["replicas"] if _other_region(a, r.region)]
        if not remote and not r.data["backup_copies"]:
            yield Hit(r, {"tier": r.tags.get("tier"), "replicas": r.data["replicas"],
                          "backup_replications": []})  # fmt: skip


# --- audit trail and detection -------------------------------------------------------


def _accounts_read(ctx: Context, service: str, kind: str) -> dict[str, list[Resource]]:
    """Per account, the per-region records of a successful read, only for accounts where
    every audited region answered (otherwise the absence proves nothing)."""
    found: dict[str, list[Resource]] = {}
    for r in ctx.inventory.of(service, kind):
        found.setdefault(r.account, []).append(r)
    return {
        a: rs for a, rs in found.items() if {r.region for r in rs} >= set(ctx.regions.get(a, []))
    }


@check("cloudtrail-no-multi-region", "No multi-region CloudTrail trail", "high", "security",
       "Create one multi-region trail (organization trail where possible).",
       ("policy:cloudtrail-multi-region", "component:AuditTrail"))  # fmt: skip
def _trail_multi(ctx: Context) -> Iterator[Hit]:
    trails = ctx.inventory.of("cloudtrail", "trail")
    for account in _accounts_read(ctx, "cloudtrail", "trails-read"):
        mine = [t for t in trails if t.account == account]
        if not any(t.data["multi_region"] and t.data["logging"] for t in mine):
            anchor = Resource(account, ctx.regions[account][0], "cloudtrail", "account", account)
            yield Hit(anchor, {"trails": sorted(t.name for t in mine), "multi_region_logging": 0})


@check("cloudtrail-not-logging", "CloudTrail trail not logging", "high", "security",
       "Start logging (cloudtrail:StartLogging) and alert on StopLogging.",
       ("component:AuditTrail", "component:Identity"))  # fmt: skip
def _trail_logging(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("cloudtrail", "trail"):
        if not r.data["logging"]:
            yield Hit(r, {"IsLogging": False})


@check("cloudtrail-no-log-validation", "CloudTrail log file validation off", "medium",
       "security", "Enable log file validation.", ("policy:cloudtrail-log-validation",
       "component:AuditTrail"))  # fmt: skip
def _trail_validation(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("cloudtrail", "trail"):
        if not r.data["validation"]:
            yield Hit(r, {"LogFileValidationEnabled": False})


@check("guardduty-off", "GuardDuty off in the region", "high", "security",
       "Enable a GuardDuty detector in every region in use.", ("component:AuditTrail",))  # fmt: skip
def _guardduty(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("guardduty", "detectors"):
        if not r.data["enabled"]:
            yield Hit(r, {"enabled_detectors": []})


@check("backup-no-plan", "No AWS Backup plan in the region", "medium", "reliability",
       "Create backup plans per tier and select resources by their tier tag.",
       ("component:Resilience",))  # fmt: skip
def _backup(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("backup", "plans"):
        if not r.data["plans"]:
            yield Hit(r, {"backup_plans": []})


@check("secret-no-rotation", "Secrets Manager secret without rotation", "medium",
       "security", "Turn on rotation, or let the service manage the secret (RDS "
       "manage_master_user_password).", ("component:Database",))  # fmt: skip
def _secret_rotation(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("secretsmanager", "secret"):
        if not r.data["rotation"]:
            yield Hit(r, {"RotationEnabled": False})


@check("route53-failover-no-health-check", "Route 53 failover record without a health "
       "check", "high", "reliability", "Attach a health check to the PRIMARY record (or "
       "evaluate the alias target's health).", ("component:Database",))  # fmt: skip
def _failover(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.of("route53", "failover-record"):
        if r.data["failover"] == "PRIMARY" and not r.data["health_check"] and not r.data["alias"]:
            yield Hit(r, {"zone": r.data["zone"], "failover": "PRIMARY", "HealthCheckId": None})
