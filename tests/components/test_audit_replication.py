"""Audit evidence replicated to the DR region: the trail and access-log buckets are
copied into buckets of the configured DR region, encrypted with a key there, the trail's
replica locked like the trail in prod; the replication role reaches exactly those
buckets and keys, and the replication waits for everything it needs."""

from __future__ import annotations

import json

import pytest

from ballast.offline import load_stack_config
from ballast.offline.stack_config import load_project
from components.iam import ReplicationRoute, replication_policy_document
from tests.conftest import ROOT, SHIPPED_STACKS, platform_boundary, stack_run
from tests.iam_eval import ALLOW, evaluate, trust_allows
from tests.tokens import BUCKET, KEY, ROLE

ACCOUNT = "123456789012"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def audit(run, type_: str) -> list:
    return [r for r in run.of_type(type_) if "ballast:components:AuditTrail$" in r.urn]


def region_of(run, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def of_bucket(run, type_: str, bucket) -> list:
    return [r for r in run.of_type(type_) if r.inputs["bucket"] == bucket.id]


def buckets_by_id(run) -> dict:
    return {b.id: b for b in audit(run, BUCKET)}


def key_by_arn(run, arn: str):
    (key,) = [k for k in audit(run, KEY) if k.outputs["arn"] == arn]
    return key


def replication_role(run):
    (role,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-audit-replication")]
    return role


def role_policy(run, role) -> dict:
    (policy,) = [p for p in audit(run, ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])


def configured(stack: str, key: str) -> str | None:
    """A setting of the stack file (`ballast:<key>`), as the stack is configured."""
    return load_stack_config(load_project(ROOT), stack).config.get(f"ballast:{key}")


def dr_runs() -> list[str]:
    """The shipped stacks configured with a DR region."""
    return [s for s in SHIPPED_STACKS if configured(s, "drRegion")]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_stacks_without_a_dr_region_replicate_nothing(stack):
    run = stack_run(stack)
    if configured(stack, "drRegion"):
        assert len(run.of_type(REPLICATION)) == 2
        return
    assert run.of_type(REPLICATION) == []
    primary = configured(stack, "primaryRegion")
    assert {region_of(run, b) for b in audit(run, BUCKET)} == {primary}
    assert [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-replication")] == []


def test_a_shipped_stack_replicates_its_audit_evidence():
    """prod is the shipped stack with a DR region; without one this file tests nothing."""
    assert dr_runs() == ["prod"]


@pytest.mark.parametrize("stack", dr_runs())
def test_each_audit_bucket_is_replicated_into_the_configured_dr_region(stack):
    run = stack_run(stack)
    primary, dr = configured(stack, "primaryRegion"), configured(stack, "drRegion")
    buckets = buckets_by_id(run)
    sources = {run.outputs["trailBucketName"]}
    sources |= {b for b in buckets if "-audit-access-logs-" in b and b.endswith(primary)}
    replications = run.of_type(REPLICATION)
    assert {r.inputs["bucket"] for r in replications} == sources
    destinations = []
    for replication in replications:
        source = buckets[replication.inputs["bucket"]]
        assert region_of(run, replication) == region_of(run, source) == primary
        (rule,) = replication.inputs["rules"]
        assert rule["status"] == "Enabled"
        assert rule["filter"] == {"prefix": ""}
        # Deleting evidence in the primary region never deletes its copy.
        assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
        # S3 skips SSE-KMS objects unless the rule opts in; every audit object is one.
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"] == {"status": "Enabled"}
        (replica,) = [
            b for b in buckets.values() if b.outputs["arn"] == rule["destination"]["bucket"]
        ]
        destinations.append(replica)
        assert region_of(run, replica) == dr
        # Replicas are encrypted with a key of the DR region, and that key is their default.
        replica_key = key_by_arn(
            run, rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
        )
        assert region_of(run, replica_key) == dr
        (encryption,) = of_bucket(run, ENCRYPTION, replica)
        (default,) = encryption.inputs["rules"]
        assert (
            default["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
            == replica_key.outputs["arn"]
        )
        # Without a Bucket Key the replication role needs no kms:Decrypt on the replica key.
        assert default["bucketKeyEnabled"] is False
        assert replica_key.inputs["enableKeyRotation"] is True
        # The same retention as the source, and protected like every stateful resource.
        source_rules = [
            r.inputs["rules"]
            for r in run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
            if r.inputs["bucket"] == source.id
        ]
        replica_rules = [
            r.inputs["rules"]
            for r in run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
            if r.inputs["bucket"] == replica.id
        ]
        assert replica_rules == source_rules
        assert replica.protect is source.protect is (stack == "prod")
        assert replica.id.startswith(f"ballast-{stack}-audit-")
    assert len({d.id for d in destinations}) == 2


@pytest.mark.parametrize("stack", dr_runs())
def test_the_trail_replica_is_locked_like_the_trail_in_prod(stack):
    run = stack_run(stack)
    buckets = buckets_by_id(run)
    trail = buckets[run.outputs["trailBucketName"]]
    (replication,) = [r for r in run.of_type(REPLICATION) if r.inputs["bucket"] == trail.id]
    (replica,) = [
        b
        for b in buckets.values()
        if b.outputs["arn"] == replication.inputs["rules"][0]["destination"]["bucket"]
    ]
    assert (
        replica.inputs["objectLockEnabled"]
        is trail.inputs["objectLockEnabled"]
        is (stack == "prod")
    )
    assert [lock.inputs["rule"] for lock in of_bucket(run, OBJECT_LOCK, replica)] == [
        lock.inputs["rule"] for lock in of_bucket(run, OBJECT_LOCK, trail)
    ]
    # The replica's access logs go to the access-log replica, in the same region.
    (logging,) = of_bucket(run, "aws:s3/bucketLogging:BucketLogging", replica)
    target = buckets[logging.inputs["targetBucket"]]
    assert region_of(run, target) == region_of(run, replica)
    assert "-audit-access-logs-" in target.id


@pytest.mark.parametrize("stack", dr_runs())
def test_replication_waits_for_versioning_policies_and_keys(stack):
    """Create order (issue 11, section 1 item 6): S3 refuses replication without
    versioning on both sides, and the first replicated object needs the role's policy,
    the replica's policy and encryption and both key policies."""
    run = stack_run(stack)
    buckets = buckets_by_id(run)
    role = replication_role(run)
    (policy,) = [p for p in audit(run, ROLE_POLICY) if p.inputs["role"] == role.id]
    for replication in run.of_type(REPLICATION):
        source = buckets[replication.inputs["bucket"]]
        (rule,) = replication.inputs["rules"]
        (replica,) = [
            b for b in buckets.values() if b.outputs["arn"] == rule["destination"]["bucket"]
        ]
        needed = [
            *of_bucket(run, VERSIONING, source),
            *of_bucket(run, VERSIONING, replica),
            *of_bucket(run, BUCKET_POLICY, replica),
            *of_bucket(run, ENCRYPTION, replica),
            *of_bucket(run, OBJECT_LOCK, replica),
            policy,
            key_by_arn(run, rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]),
            key_by_arn(run, _source_key_arn(run, source)),
        ]
        missing = [r.urn for r in needed if not replication.waits_for(r.urn)]
        assert missing == []
        assert replication.inputs["role"] == role.outputs["arn"]


def _source_key_arn(run, bucket) -> str:
    (encryption,) = of_bucket(run, ENCRYPTION, bucket)
    return encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]


@pytest.mark.parametrize("stack", dr_runs())
def test_the_replication_role_reaches_exactly_the_audit_buckets_and_keys(stack):
    run = stack_run(stack)
    primary, dr = configured(stack, "primaryRegion"), configured(stack, "drRegion")
    buckets = buckets_by_id(run)
    role = replication_role(run)
    # S3 assumes it (documented without a source condition; PassRole guards it).
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust_allows(trust, principal=("Service", "s3.amazonaws.com"), context={})
    assert not trust_allows(trust, principal=("Service", "lambda.amazonaws.com"), context={})
    document = role_policy(run, role)
    pairs = []
    for replication in run.of_type(REPLICATION):
        source = buckets[replication.inputs["bucket"]]
        (rule,) = replication.inputs["rules"]
        (replica,) = [
            b for b in buckets.values() if b.outputs["arn"] == rule["destination"]["bucket"]
        ]
        pairs.append((source, replica))
    sources = {s.outputs["arn"] for s, _ in pairs}
    replicas = {r.outputs["arn"] for _, r in pairs}
    s3_resources = {
        resource
        for statement in document["Statement"]
        if all(str(a).startswith("s3:") for a in _list(statement["Action"]))
        for resource in _list(statement["Resource"])
    }
    assert s3_resources == sources | {f"{a}/*" for a in sources} | {f"{a}/*" for a in replicas}
    source_key = key_by_arn(run, _source_key_arn(run, pairs[0][0]))
    replica_key = key_by_arn(run, _source_key_arn(run, pairs[0][1]))
    kms_resources = {
        resource
        for statement in document["Statement"]
        if all(str(a).startswith("kms:") for a in _list(statement["Action"]))
        for resource in _list(statement["Resource"])
    }
    assert kms_resources == {source_key.outputs["arn"], replica_key.outputs["arn"]}
    via_primary = {"kms:ViaService": f"s3.{primary}.amazonaws.com"}
    via_dr = {"kms:ViaService": f"s3.{dr}.amazonaws.com"}
    for source, replica in pairs:
        obj, copy = (
            f"{source.outputs['arn']}/AWSLogs/x.json.gz",
            f"{replica.outputs['arn']}/AWSLogs/x.json.gz",
        )
        assert evaluate(document, "s3:GetObjectVersionForReplication", obj) == ALLOW
        assert evaluate(document, "s3:ReplicateObject", copy) == ALLOW
        # Deletes never travel, and nothing else is read or written.
        assert evaluate(document, "s3:ReplicateDelete", copy) != ALLOW
        assert evaluate(document, "s3:GetObject", obj) != ALLOW
        assert evaluate(document, "s3:PutObject", copy) != ALLOW
        assert evaluate(document, "s3:ReplicateObject", obj) != ALLOW
    assert evaluate(document, "s3:ReplicateObject", "arn:aws:s3:::someone-elses-bucket/x") != ALLOW
    # Decrypt the sources only through S3 of the primary region, for the audit buckets.
    trail = buckets[run.outputs["trailBucketName"]]
    trail_object = {
        **via_primary,
        "kms:EncryptionContext:aws:s3:arn": f"{trail.outputs['arn']}/AWSLogs/x",
    }
    assert evaluate(document, "kms:Decrypt", source_key.outputs["arn"], trail_object) == ALLOW
    elsewhere = {**trail_object, "kms:ViaService": f"s3.{dr}.amazonaws.com"}
    assert evaluate(document, "kms:Decrypt", source_key.outputs["arn"], elsewhere) != ALLOW
    other = {**via_primary, "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::other/x"}
    assert evaluate(document, "kms:Decrypt", source_key.outputs["arn"], other) != ALLOW
    # Encrypt replicas only, never decrypt them.
    replica_object = {
        **via_dr,
        "kms:EncryptionContext:aws:s3:arn": f"{pairs[0][1].outputs['arn']}/x",
    }
    assert evaluate(document, "kms:Encrypt", replica_key.outputs["arn"], replica_object) == ALLOW
    assert evaluate(document, "kms:Decrypt", replica_key.outputs["arn"], replica_object) != ALLOW
    # The platform boundary it carries lets it do exactly that, in the two regions.
    boundary = json.loads(platform_boundary(run).inputs["policy"])
    assert role.inputs["permissionsBoundary"] == platform_boundary(run).outputs["arn"]
    copy = f"{pairs[0][1].outputs['arn']}/x"
    assert evaluate(boundary, "s3:ReplicateObject", copy, {"aws:RequestedRegion": dr}) == ALLOW


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stack", dr_runs())
def test_key_policies_let_the_replication_role_in_only_through_s3(stack):
    """The audit key lets the role decrypt only through S3 of the trail's region and for
    the audit buckets' objects; the DR key lets it encrypt replicas only; only the
    security role decrypts replicas; the account administers both keys without using them."""
    run = stack_run(stack)
    primary, dr = configured(stack, "primaryRegion"), configured(stack, "drRegion")
    buckets = buckets_by_id(run)
    role = ("AWS", replication_role(run).outputs["arn"])
    (security,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-security-audit")]
    trail = buckets[run.outputs["trailBucketName"]]
    audit_key = key_by_arn(run, _source_key_arn(run, trail))
    (replication,) = [r for r in run.of_type(REPLICATION) if r.inputs["bucket"] == trail.id]
    rule = replication.inputs["rules"][0]
    replica_key = key_by_arn(run, rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"])
    replica_arn = rule["destination"]["bucket"]
    source_policy = json.loads(audit_key.inputs["policy"])
    trail_ctx = {
        "kms:ViaService": f"s3.{primary}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"{trail.outputs['arn']}/AWSLogs/{ACCOUNT}/x.json.gz",
    }
    assert trust_allows(source_policy, principal=role, action="kms:Decrypt", context=trail_ctx)
    for changed in (
        {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"},
        {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::other-bucket/x"},
        {"kms:ViaService": None},
    ):
        context = {k: v for k, v in {**trail_ctx, **changed}.items() if v is not None}
        assert not trust_allows(
            source_policy, principal=role, action="kms:Decrypt", context=context
        )
    assert not trust_allows(source_policy, principal=role, action="kms:Encrypt", context=trail_ctx)
    replica_policy = json.loads(replica_key.inputs["policy"])
    replica_ctx = {
        "kms:ViaService": f"s3.{dr}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"{replica_arn}/AWSLogs/{ACCOUNT}/x.json.gz",
    }
    assert trust_allows(replica_policy, principal=role, action="kms:Encrypt", context=replica_ctx)
    assert not trust_allows(
        replica_policy, principal=role, action="kms:Decrypt", context=replica_ctx
    )
    assert trust_allows(
        replica_policy, principal=("AWS", security.outputs["arn"]), action="kms:Decrypt", context={}
    )
    root = ("AWS", f"arn:aws:iam::{ACCOUNT}:root")
    for policy in (source_policy, replica_policy):
        assert not trust_allows(policy, principal=root, action="kms:Decrypt", context={})
        assert trust_allows(policy, principal=root, action="kms:EnableKeyRotation", context={})
    # The replica key is audit evidence: the boundary guards its policy and grants.
    assert replica_key.inputs["tags"]["ballast.io/audit-evidence"] == "true"
    # KMS refuses a key policy naming a role that does not exist: the keys come after it.
    assert audit_key.waits_for(replication_role(run).urn)
    assert replica_key.waits_for(replication_role(run).urn)


@pytest.mark.parametrize("stack", dr_runs())
def test_the_security_role_reads_the_replicas(stack):
    run = stack_run(stack)
    (security,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-security-audit")]
    document = _security_read(run, security)
    for bucket in audit(run, BUCKET):
        assert evaluate(document, "s3:GetObject", f"{bucket.outputs['arn']}/AWSLogs/x") == ALLOW
        assert evaluate(document, "s3:ListBucket", bucket.outputs["arn"]) == ALLOW


def _security_read(run, role) -> dict:
    (policy,) = [p for p in audit(run, ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]
    return json.loads(policy.inputs["policy"])


def test_the_replication_policy_document():
    routes = [
        ReplicationRoute(source="a", destination="a-dr", source_locked=True),
        ReplicationRoute(source="b", destination="b-dr", source_bucket_key=True),
    ]
    document = replication_policy_document(
        partition="aws",
        source_region="us-east-1",
        destination_region="us-west-2",
        routes=routes,
        source_key_arn="arn:aws:kms:us-east-1:1:key/s",
        replica_key_arn="arn:aws:kms:us-west-2:1:key/r",
    )
    # Retention is read only from the locked source.
    assert evaluate(document, "s3:GetObjectRetention", "arn:aws:s3:::a/x") == ALLOW
    assert evaluate(document, "s3:GetObjectRetention", "arn:aws:s3:::b/x") != ALLOW
    # A Bucket Key source's objects carry the bucket's ARN as their context.
    via = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    key = "arn:aws:kms:us-east-1:1:key/s"
    for context, allowed in (
        ("arn:aws:s3:::a/obj", True),
        ("arn:aws:s3:::a", False),
        ("arn:aws:s3:::b", True),
        ("arn:aws:s3:::b/obj", False),
    ):
        ctx = {**via, "kms:EncryptionContext:aws:s3:arn": context}
        assert (evaluate(document, "kms:Decrypt", key, ctx) == ALLOW) is allowed, context
    with pytest.raises(ValueError, match="at least one route"):
        replication_policy_document(
            partition="aws",
            source_region="us-east-1",
            destination_region="us-west-2",
            routes=[],
            source_key_arn=key,
            replica_key_arn=key,
        )
