"""The gate's rules: what a plan may not do without a reviewed approval.

Each rule compares a step's old state with its new one, which a CrossGuard resource
policy never sees:

- `prod-downsize` (prod): an instance type or class (EC2 instances, launch templates,
  EKS node groups, RDS instances and cluster instances) or storage (RDS allocated
  storage, EBS volume size, node-group disk size) gets smaller. A node group's size is
  its smallest instance type, since the scheduler may get any of them.
- `prod-node-group-max-below-current` (prod): an EKS node group's `maxSize` drops below
  the number of nodes it runs now (the old state's `desiredSize`, which the autoscaler
  owns): the apply would remove running nodes.
- `stateful-delete-or-replace`: a `delete` or replacement of a protected resource (any
  environment), or of a stateful one in prod: a database, bucket, KMS key, log group,
  EKS cluster, volume, file system or table (`STATEFUL`).
- `passrole-added` (every environment): an IAM document anywhere in a resource's inputs
  (an inline or managed policy, a role's inline policies) allows `iam:PassRole` on
  resources, or under conditions, that the old document did not; a new document counts
  as added. Trust policies (`assumeRolePolicy`) are not read.

Values the preview does not know yet (Pulumi's unknown placeholder) or cannot show
(secrets) are not compared; `Report.notes` says which IAM documents could not be read.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ballast.gate.plan import REMOVING_OPS, Step

PROD = "prod"
#: The placeholder Pulumi serialises for a value only known after the apply.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

DOWNSIZE = "prod-downsize"
NODE_GROUP_MAX = "prod-node-group-max-below-current"
STATEFUL_REMOVAL = "stateful-delete-or-replace"
PASSROLE = "passrole-added"
#: Rule -> one line on what it stops.
RULES = {
    DOWNSIZE: "an instance, node group or database class, or storage, gets smaller in prod",
    NODE_GROUP_MAX: "a prod node group's maximum drops below the nodes it runs now",
    STATEFUL_REMOVAL: "a protected resource, or a stateful one in prod, is deleted or replaced",
    PASSROLE: "an IAM document newly allows iam:PassRole",
}

#: type -> (property holding the instance type or class, whether it is a list)
SIZED = {
    "aws:ec2/instance:Instance": ("instanceType", False),
    "aws:ec2/launchTemplate:LaunchTemplate": ("instanceType", False),
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes", True),
    "aws:rds/instance:Instance": ("instanceClass", False),
    "aws:rds/clusterInstance:ClusterInstance": ("instanceClass", False),
}
#: type -> property holding a storage size (GiB)
STORAGE = {
    "aws:rds/instance:Instance": "allocatedStorage",
    "aws:ebs/volume:Volume": "size",
    "aws:eks/nodeGroup:NodeGroup": "diskSize",
}
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
#: Resources whose loss a redeploy does not undo.
STATEFUL = frozenset(
    {
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:kms/key:Key",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:eks/cluster:Cluster",
        "aws:ebs/volume:Volume",
        "aws:efs/fileSystem:FileSystem",
        "aws:dynamodb/table:Table",
    }
)
#: Inputs that hold trust policies, which grant no permissions.
TRUST_KEYS = frozenset({"assumeRolePolicy"})
PASSROLE_ACTION = "iam:PassRole"

_NAMED_SIZES = {"nano": 0, "micro": 1, "small": 2, "medium": 3, "large": 4, "xlarge": 5}
_N_XLARGE = re.compile(r"^(\d+)xlarge$")


@dataclass(frozen=True)
class Finding:
    """One change the gate stops: which rule, which resource, old -> new."""

    rule: str
    urn: str
    type: str
    name: str
    op: str
    old: str
    new: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "op": self.op,
            "old": self.old,
            "new": self.new,
            "message": self.message,
        }


def size_rank(instance_type: str) -> int | None:
    """Rank of the size part of `m7i.large` / `db.r6g.2xlarge`: nano < micro < small <
    medium < large < xlarge < 2xlarge < ... < metal; None when it is not a size."""
    parts = instance_type.strip().lower().split(".")
    if parts and parts[0] in ("db", "cache"):
        parts = parts[1:]
    if len(parts) != 2 or not all(parts):
        return None
    size = parts[1]
    if size in _NAMED_SIZES:
        return _NAMED_SIZES[size]
    match = _N_XLARGE.match(size)
    if match:
        return _NAMED_SIZES["xlarge"] + int(match.group(1)) - 1
    if size.startswith("metal"):
        return 10_000
    return None


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN and not isinstance(value, Mapping)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _smallest(value: Any, is_list: bool) -> tuple[int, str] | None:
    """(rank, type) of the smallest instance type in a value; None if any is unreadable."""
    items = value if is_list else [value]
    if not isinstance(items, list) or not items:
        return None
    ranked = []
    for item in items:
        rank = size_rank(item) if isinstance(item, str) and _known(item) else None
        if rank is None:
            return None
        ranked.append((rank, item))
    return min(ranked)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _finding(step: Step, rule: str, old: Any, new: Any, message: str) -> Finding:
    return Finding(rule, step.urn, step.type, step.name, step.op, _show(old), _show(new), message)


def _downsizes(step: Step) -> Iterator[Finding]:
    if step.old is None or step.new is None:
        return
    old, new = step.old.inputs, step.new.inputs
    if step.type in SIZED:
        key, is_list = SIZED[step.type]
        before, after = _smallest(old.get(key), is_list), _smallest(new.get(key), is_list)
        if before and after and after[0] < before[0]:
            yield _finding(
                step,
                DOWNSIZE,
                old.get(key),
                new.get(key),
                f"{key} gets smaller ({before[1]} -> {after[1]})",
            )
    if step.type in STORAGE:
        key = STORAGE[step.type]
        before_gb, after_gb = _number(old.get(key)), _number(new.get(key))
        if before_gb is not None and after_gb is not None and after_gb < before_gb:
            yield _finding(step, DOWNSIZE, before_gb, after_gb, f"{key} (GiB) gets smaller")


def _scaling(state_values: Mapping[str, Any], key: str) -> float | None:
    scaling = state_values.get("scalingConfig")
    return _number(scaling.get(key)) if isinstance(scaling, Mapping) else None


def _node_group_max(step: Step) -> Iterator[Finding]:
    if step.type != NODE_GROUP or step.old is None or step.new is None:
        return
    current = _scaling(step.old.outputs, "desiredSize")
    if current is None:
        current = _scaling(step.old.inputs, "desiredSize")
    new_max = _scaling(step.new.inputs, "maxSize")
    if current is not None and new_max is not None and new_max < current:
        yield _finding(
            step,
            NODE_GROUP_MAX,
            current,
            new_max,
            f"maxSize {_show(new_max)} is below the {_show(current)} nodes it runs now",
        )


def policy_documents(value: Any, key: str = "") -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    """(path, document) for every IAM policy document in a resource's inputs: JSON text
    or an object with a `Statement`, at any depth, except trust policies. A document the
    preview does not know yet is yielded with `None`."""
    if key.rsplit(".", 1)[-1] in TRUST_KEYS:
        return
    if isinstance(value, str):
        if value == UNKNOWN and key.rsplit(".", 1)[-1] in {"policy", "policyDocument"}:
            yield key, None
            return
        if '"Statement"' not in value:
            return
        try:
            decoded = json.loads(value)
        except ValueError:
            return
        if isinstance(decoded, Mapping) and "Statement" in decoded:
            yield key, decoded
    elif isinstance(value, Mapping):
        if "Statement" in value:
            yield key, value
            return
        for name, item in value.items():
            yield from policy_documents(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from policy_documents(item, f"{key}[{index}]")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, action: str) -> bool:
    return any(
        isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower())
        for p in _as_list(patterns)
    )


def passrole_grants(document: Mapping[str, Any]) -> set[str]:
    """What a document lets pass: one canonical line per Allow statement that covers
    `iam:PassRole` (through Action or NotAction), naming its resources and conditions."""
    grants = set()
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "Action" in statement:
            covered = _matches(statement["Action"], PASSROLE_ACTION)
        else:
            covered = "NotAction" in statement and not _matches(
                statement["NotAction"], PASSROLE_ACTION
            )
        if not covered:
            continue
        if "NotResource" in statement:
            where = "NotResource " + ", ".join(sorted(map(str, _as_list(statement["NotResource"]))))
        else:
            where = ", ".join(sorted(map(str, _as_list(statement.get("Resource")))))
        condition = statement.get("Condition")
        if condition:
            where += " when " + json.dumps(condition, sort_keys=True, separators=(",", ":"))
        grants.add(where)
    return grants


def _grants_of(inputs: Mapping[str, Any]) -> tuple[set[str], list[str]]:
    grants: set[str] = set()
    unknown = []
    for path, document in policy_documents(inputs):
        if document is None:
            unknown.append(path)
        else:
            grants |= passrole_grants(document)
    return grants, unknown


def _passrole(step: Step, notes: list[str]) -> Iterator[Finding]:
    if step.new is None or step.op in ("delete", "delete-replaced"):
        return
    new_grants, unknown = _grants_of(step.new.inputs)
    for path in unknown:
        notes.append(
            f"{step.urn}: {path} is only known after the apply; the gate cannot check it "
            f"for {PASSROLE_ACTION}"
        )
    old_grants = _grants_of(step.old.inputs)[0] if step.old is not None else set()
    added = sorted(new_grants - old_grants)
    if added:
        yield _finding(
            step,
            PASSROLE,
            "; ".join(sorted(old_grants)) or "none",
            "; ".join(added),
            f"now allows {PASSROLE_ACTION} on {'; '.join(added)}",
        )


def _removal(step: Step, environment: str) -> Iterator[Finding]:
    if step.op not in REMOVING_OPS or step.old is None:
        return
    stateful = step.type in STATEFUL and environment == PROD
    if not (step.old.protect or stateful):
        return
    what = "protected" if step.old.protect else "stateful"
    op = "delete" if step.op == "delete" else "replace"
    because = (
        f" (replaced because of {', '.join(step.replace_reasons)})" if step.replace_reasons else ""
    )
    yield Finding(
        STATEFUL_REMOVAL,
        step.urn,
        step.type,
        step.name,
        op,
        "exists",
        f"{op}d",
        f"{what} resource is {op}d{because}",
    )


def evaluate(steps: list[Step], environment: str) -> tuple[list[Finding], list[str]]:
    """Every finding of `steps` (once each, although a replacement is several steps) and the notes
    on what could not be checked."""
    findings: list[Finding] = []
    notes: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for step in steps:
        candidates: list[Finding] = []
        if environment == PROD:
            candidates += _downsizes(step)
            candidates += _node_group_max(step)
        candidates += _removal(step, environment)
        candidates += _passrole(step, notes)
        for finding in candidates:
            # A replacement is several steps: one finding per resource, except that one
            # resource can shrink in two ways (class and storage).
            key = (finding.rule, finding.urn, finding.message if finding.rule == DOWNSIZE else "")
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings, list(dict.fromkeys(notes))
