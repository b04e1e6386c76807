"""Regenerate the AWS-shaped drift fixtures from the recorded engine event streams.

Run from the repository root: `python tests/toolkit/drift_fixtures/derive.py`. Every event
written is a recorded event (README.md names which) whose values alone are edited:
types, URNs, parents, ids, property bags, detailed-diff paths and kinds. Keys and
nesting stay as the engine wrote them.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = Path(
    os.environ.get("BALLAST_REFERENCE_DIR") or HERE.parents[2].parent / "shared" / "reference"
)
BASICS = "pulumi-events/TestRefreshBasics/all-0-0/eventstream.json"
TARGETED = "pulumi-events/TestRefreshV2Targeted/1/eventstream.json"
SIG = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "ciphertext": "[secret]",
}
STACK, PROJECT = "prod", "ballast"
ROOT = f"urn:pulumi:{STACK}::{PROJECT}::ballast:components:Platform"
PROVIDER = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::aws-us-east-1"


def _lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (REFERENCE / name).read_text().splitlines() if line]


def _urn(component: str | None, type_: str, name: str) -> str:
    chain = f"ballast:components:Platform$ballast:components:{component}$" if component else ""
    return f"urn:pulumi:{STACK}::{PROJECT}::{chain}{type_}::{name}"


def _parent(component: str | None, name: str) -> str:
    return f"{ROOT}$ballast:components:{component}::{name}" if component else ""


def _edit(event: dict, kind: str, *, type_, urn, parent, old, new, diff=None) -> dict:
    event = copy.deepcopy(event)
    metadata = event[kind]["metadata"]
    metadata.update(urn=urn, type=type_, provider=f"{PROVIDER}::1f2e")
    for key, bags in (("old", old), ("new", new)):
        state = metadata.get(key)
        if state is None:
            continue
        state.update(
            type=type_,
            urn=urn,
            parent=parent,
            provider=f"{PROVIDER}::1f2e",
            id=f"{urn.rpartition('::')[2]}-id",
        )
        state["inputs"], state["outputs"] = copy.deepcopy(bags)
    if diff is not None:
        metadata["diffs"] = sorted({path.split(".")[0].split("[")[0] for path in diff})
        metadata["detailedDiff"] = {
            path: {"diffKind": kind_, "inputDiff": False} for path, kind_ in diff.items()
        }
    return event


def main() -> None:
    basics = _lines(BASICS)
    prelude, summary, cancel = basics[0], basics[-2], basics[-1]
    same_pre, same_out = basics[5], basics[6]  # resB: refresh -> same
    delete_pre, delete_out = basics[2], basics[8]  # resC: refresh -> delete
    update_pre, update_out = basics[7], basics[11]  # resA: refresh -> update (detailedDiff)
    provider_pre = _lines(TARGETED)[1]

    def same(component, type_, name, bags):
        urn = _urn(component, type_, name)
        kw = dict(
            type_=type_,
            urn=urn,
            parent=_parent(component, "prod-" + component.lower()) if component else "",
            old=bags,
            new=bags,
        )
        return [_edit(same_pre, "resourcePreEvent", **kw), _edit(same_out, "resOutputsEvent", **kw)]

    def update(component, type_, name, old, new, diff):
        urn = _urn(component, type_, name)
        parent = _parent(component, "prod-" + component.lower()) if component else ""
        pre = _edit(
            update_pre, "resourcePreEvent", type_=type_, urn=urn, parent=parent, old=old, new=old
        )
        out = _edit(
            update_out,
            "resOutputsEvent",
            type_=type_,
            urn=urn,
            parent=parent,
            old=old,
            new=new,
            diff=diff,
        )
        return [pre, out]

    def delete(component, type_, name, old):
        urn = _urn(component, type_, name)
        parent = _parent(component, "prod-" + component.lower()) if component else ""
        kw = dict(type_=type_, urn=urn, parent=parent, old=old, new=None)
        return [
            _edit(delete_pre, "resourcePreEvent", **{**kw, "new": old}),
            _edit(delete_out, "resOutputsEvent", **kw),
        ]

    provider = copy.deepcopy(provider_pre)
    meta = provider["resourcePreEvent"]["metadata"]
    meta.update(urn=PROVIDER, type="pulumi:providers:aws")
    for state in (meta["old"], meta["new"]):
        state.update(urn=PROVIDER, type="pulumi:providers:aws")
        state["inputs"] = {"region": "us-east-1", "version": "7.51.0"}
        state["outputs"] = {"region": "us-east-1", "version": "7.51.0"}

    sg_old = {
        "ingress": [
            {"cidrBlocks": ["10.0.0.0/16"], "fromPort": 443, "toPort": 443, "protocol": "tcp"}
        ],
        "tags": {"owner": "platform-team"},
    }
    sg_new = {
        "ingress": [
            {"cidrBlocks": ["0.0.0.0/0"], "fromPort": 443, "toPort": 443, "protocol": "tcp"},
            {"cidrBlocks": ["0.0.0.0/0"], "fromPort": 22, "toPort": 22, "protocol": "tcp"},
        ],
        "tags": {"owner": "platform-team"},
    }
    trust_old = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    trust_new = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}'
    bucket_old = {
        "bucket": "prod-logs",
        "tags": {"owner": "platform-team"},
        "tagsAll": {"owner": "platform-team", "environment": "prod"},
    }
    bucket_new = {
        "bucket": "prod-logs",
        "tags": {"owner": "someone-else"},
        "tagsAll": {"owner": "someone-else", "environment": "prod"},
    }
    db_old = {"password": SIG, "deletionProtection": True, "instanceClass": "db.r6g.large"}
    db_new = {"password": {**SIG}, "deletionProtection": False, "instanceClass": "db.r6g.large"}
    ng_old = {"scalingConfig": {"desiredSize": 3, "maxSize": 6, "minSize": 3}}
    ng_new = {"scalingConfig": {"desiredSize": 5, "maxSize": 6, "minSize": 3}}
    rec_old = {
        "name": "db.prod.internal",
        "failoverRoutingPolicies": [{"type": "PRIMARY"}],
        "setIdentifier": "primary",
    }
    rec_new = {
        "name": "db.prod.internal",
        "failoverRoutingPolicies": [{"type": "SECONDARY"}],
        "setIdentifier": "primary",
    }

    drift = [
        prelude,
        provider,
        *same(
            "Network",
            "aws:ec2/vpc:Vpc",
            "prod-vpc",
            ({"cidrBlock": "10.0.0.0/16"}, {"cidrBlock": "10.0.0.0/16"}),
        ),
        *update(
            "Network",
            "aws:ec2/securityGroup:SecurityGroup",
            "prod-endpoints-sg",
            (sg_old, sg_old),
            (sg_new, sg_new),
            {"ingress[0].cidrBlocks[0]": "update", "ingress[1]": "add"},
        ),
        *update(
            "Identity",
            "aws:iam/role:Role",
            "prod-cluster-role",
            ({"assumeRolePolicy": trust_old}, {"assumeRolePolicy": trust_old}),
            ({"assumeRolePolicy": trust_new}, {"assumeRolePolicy": trust_new}),
            {"assumeRolePolicy": "update"},
        ),
        *update(
            "AuditTrail",
            "aws:s3/bucketV2:BucketV2",
            "prod-logs",
            (bucket_old, bucket_old),
            (bucket_new, bucket_new),
            {"tags.owner": "update", "tagsAll.owner": "update"},
        ),
        *update(
            "Database",
            "aws:rds/instance:Instance",
            "prod-db",
            (db_old, db_old),
            (db_new, db_new),
            {"password": "update", "deletionProtection": "update"},
        ),
        *update(
            "Cluster",
            "aws:eks/nodeGroup:NodeGroup",
            "prod-system",
            (ng_old, ng_old),
            (ng_new, ng_new),
            {"scalingConfig.desiredSize": "update"},
        ),
        *update(
            "Database",
            "aws:route53/record:Record",
            "prod-db-failover",
            (rec_old, rec_old),
            (rec_new, rec_new),
            {"failoverRoutingPolicies[0].type": "update-replace"},
        ),
        *delete(
            "Identity",
            "aws:kms/key:Key",
            "prod-secrets-key",
            ({"enableKeyRotation": True}, {"enableKeyRotation": True}),
        ),
        summary,
        cancel,
    ]
    clean = [
        prelude,
        provider,
        *same(
            "Network",
            "aws:ec2/vpc:Vpc",
            "prod-vpc",
            ({"cidrBlock": "10.0.0.0/16"}, {"cidrBlock": "10.0.0.0/16"}),
        ),
        *same(
            None, "aws:iam/role:Role", "prod-ci-role", ({"name": "prod-ci"}, {"name": "prod-ci"})
        ),
        summary,
        cancel,
    ]
    clean[-2] = copy.deepcopy(summary)
    clean[-2]["summaryEvent"]["resourceChanges"] = {"same": 3}
    _write("aws-drift.jsonl", drift)
    _write("aws-clean.jsonl", clean)
    # A refresh killed part-way: the stream stops after the security group's outcome.
    _write("aws-truncated.jsonl", drift[: 2 + 2 + 2 + 1])


def _write(name: str, events: list[dict]) -> None:
    (HERE / name).write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))


if __name__ == "__main__":
    main()
