"""IaC coverage: which discovered resources a state file manages.

Reads `pulumi stack export` documents (`{"version": 3, "deployment": {"resources":
[{"urn", "type", "id", "outputs": {"arn", ...}}]}}`) and Terraform state files
(`{"version": 4, "resources": [{"type", "instances": [{"attributes": {"id", "arn"}}]}]}`).
A discovered resource is managed when its ARN or its id appears as a managed resource's
`arn`/`id` (or, for S3, `bucket`). Settings that are not resources (EBS encryption by
default, detector and backup-plan presence, the checks' account markers) are not counted.

`import_document` writes what `pulumi import --file` reads: `{"resources": [{"type",
"name", "id"}]}` for the unmanaged resources whose kind has a known Pulumi type.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ballast.audit.model import Resource

#: Discovered kinds and their Pulumi AWS type (the import file needs the type).
PULUMI_TYPES = {
    ("ec2", "volume"): "aws:ebs/volume:Volume",
    ("ec2", "elastic-ip"): "aws:ec2/eip:Eip",
    ("ec2", "image"): "aws:ec2/ami:Ami",
    ("ec2", "snapshot"): "aws:ebs/snapshot:Snapshot",
    ("ec2", "instance"): "aws:ec2/instance:Instance",
    ("ec2", "launch-template"): "aws:ec2/launchTemplate:LaunchTemplate",
    ("ec2", "security-group"): "aws:ec2/securityGroup:SecurityGroup",
    ("eks", "cluster"): "aws:eks/cluster:Cluster",
    ("eks", "nodegroup"): "aws:eks/nodeGroup:NodeGroup",
    ("elbv2", "load-balancer"): "aws:lb/loadBalancer:LoadBalancer",
    ("rds", "db-instance"): "aws:rds/instance:Instance",
    ("cloudtrail", "trail"): "aws:cloudtrail/trail:Trail",
    ("secretsmanager", "secret"): "aws:secretsmanager/secret:Secret",
    ("iam", "role"): "aws:iam/role:Role",
    ("iam", "user"): "aws:iam/user:User",
    ("s3", "bucket"): "aws:s3/bucket:Bucket",
}


class StateError(ValueError):
    """A state file that is neither a Pulumi stack export nor a Terraform state."""


def managed_ids(paths: list[Path]) -> set[str]:
    """Every ARN and id the state files manage."""
    found: set[str] = set()
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StateError(f"--state {path}: cannot read it as JSON ({exc})") from None
        if isinstance(document, dict) and isinstance(document.get("deployment"), dict):
            for r in document["deployment"].get("resources") or []:
                if str(r.get("type", "")).startswith("pulumi:"):
                    continue
                found |= _identifiers(r.get("id"), r.get("outputs") or {})
        elif isinstance(document, dict) and isinstance(document.get("resources"), list):
            for r in document["resources"]:
                if r.get("mode", "managed") != "managed":
                    continue
                for instance in r.get("instances") or []:
                    attributes = instance.get("attributes") or {}
                    found |= _identifiers(attributes.get("id"), attributes)
        else:
            raise StateError(
                f"--state {path}: not a `pulumi stack export` document (deployment.resources) "
                "or a Terraform state (resources)"
            )
    return found


def _identifiers(ident: Any, attributes: dict[str, Any]) -> set[str]:
    values = {ident, attributes.get("arn"), attributes.get("id"), attributes.get("bucket")}
    return {str(v) for v in values if isinstance(v, str) and v}


def _counted(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if (r.service, r.kind) in PULUMI_TYPES]


def _managed(r: Resource, ids: set[str]) -> bool:
    tail = r.id.split("/")[-1]
    return bool({r.arn, r.id, tail, r.name} & ids - {""})


def coverage(resources: list[Resource], ids: set[str]) -> dict[str, Any]:
    """`{"percent", "managed", "total", "by_service": {service: {...}}, "unmanaged": [...]}`;
    percent is of resources (not settings), 100.0 when there are none."""
    counted = _counted(resources)
    by_service: dict[str, dict[str, Any]] = {}
    unmanaged = []
    for r in counted:
        entry = by_service.setdefault(r.service, {"managed": 0, "total": 0})
        entry["total"] += 1
        if _managed(r, ids):
            entry["managed"] += 1
        else:
            unmanaged.append({"resource": r.key, "service": r.service, "kind": r.kind,
                              "account": r.account, "region": r.region,
                              "type": PULUMI_TYPES[(r.service, r.kind)], "id": _import_id(r)})  # fmt: skip
    for entry in by_service.values():
        entry["percent"] = _percent(entry["managed"], entry["total"])
    managed = sum(e["managed"] for e in by_service.values())
    return {
        "percent": _percent(managed, len(counted)),
        "managed": managed,
        "total": len(counted),
        "by_service": dict(sorted(by_service.items())),
        "unmanaged": unmanaged,
    }


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


def _import_id(r: Resource) -> str:
    """The id `pulumi import` wants for the type: cluster:group for node groups, the
    ARN for load balancers and secrets, the plain id otherwise."""
    if r.kind == "nodegroup":
        return r.id.replace("/", ":", 1)
    if r.kind in ("load-balancer", "secret"):
        return r.arn
    return r.id


def _name(r: Resource, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{r.kind}-{r.name or r.id}").strip("-").lower()
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def import_document(resources: list[Resource], ids: set[str]) -> dict[str, Any]:
    """The `pulumi import --file` document for every unmanaged resource."""
    taken: set[str] = set()
    entries = [
        {"type": PULUMI_TYPES[(r.service, r.kind)], "name": _name(r, taken), "id": _import_id(r)}
        for r in _counted(resources)
        if not _managed(r, ids)
    ]
    return {"resources": entries}
