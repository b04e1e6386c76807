"""The audit trail of every shipped stack: CloudTrail, its buckets and keys, GuardDuty in
every platform region, and findings routed to one encrypted topic."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballast.offline import load_stack_config, run_stack
from ballast.offline.stack_config import load_project
from components import config as config_module
from components.audit_trail import (
    FEATURE_ADDITIONAL_CONFIGURATION,
    SEVERITY_FLOOR,
    findings_pattern,
    tamper_pattern,
)
from components.tags import AUDIT_EVIDENCE_TAG
from tests.conftest import (
    ROOT,
    SHIPPED_STACKS,
    account_of,
    name_prefix,
    platform_boundary,
    platform_config,
    region_outside,
    regions_of,
    stack_run,
)
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, trust_allows
from tests.tokens import (
    BUCKET,
    EVENT_RULE,
    EVENT_TARGET,
    GUARDDUTY_DETECTOR,
    GUARDDUTY_FEATURE,
    KEY,
    LOG_GROUP,
    ROLE,
    TOPIC,
    TRAIL,
)

#: The platform stacks, each with an audit trail.
EXPECTED = SHIPPED_STACKS
#: The account of the events and identities built by hand below.
ACCOUNT = "111122223333"


def audit_config(stack: str):
    """The stack's `ballast:audit` settings, as the program reads them."""
    return platform_config(stack).audit


def audit(run, type_: str) -> list:
    return [r for r in run.of_type(type_) if "ballast:components:AuditTrail$" in r.urn]


def one(run, type_: str, name_suffix: str):
    (record,) = [r for r in audit(run, type_) if r.name.endswith(name_suffix)]
    return record


def sub_resource(run, kind: str, bucket) -> Any:
    (record,) = [
        r
        for r in run.of_type(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}")
        if r.inputs["bucket"] == bucket.id
    ]
    return record


def policy_of(record) -> dict:
    return json.loads(record.inputs["policy"])


def region_of(run, record) -> str:
    return run.by_urn()[record.provider].inputs["region"]


def replication_role(run):
    (role,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-audit-replication")]
    return role


def security_role(run):
    (role,) = [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-security-audit")]
    return role


# --- CloudTrail --------------------------------------------------------------------------


def test_the_trail_is_multi_region_validated_and_encrypted(shipped):
    (trail,) = shipped.of_type(TRAIL)
    key = one(shipped, KEY, "-trail")
    bucket = one(shipped, BUCKET, "-trail")
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["enableLogging"] is True
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    assert trail.inputs["s3BucketName"] == bucket.id
    assert key.inputs["enableKeyRotation"] is True
    assert shipped.outputs["trailName"] == trail.inputs["name"]
    assert shipped.outputs["trailBucketName"] == bucket.id


def test_only_the_security_role_may_decrypt_the_trail(shipped):
    account, region = account_of(shipped.stack), platform_config(shipped.stack).primary_region
    (trail,) = shipped.of_type(TRAIL)
    policy = policy_of(one(shipped, KEY, "-trail"))
    # Conditions aside: any statement that could ever grant a decrypt.
    unconditional = [{k: v for k, v in s.items() if k != "Condition"} for s in policy["Statement"]]
    decrypting = [
        s
        for s in unconditional
        if s["Effect"] == "Allow"
        and any(
            evaluate({"Statement": [s]}, a) == ALLOW for a in ("kms:Decrypt", "kms:ReEncryptFrom")
        )
    ]
    # The security role reads; in a stack with a DR region the replication role decrypts
    # too, but only through S3 of the trail's region for the audit buckets' objects
    # (test_replication_reads_the_audit_buckets_only_through_s3).
    readers = [{"AWS": security_role(shipped).outputs["arn"]}]
    if shipped.outputs.get("drRegion"):
        readers.append({"AWS": replication_role(shipped).outputs["arn"]})
    assert [s["Principal"] for s in decrypting] == readers
    # The account administers the key through IAM but cannot use it.
    (admin,) = [s for s in policy["Statement"] if s["Sid"] == "AccountAdministersKeyWithoutUsingIt"]
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey"):
        assert evaluate({"Statement": [admin]}, action) == IMPLICIT_DENY, action
    assert evaluate({"Statement": [admin]}, "kms:PutKeyPolicy") == ALLOW
    # CloudTrail encrypts for this trail only.
    cloudtrail = ("Service", "cloudtrail.amazonaws.com")
    context = {
        "aws:SourceArn": trail.outputs["arn"],
        "kms:EncryptionContext:aws:cloudtrail:arn": trail.outputs["arn"],
    }
    assert _key_allows(policy, cloudtrail, "kms:GenerateDataKey", context)
    assert not _key_allows(policy, cloudtrail, "kms:Decrypt", context)
    other = {**context, "aws:SourceArn": f"arn:aws:cloudtrail:{region}:{account}:trail/other"}
    assert not _key_allows(policy, cloudtrail, "kms:GenerateDataKey", other)


def test_cloudtrail_can_create_the_trail_without_anyone_else_decrypting(shipped):
    """CloudTrail's CreateTrail/UpdateTrail need kms:Decrypt for the caller when the trail
    bucket uses an S3 Bucket Key (CloudTrail User Guide, "Configure AWS KMS key policies
    for CloudTrail"); without it CreateTrail fails (InsufficientEncryptionPolicyException).
    The trail bucket therefore has no Bucket Key, and neither the account (the pipeline,
    through IAM) nor CloudTrail may decrypt: only the security role, with CloudTrail's
    encryption context."""
    account = account_of(shipped.stack)
    (trail,) = shipped.of_type(TRAIL)
    key = one(shipped, KEY, "-trail")
    policy = policy_of(key)
    bucket = one(shipped, BUCKET, "-trail")
    assert trail.inputs["s3BucketName"] == bucket.id
    (rule,) = sub_resource(shipped, "BucketServerSideEncryptionConfiguration", bucket).inputs[
        "rules"
    ]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.outputs["arn"]
    log_context = {
        "aws:SourceArn": trail.outputs["arn"],
        "kms:EncryptionContext:aws:cloudtrail:arn": trail.outputs["arn"],
    }
    root = f"arn:aws:iam::{account}:root"
    apply_role = shipped.outputs.get("ciApplyRoleArn") or f"arn:aws:iam::{account}:role/x"
    creator_decrypts = any(
        _key_allows(policy, ("AWS", principal), "kms:Decrypt", log_context)
        for principal in (root, apply_role)
    )
    # The documented requirement: a Bucket Key on the trail bucket needs a decrypting creator.
    assert not rule.get("bucketKeyEnabled") or creator_decrypts
    # Separation of duties: the creator decrypts nothing, so the Bucket Key must be off.
    assert not creator_decrypts
    assert rule.get("bucketKeyEnabled") is False
    cloudtrail = ("Service", "cloudtrail.amazonaws.com")
    assert _key_allows(policy, cloudtrail, "kms:GenerateDataKey", log_context)
    assert _key_allows(policy, cloudtrail, "kms:DescribeKey", log_context)
    assert not _key_allows(policy, cloudtrail, "kms:Decrypt", log_context)
    reader = ("AWS", security_role(shipped).outputs["arn"])
    assert _key_allows(policy, reader, "kms:Decrypt", log_context)
    # The access-log bucket keeps its Bucket Key: only S3 log delivery writes there.
    log_bucket = one(shipped, BUCKET, "-access-logs")
    (log_rule,) = sub_resource(
        shipped, "BucketServerSideEncryptionConfiguration", log_bucket
    ).inputs["rules"]
    assert log_rule["bucketKeyEnabled"] is True


def _key_allows(policy: dict, principal: tuple[str, str], action: str, context: dict) -> bool:
    return trust_allows(policy, principal=principal, action=action, context=context)


def test_the_trail_bucket_is_private_versioned_encrypted_and_lifecycled(shipped):
    account, region = account_of(shipped.stack), platform_config(shipped.stack).primary_region
    key = one(shipped, KEY, "-trail")
    (trail,) = shipped.of_type(TRAIL)
    for suffix in ("-trail", "-access-logs"):
        bucket = one(shipped, BUCKET, suffix)
        assert bucket.id.startswith(f"{name_prefix(shipped)}audit-")
        assert bucket.inputs["forceDestroy"] is False
        block = sub_resource(shipped, "BucketPublicAccessBlock", bucket)
        assert all(
            block.inputs[k] is True
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        versioning = sub_resource(shipped, "BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        ownership = sub_resource(shipped, "BucketOwnershipControls", bucket)
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        (rule,) = sub_resource(shipped, "BucketServerSideEncryptionConfiguration", bucket).inputs[
            "rules"
        ]
        assert rule["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": key.outputs["arn"],
        }
        (lifecycle,) = sub_resource(shipped, "BucketLifecycleConfiguration", bucket).inputs["rules"]
        assert lifecycle["status"] == "Enabled"
        assert lifecycle["expiration"] == {"days": audit_config(shipped.stack).log_retention_days}
        assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
        archived = [t["storageClass"] for t in lifecycle.get("transitions", [])]
        assert archived == (
            ["GLACIER_IR"] if audit_config(shipped.stack).log_retention_days >= 180 else []
        )
        policy = policy_of(sub_resource(shipped, "BucketPolicy", bucket))
        insecure = {"aws:SecureTransport": "false"}
        assert evaluate(policy, "s3:GetObject", f"{bucket.outputs['arn']}/x", insecure) == "Deny"
    # CloudTrail writes this account's logs, for this trail only.
    bucket = one(shipped, BUCKET, "-trail")
    policy = policy_of(sub_resource(shipped, "BucketPolicy", bucket))
    context = {
        "aws:SourceArn": trail.outputs["arn"],
        "s3:x-amz-acl": "bucket-owner-full-control",
    }
    cloudtrail = ("Service", "cloudtrail.amazonaws.com")
    assert trust_allows(policy, principal=cloudtrail, action="s3:PutObject", context=context)
    assert not trust_allows(
        policy,
        principal=cloudtrail,
        action="s3:PutObject",
        context={**context, "aws:SourceArn": f"arn:aws:cloudtrail:{region}:{account}:trail/x"},
    )


def test_trail_bucket_access_is_logged_to_the_log_bucket(shipped):
    trail_bucket = one(shipped, BUCKET, "-trail")
    log_bucket = one(shipped, BUCKET, "-access-logs")
    logging = sub_resource(shipped, "BucketLogging", trail_bucket)
    assert logging.inputs["targetBucket"] == log_bucket.id
    assert logging.inputs["targetPrefix"] == f"{trail_bucket.id}/"
    # Logging is configured only once the target admits S3 log delivery and encrypts.
    target_policy = sub_resource(shipped, "BucketPolicy", log_bucket)
    target_encryption = sub_resource(shipped, "BucketServerSideEncryptionConfiguration", log_bucket)
    assert target_policy.urn in logging.depends_on
    assert target_encryption.urn in logging.depends_on
    policy = policy_of(sub_resource(shipped, "BucketPolicy", log_bucket))
    delivery = ("Service", "logging.s3.amazonaws.com")
    context = {
        "aws:SourceArn": trail_bucket.outputs["arn"],
        "aws:SourceAccount": account_of(shipped.stack),
    }
    assert trust_allows(policy, principal=delivery, action="s3:PutObject", context=context)
    stranger = {**context, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket"}
    assert not trust_allows(policy, principal=delivery, action="s3:PutObject", context=stranger)


@pytest.mark.parametrize("stack", EXPECTED)
def test_object_lock_and_protection_only_in_prod(stack):
    settings = audit_config(stack)
    run = stack_run(stack)
    prod = stack == "prod"
    trail_buckets = [b for b in audit(run, BUCKET) if "-audit-trail-" in b.id]
    # prod's DR region holds the trail's replica, locked like the trail.
    assert len(trail_buckets) == (2 if prod else 1)
    assert {b.inputs["objectLockEnabled"] for b in trail_buckets} == {prod}
    locks = run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    if prod:
        assert sorted(lock.inputs["bucket"] for lock in locks) == sorted(
            b.id for b in trail_buckets
        )
        for lock in locks:
            assert lock.inputs["rule"] == {
                "defaultRetention": {
                    "mode": settings.object_lock_mode,
                    "days": settings.object_lock_days,
                }
            }
    else:
        assert locks == []
    stateful = [*audit(run, BUCKET), *audit(run, KEY), *audit(run, LOG_GROUP)]
    stateful += [*run.of_type(TRAIL), *run.of_type(GUARDDUTY_DETECTOR)]
    assert stateful and {r.protect for r in stateful} == {prod}


def test_the_cloudwatch_copy(shipped):
    account, region = account_of(shipped.stack), platform_config(shipped.stack).primary_region
    (trail,) = shipped.of_type(TRAIL)
    (group,) = audit(shipped, LOG_GROUP)
    key = one(shipped, KEY, "-trail-logs")
    assert group.inputs["retentionInDays"] == audit_config(shipped.stack).cloud_watch_retention_days
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert trail.inputs["cloudWatchLogsGroupArn"] == f"{group.outputs['arn']}:*"
    (role,) = [
        r
        for r in shipped.of_type(ROLE)
        if r.outputs["arn"] == trail.inputs["cloudWatchLogsRoleArn"]
    ]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    cloudtrail = ("Service", "cloudtrail.amazonaws.com")
    # CloudTrail assumes this role without aws:SourceArn/aws:SourceAccount in the request
    # (CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs
    # for monitoring"): the trust must hold on the context CloudTrail actually sends.
    assert trust_allows(trust, principal=cloudtrail, context={})
    assert not trust_allows(trust, principal=("Service", "events.amazonaws.com"), context={})
    # The guard is PassRole: a platform role may hand CloudTrail this environment's roles
    # only (the boundary), and this role is one of them.
    boundary = json.loads(platform_boundary(shipped).inputs["policy"])
    passing = {"aws:RequestedRegion": region}
    assert evaluate(boundary, "iam:PassRole", role.outputs["arn"], passing) == ALLOW
    stranger = f"arn:aws:iam::{account}:role/someone-elses-logs-role"
    assert evaluate(boundary, "iam:PassRole", stranger, passing) == "Deny"
    (policy,) = [
        p for p in audit(shipped, "aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    document = policy_of(policy)
    stream = f"{group.outputs['arn']}:log-stream:{account}_CloudTrail_{region}"
    assert evaluate(document, "logs:PutLogEvents", stream) == ALLOW
    assert (
        evaluate(document, "logs:PutLogEvents", f"arn:aws:logs:{region}:1:log-group:x:log-stream:y")
        == IMPLICIT_DENY
    )


def test_the_security_role_reads_the_audit_buckets(shipped):
    role = security_role(shipped)
    (policy,) = [
        p
        for p in audit(shipped, "aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["name"]
    ]
    document = policy_of(policy)
    for suffix in ("-trail", "-access-logs"):
        arn = one(shipped, BUCKET, suffix).outputs["arn"]
        assert evaluate(document, "s3:GetObject", f"{arn}/AWSLogs/x.json.gz") == ALLOW
        assert evaluate(document, "s3:DeleteObject", f"{arn}/AWSLogs/x.json.gz") == IMPLICIT_DENY


def test_the_security_roles_own_boundary_lets_it_read_and_decrypt_the_trail(shipped):
    """What the role's policies grant on the trail, its read-only boundary leaves it:
    the objects of both audit buckets, and Decrypt with the trail key (tagged evidence)."""
    role = security_role(shipped)
    (boundary_policy,) = [
        p
        for p in shipped.of_type("aws:iam/policy:Policy")
        if p.outputs["arn"] == role.inputs["permissionsBoundary"]
    ]
    assert boundary_policy.inputs["name"].endswith("-audit-permission-boundary")
    boundary = json.loads(boundary_policy.inputs["policy"])
    region = {"aws:RequestedRegion": platform_config(shipped.stack).primary_region}
    for suffix in ("-trail", "-access-logs"):
        arn = one(shipped, BUCKET, suffix).outputs["arn"]
        assert evaluate(boundary, "s3:GetObject", f"{arn}/AWSLogs/x.json.gz", region) == ALLOW
        assert evaluate(boundary, "s3:DeleteObject", f"{arn}/AWSLogs/x.json.gz", region) != ALLOW
    key = one(shipped, KEY, "-trail")
    tags = {f"aws:ResourceTag/{k}": v for k, v in key.inputs["tags"].items()}
    assert evaluate(boundary, "kms:Decrypt", key.outputs["arn"], {**region, **tags}) == ALLOW
    assert evaluate(boundary, "kms:Decrypt", key.outputs["arn"], region) != ALLOW


def test_evidence_carries_the_tag_the_boundary_protects(shipped):
    evidence = [*audit(shipped, BUCKET), *audit(shipped, LOG_GROUP)]
    evidence += [one(shipped, KEY, "-trail"), one(shipped, KEY, "-trail-logs")]
    for record in evidence:
        assert record.inputs["tags"][AUDIT_EVIDENCE_TAG] == "true", record.urn


def test_security_baseline_resources_name_their_service_and_tier(shipped):
    baseline = [
        r
        for r in shipped.resources
        if ("ballast:components:AuditTrail$" in r.urn or "ballast:components:Identity$" in r.urn)
        and "tags" in r.inputs
    ]
    assert len(baseline) > 10
    for record in baseline:
        assert record.inputs["tags"]["service"] == "security", record.urn
        assert record.inputs["tags"]["tier"] == "tier-1", record.urn


# --- GuardDuty ---------------------------------------------------------------------------


def features_of(run, detector_id) -> dict[str, Any]:
    return {
        f.inputs["name"]: f
        for f in run.of_type(GUARDDUTY_FEATURE)
        if f.inputs["detectorId"] == detector_id
    }


@pytest.mark.parametrize("stack", EXPECTED)
def test_guardduty_runs_in_every_platform_region(stack):
    run = stack_run(stack)
    detectors = run.of_type(GUARDDUTY_DETECTOR)
    assert sorted(region_of(run, d) for d in detectors) == sorted(regions_of(stack))
    assert run.outputs["guardDutyDetectorIds"] == {region_of(run, d): d.id for d in detectors}
    for detector in detectors:
        assert detector.inputs["enable"] is True
        features = features_of(run, detector.id)
        # Every plan the API accepts is set explicitly: CreateDetector would turn on
        # every plan it is not told about.
        assert sorted(features) == sorted(config_module.GUARDDUTY_FEATURES)
        enabled = {n for n, f in features.items() if f.inputs["status"] == "ENABLED"}
        disabled = {n for n, f in features.items() if f.inputs["status"] == "DISABLED"}
        assert enabled == set(config_module.DEFAULT_GUARDDUTY_FEATURES)
        assert disabled == set(config_module.GUARDDUTY_FEATURES) - enabled
        assert {"EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS"} <= disabled
        assert {region_of(run, f) for f in features.values()} == {region_of(run, detector)}
        assert features["RUNTIME_MONITORING"].inputs["additionalConfigurations"] == [
            {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
        ]
        assert all(
            "additionalConfigurations" not in features[n].inputs
            or not features[n].inputs["additionalConfigurations"]
            for n in disabled
        )


def test_guardduty_defaults_are_accepted_and_runtime_monitoring_manages_its_agent():
    accepted = set(config_module.GUARDDUTY_FEATURES)
    assert set(config_module.DEFAULT_GUARDDUTY_FEATURES) <= accepted
    runtime = {feature for feature in accepted if feature.endswith("RUNTIME_MONITORING")}
    assert runtime and runtime <= set(FEATURE_ADDITIONAL_CONFIGURATION)


def test_every_feature_the_sdk_accepts_is_managed_except_the_superseded_eks_runtime():
    """The feature list follows the installed SDK: a plan the API gains is either set
    explicitly by the stack or the test names why not."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("guardduty")
    api = set(model.shape_for("DetectorFeature").enum)
    # RUNTIME_MONITORING supersedes EKS_RUNTIME_MONITORING; the API rejects both at once.
    assert api - set(config_module.GUARDDUTY_FEATURES) == {"EKS_RUNTIME_MONITORING"}
    assert set(config_module.GUARDDUTY_FEATURES) <= api


#: Detector IDs an adopting stack is given (32 hex characters, as AWS prints them).
def adopted_detectors() -> dict[str, str]:
    """prod's regions, primary then DR, each with an existing detector's ID."""
    primary, dr = regions_of("prod")
    return {primary: "0" * 31 + "a", dr: "b" * 32}


def run_with_audit(stack: str, **audit_settings) -> Any:
    base = load_stack_config(load_project(ROOT), stack)
    config = dict(base.config)
    current = json.loads(config.get("ballast:audit", "{}"))
    config["ballast:audit"] = json.dumps({**current, **audit_settings})
    return run_stack(dataclasses.replace(base, config=config))


def test_a_listed_region_adopts_its_detector_and_the_other_is_created():
    ADOPTED = adopted_detectors()
    primary, dr = ADOPTED
    run = run_with_audit("prod", guardDutyDetectorIds={dr: ADOPTED[dr]})
    (created,) = run.of_type(GUARDDUTY_DETECTOR)
    assert region_of(run, created) == primary
    assert run.outputs["guardDutyDetectorIds"] == {
        primary: created.id,
        dr: ADOPTED[dr],
    }
    adopted = features_of(run, ADOPTED[dr])
    assert sorted(adopted) == sorted(config_module.GUARDDUTY_FEATURES)
    assert {region_of(run, f) for f in adopted.values()} == {dr}
    # The findings of the adopted detector's region still reach the primary topic.
    forward = one(run, EVENT_RULE, f"-findings-{dr}")
    assert json.loads(forward.inputs["eventPattern"]) == findings_pattern(4.0)


def test_an_adopting_stack_creates_no_detector_and_sets_no_publishing_frequency():
    detectors = adopted_detectors()
    run = run_with_audit("prod", guardDutyDetectorIds=detectors)
    assert run.of_type(GUARDDUTY_DETECTOR) == []
    assert run.outputs["guardDutyDetectorIds"] == detectors
    for region, detector_id in detectors.items():
        features = features_of(run, detector_id)
        assert {region_of(run, f) for f in features.values()} == {region}
        assert {n for n, f in features.items() if f.inputs["status"] == "ENABLED"} == set(
            config_module.DEFAULT_GUARDDUTY_FEATURES
        )
    assert {region_of(run, r) for r in run.of_type(EVENT_RULE)} == set(detectors)


def test_a_created_detector_is_the_only_place_the_publishing_frequency_is_set(shipped):
    """Only a standalone or administrator detector may set it; a member's detector takes
    the administrator's value (and members adopt their detector)."""
    for detector in shipped.of_type(GUARDDUTY_DETECTOR):
        assert detector.inputs["findingPublishingFrequency"] == "FIFTEEN_MINUTES"


def test_configured_opt_in_plans_are_enabled_and_dropped_defaults_disabled():
    chosen = ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"]
    run = run_with_audit("dev", guardDutyFeatures=chosen)
    (detector,) = run.of_type(GUARDDUTY_DETECTOR)
    statuses = {n: f.inputs["status"] for n, f in features_of(run, detector.id).items()}
    assert statuses == {
        n: "ENABLED" if n in chosen else "DISABLED" for n in config_module.GUARDDUTY_FEATURES
    }


# --- findings ----------------------------------------------------------------------------


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge matching for the pattern shapes used here (value lists, numeric,
    `$or`)."""
    if isinstance(pattern, dict):
        alternatives = pattern.get("$or")
        if alternatives is not None and not any(matches(a, event) for a in alternatives):
            return False
        return all(
            isinstance(event, dict) and key in event and matches(sub, event[key])
            for key, sub in pattern.items()
            if key != "$or"
        )
    for option in pattern:
        if isinstance(option, dict) and "numeric" in option:
            operator, bound = option["numeric"]
            assert operator == ">="
            if isinstance(event, (int, float)) and event >= bound:
                return True
        elif option == event and type(option) is type(event):
            return True
    return False


def finding(severity: float, region: str = "us-east-1", source: str = "aws.guardduty") -> dict:
    return {
        "source": source,
        "detail-type": "GuardDuty Finding",
        "region": region,
        "detail": {"severity": severity, "type": "Recon:EC2/PortProbeUnprotectedPort"},
    }


def api_call(source: str, event: str, **parameters: Any) -> dict:
    """An "AWS API Call via CloudTrail" event as EventBridge delivers it."""
    return {
        "source": f"aws.{source.split('.')[0]}",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": source,
            "eventName": event,
            "requestParameters": parameters,
            "userIdentity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/someone"},
        },
    }


TAMPER_CASES = [
    (api_call("cloudtrail.amazonaws.com", "StopLogging", name="trail"), True),
    (api_call("cloudtrail.amazonaws.com", "PutEventSelectors"), True),
    (api_call("guardduty.amazonaws.com", "DeleteDetector", detectorId="x"), True),
    (api_call("guardduty.amazonaws.com", "CreateIPSet", activate=True), True),
    (api_call("guardduty.amazonaws.com", "UpdateDetector", detectorId="x", enable=False), True),
    (api_call("guardduty.amazonaws.com", "UpdateDetector", detectorId="x", enable=True), False),
    (api_call("guardduty.amazonaws.com", "UpdateDetector", detectorId="x"), False),
    (api_call("config.amazonaws.com", "StopConfigurationRecorder"), True),
    (api_call("cloudtrail.amazonaws.com", "LookupEvents"), False),
    (api_call("ec2.amazonaws.com", "StopLogging"), False),
    (finding(9.0), False),
]


@pytest.mark.parametrize(("event", "expected"), TAMPER_CASES)
def test_the_tamper_rule_sees_calls_that_blind_the_audit_trail(event, expected):
    run = stack_run("dev")
    pattern = json.loads(one(run, EVENT_RULE, "-tamper").inputs["eventPattern"])
    assert pattern == tamper_pattern()
    assert matches(pattern, event) is expected


def test_findings_of_medium_severity_and_up_reach_the_encrypted_topic(shipped):
    account, region = account_of(shipped.stack), platform_config(shipped.stack).primary_region
    (topic,) = shipped.of_type(TOPIC)
    rule = one(shipped, EVENT_RULE, "-findings")
    assert region_of(shipped, rule) == region
    pattern = json.loads(rule.inputs["eventPattern"])
    assert matches(pattern, finding(4.0)) and matches(pattern, finding(8.5))
    assert not matches(pattern, finding(3.9))
    assert not matches(pattern, finding(8.0, source="aws.securityhub"))
    (target,) = [t for t in shipped.of_type(EVENT_TARGET) if t.inputs["rule"] == rule.id]
    assert target.inputs["arn"] == topic.outputs["arn"]
    assert shipped.outputs["findingsTopicArn"] == topic.outputs["arn"]
    # The tamper rule feeds the same topic.
    tamper = one(shipped, EVENT_RULE, "-tamper")
    (tamper_target,) = [t for t in shipped.of_type(EVENT_TARGET) if t.inputs["rule"] == tamper.id]
    assert tamper_target.inputs["arn"] == topic.outputs["arn"]
    # The topic is encrypted with a key EventBridge may use for this topic and these
    # rules only.
    key = one(shipped, KEY, "-findings")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    events = ("Service", "events.amazonaws.com")
    key_policy = policy_of(key)
    for source in (rule, tamper):
        context = {
            "aws:SourceArn": source.outputs["arn"],
            "kms:EncryptionContext:aws:sns:topicArn": topic.outputs["arn"],
        }
        assert _key_allows(key_policy, events, "kms:GenerateDataKey", context)
        assert _key_allows(key_policy, events, "kms:Decrypt", context)
    other_topic = {**context, "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:x"}
    assert not _key_allows(key_policy, events, "kms:GenerateDataKey", other_topic)
    other_rule = {**context, "aws:SourceArn": f"arn:aws:events:{region}:{account}:rule/x"}
    assert not _key_allows(key_policy, events, "kms:GenerateDataKey", other_rule)
    # The topic accepts publishes from these rules only.
    (topic_policy,) = shipped.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert topic_policy.inputs["arn"] == topic.outputs["arn"]
    document = policy_of(topic_policy)
    for source in (rule, tamper):
        assert trust_allows(
            document,
            principal=events,
            action="sns:Publish",
            context={"aws:SourceArn": source.outputs["arn"]},
        )
    assert not trust_allows(
        document,
        principal=events,
        action="sns:Publish",
        context={"aws:SourceArn": "arn:aws:events:x"},
    )


def test_dr_findings_are_forwarded_to_the_primary_topic():
    primary, dr = regions_of("prod")
    account = account_of("prod")
    run = stack_run("prod")
    forward = one(run, EVENT_RULE, f"-findings-{dr}")
    assert region_of(run, forward) == dr
    assert json.loads(forward.inputs["eventPattern"]) == findings_pattern(4.0)
    (target,) = [t for t in run.of_type(EVENT_TARGET) if t.inputs["rule"] == forward.id]
    primary_bus = f"arn:aws:events:{primary}:{account}:event-bus/default"
    assert target.inputs["arn"] == primary_bus
    assert region_of(run, target) == dr
    (role,) = [r for r in run.of_type(ROLE) if r.outputs["arn"] == target.inputs["roleArn"]]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    events = ("Service", "events.amazonaws.com")
    tamper = one(run, EVENT_RULE, f"-tamper-{dr}")
    assert json.loads(tamper.inputs["eventPattern"]) == tamper_pattern()
    (tamper_target,) = [t for t in run.of_type(EVENT_TARGET) if t.inputs["rule"] == tamper.id]
    assert (tamper_target.inputs["arn"], tamper_target.inputs["roleArn"]) == (
        primary_bus,
        role.outputs["arn"],
    )
    for source in (forward, tamper):
        context = {"aws:SourceAccount": account, "aws:SourceArn": source.outputs["arn"]}
        assert trust_allows(trust, principal=events, context=context)
    stranger = {"aws:SourceAccount": account, "aws:SourceArn": "arn:aws:events:x:rule/other"}
    assert not trust_allows(trust, principal=events, context=stranger)
    (policy,) = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    document = policy_of(policy)
    assert evaluate(document, "events:PutEvents", primary_bus) == ALLOW
    assert (
        evaluate(
            document,
            "events:PutEvents",
            primary_bus.replace(f":{primary}:", f":{region_outside()}:"),
        )
        == IMPLICIT_DENY
    )
    # Forwarded findings keep their region and match the primary rule.
    primary = json.loads(one(run, EVENT_RULE, "-findings").inputs["eventPattern"])
    assert matches(primary, finding(7.0, region=dr))


def test_without_a_dr_region_nothing_is_forwarded():
    region = platform_config("dev").primary_region
    run = stack_run("dev")
    assert [region_of(run, r) for r in run.of_type(EVENT_RULE)] == [region, region]
    assert [r for r in run.of_type(ROLE) if r.inputs["name"].endswith("-forward")] == []


@given(
    threshold=st.sampled_from(sorted(SEVERITY_FLOOR)),
    severity=st.floats(min_value=0.0, max_value=10.0, allow_nan=False),
)
def test_the_pattern_passes_exactly_the_configured_severities(threshold, severity):
    pattern = findings_pattern(SEVERITY_FLOOR[threshold])
    assert matches(pattern, finding(severity)) is (severity >= SEVERITY_FLOOR[threshold])
