"""Data protection: S3 exposure, versioning, encryption and logging; RDS encryption,
exposure, backups and production durability; EBS and KMS encryption hygiene.

S3 settings live on the bucket itself (deprecated inline arguments) or on separate
resources (`BucketPublicAccessBlock`, `BucketVersioning`, ...), so the bucket rules are
stack policies that join them. A public bucket is tolerated only when it carries the tag
`public-access: testing`; whether that exception is available at all is decided by one
policy, `s3-public-bucket-exception`, whose setting is off in prod.
"""

from __future__ import annotations

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)

from ballast_guardrails import iam_document as doc
from ballast_guardrails.contract import PUBLIC_ACCESS_TAG, PUBLIC_ACCESS_TESTING
from ballast_guardrails.graph import References, identities, of_type
from ballast_guardrails.spec import (
    CRITICAL,
    HIGH,
    HYGIENE,
    MEDIUM,
    PRODUCTION_ONLY,
    SECURITY,
    Report,
    Settings,
    resource_policy,
    stack_policy,
)
from ballast_guardrails.values import as_list, effective_tags, get, number, region, truthy

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")

PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEES = ("/groups/global/AllUsers", "/groups/global/AuthenticatedUsers")
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
#: Engines with IAM database authentication (MySQL and PostgreSQL families).
IAM_AUTH_ENGINES = ("mysql", "mariadb", "postgres", "aurora")


# --- S3 -----------------------------------------------------------------------------


def is_testing_bucket(bucket: PolicyResource) -> bool:
    tags = effective_tags(bucket.props, bucket.provider)
    return tags.get(PUBLIC_ACCESS_TAG) == PUBLIC_ACCESS_TESTING


def _bucket_label(bucket: PolicyResource) -> str:
    return f"bucket {bucket.name}"


@stack_policy(
    name="s3-public-access-block",
    description="Every bucket needs a public access block with all four flags true.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=(
        "CKV_AWS_53",
        "CKV_AWS_54",
        "CKV_AWS_55",
        "CKV_AWS_56",
        "AVD-AWS-0086",
        "AVD-AWS-0087",
        "AVD-AWS-0091",
        "AVD-AWS-0093",
    ),
    remediation="Add an aws.s3.BucketPublicAccessBlock for the bucket with "
    "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
)
def _public_access_block(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    blocks = References(of_type(args.resources, PUBLIC_ACCESS_BLOCK), "bucket")
    for bucket in of_type(args.resources, *BUCKETS):
        if is_testing_bucket(bucket):
            continue
        mine = blocks.to(bucket)
        if not mine:
            report(f"{_bucket_label(bucket)} has no BucketPublicAccessBlock", bucket.urn)
            continue
        for block in mine:
            off = [f for f in PUBLIC_ACCESS_FLAGS if not truthy(get(block.props, f))]
            if off:
                report(f"{_bucket_label(bucket)}: {', '.join(off)} not true", block.urn)


def _public_grants(grants) -> list[str]:
    found = []
    for grant in as_list(grants):
        for grantee in [get(grant, "grantee"), grant]:
            uri = get(grantee, "uri")
            if isinstance(uri, str) and uri.endswith(PUBLIC_GRANTEES):
                found.append(uri.rsplit("/", 1)[-1])
    return found


@stack_policy(
    name="s3-no-public-acl",
    description="No bucket may have a public ACL (canned or grant).",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_20", "CKV_AWS_57", "AVD-AWS-0092"),
    remediation="Use the private ACL, or better, BucketOwnerEnforced object "
    "ownership, and grant access through IAM or the bucket policy.",
)
def _no_public_acl(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    acls = References(of_type(args.resources, *BUCKET_ACLS), "bucket")
    for bucket in of_type(args.resources, *BUCKETS):
        if is_testing_bucket(bucket):
            continue
        canned = get(bucket.props, "acl")
        if canned in PUBLIC_CANNED_ACLS:
            report(f"{_bucket_label(bucket)} has the public canned ACL {canned}", bucket.urn)
        for who in _public_grants(get(bucket.props, "grants")):
            report(f"{_bucket_label(bucket)} grants access to {who}", bucket.urn)
        for acl in acls.to(bucket):
            canned = get(acl.props, "acl")
            if canned in PUBLIC_CANNED_ACLS:
                report(f"{_bucket_label(bucket)} gets the public canned ACL {canned}", acl.urn)
            for who in _public_grants(get(acl.props, "accessControlPolicy", "grants")):
                report(f"{_bucket_label(bucket)}: its ACL grants access to {who}", acl.urn)


def _open_statements(text) -> list[str]:
    document = doc.parse(text)
    return [s.label for s in document.allow_statements if s.any_principal and not s.conditions]


@stack_policy(
    name="s3-no-public-policy",
    description='No bucket policy may allow Principal "*" without a condition.',
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_70",),
    remediation="Name the principals, or condition the statement (aws:SourceVpce, "
    "aws:PrincipalOrgID, aws:SourceArn).",
)
def _no_public_policy(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    policies = References(of_type(args.resources, BUCKET_POLICY), "bucket")
    for bucket in of_type(args.resources, *BUCKETS):
        if is_testing_bucket(bucket):
            continue
        sources = [(bucket, get(bucket.props, "policy"))]
        sources += [(p, get(p.props, "policy")) for p in policies.to(bucket)]
        for owner, text in sources:
            if text is None:
                continue
            for label in _open_statements(text):
                report(
                    f'{_bucket_label(bucket)}: policy {label} allows Principal "*" '
                    "with no condition",
                    owner.urn,
                )


@resource_policy(
    name="s3-public-bucket-exception",
    types=BUCKETS,
    description=f"A bucket tagged {PUBLIC_ACCESS_TAG}={PUBLIC_ACCESS_TESTING} (the only public bucket "
    "allowed) is refused where the stack allows no testing buckets (prod).",
    severity=HIGH,
    profile=SECURITY,
    remediation=f"Remove the {PUBLIC_ACCESS_TAG} tag and make the bucket private; serve "
    "public content through CloudFront with origin access control.",
    config={
        "allowTestingBuckets": {
            "type": "boolean",
            "default": False,
            "description": f"May buckets tagged {PUBLIC_ACCESS_TAG}={PUBLIC_ACCESS_TESTING} be public?",
        }
    },
)
def _testing_exception(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    tags = effective_tags(args.props, args.provider)
    if tags.get(PUBLIC_ACCESS_TAG) == PUBLIC_ACCESS_TESTING and not settings["allowTestingBuckets"]:
        report(
            f"is tagged {PUBLIC_ACCESS_TAG}={PUBLIC_ACCESS_TESTING}, but public testing buckets are not "
            "allowed in this stack"
        )


def _versioning_enabled(bucket: PolicyResource, versionings: References) -> bool:
    if truthy(get(bucket.props, "versioning", "enabled")):
        return True
    return any(
        str(get(v.props, "versioningConfiguration", "status", default="")).lower() == "enabled"
        for v in versionings.to(bucket)
    )


@stack_policy(
    name="s3-versioning",
    description="Every bucket has versioning enabled (inline or BucketVersioning).",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_21", "AVD-AWS-0090"),
    remediation='Add an aws.s3.BucketVersioning with status "Enabled".',
)
def _versioning(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    versionings = References(of_type(args.resources, *BUCKET_VERSIONING), "bucket")
    for bucket in of_type(args.resources, *BUCKETS):
        if not _versioning_enabled(bucket, versionings):
            report(f"{_bucket_label(bucket)} has no versioning enabled", bucket.urn)


def _sse_algorithms(config) -> list[str]:
    rules = as_list(get(config, "rules")) + as_list(get(config, "rule"))
    return [
        str(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm", default=""))
        for rule in rules
    ]


@stack_policy(
    name="s3-kms-encryption",
    description="Every bucket is encrypted with KMS (aws:kms or aws:kms:dsse).",
    severity=HIGH,
    profile=HYGIENE,
    refs=("CKV_AWS_145", "AVD-AWS-0132"),
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration with "
    'sseAlgorithm "aws:kms" and a customer managed key.',
)
def _kms_encryption(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    configs = References(of_type(args.resources, *BUCKET_ENCRYPTION), "bucket")
    for bucket in of_type(args.resources, *BUCKETS):
        algorithms = _sse_algorithms(get(bucket.props, "serverSideEncryptionConfiguration"))
        for config in configs.to(bucket):
            algorithms += _sse_algorithms(config.props)
        if not any(a in KMS_ALGORITHMS for a in algorithms):
            shown = ", ".join(a for a in algorithms if a) or "none (SSE-S3 by default)"
            report(f"{_bucket_label(bucket)} is not encrypted with KMS: {shown}", bucket.urn)


def _inline_log_target(bucket: PolicyResource) -> str | None:
    """Target of a bucket's deprecated inline `logging` (an object, or a list of one)."""
    target = get(bucket.props, "logging", "targetBucket") or get(
        bucket.props, "logging", 0, "targetBucket"
    )
    return target if isinstance(target, str) and target else None


@stack_policy(
    name="s3-access-logging",
    description="Every bucket (except the access-log bucket) has server access logging.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_18", "AVD-AWS-0089"),
    remediation="Add an aws.s3.BucketLogging that targets the account's access-log bucket.",
)
def _access_logging(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    loggings = of_type(args.resources, *BUCKET_LOGGING)
    logged, targets = References(loggings, "bucket"), References(loggings, "targetBucket")
    buckets = of_type(args.resources, *BUCKETS)
    inline_targets = {t for b in buckets if (t := _inline_log_target(b))}
    for bucket in buckets:
        if targets.to(bucket) or inline_targets & identities(bucket):
            continue  # the access-log bucket itself: it must not log into itself
        if _inline_log_target(bucket) or logged.to(bucket):
            continue
        report(f"{_bucket_label(bucket)} has no server access logging", bucket.urn)


# --- RDS ----------------------------------------------------------------------------


def is_replica(props) -> bool:
    return bool(get(props, "replicateSourceDb") or get(props, "replicationSourceIdentifier"))


@resource_policy(
    name="rds-storage-encrypted",
    types={RDS_INSTANCE, RDS_CLUSTER},
    description="RDS instances and clusters encrypt their storage.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_16", "AVD-AWS-0080", "AVD-AWS-0079"),
    remediation="Set storageEncrypted=True with a customer managed kmsKeyId "
    "(a new instance: encryption cannot be switched on in place).",
)
def _rds_encrypted(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    props = args.props
    if truthy(get(props, "storageEncrypted")):
        return
    if is_replica(props) and get(props, "kmsKeyId"):
        return  # an encrypted replica names its key; encryption follows from it
    report("storage is not encrypted (storageEncrypted is not true)")


@resource_policy(
    name="rds-not-public",
    types={RDS_INSTANCE, RDS_CLUSTER_INSTANCE},
    description="RDS instances are not publicly accessible.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_17",),
    remediation="Set publiclyAccessible=False and reach the database through the VPC.",
)
def _rds_not_public(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if truthy(get(args.props, "publiclyAccessible")):
        report("is publicly accessible")


@resource_policy(
    name="rds-backup-retention",
    types={RDS_INSTANCE, RDS_CLUSTER},
    description="RDS keeps automated backups for at least the configured days (default 7).",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_133", "AVD-AWS-0077"),
    remediation="Set backupRetentionPeriod to at least the configured minimum.",
    config={"minDays": {"type": "number", "minimum": 1, "maximum": 35, "default": 7}},
)
def _rds_backups(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    days = number(get(args.props, "backupRetentionPeriod"))
    minimum = settings["minDays"]
    if days is None:
        report(f"backupRetentionPeriod is not set (AWS default 1 day); at least {minimum} required")
    elif days < minimum:
        report(f"keeps backups {days:g} days; at least {minimum} required")


@resource_policy(
    name="rds-iam-auth",
    types={RDS_INSTANCE, RDS_CLUSTER},
    description="MySQL and PostgreSQL databases enable IAM database authentication.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_161", "CKV_AWS_162"),
    remediation="Set iamDatabaseAuthenticationEnabled=True and connect with IAM tokens.",
)
def _rds_iam_auth(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    engine = str(get(args.props, "engine", default="")).lower()
    if engine and not engine.startswith(IAM_AUTH_ENGINES):
        return  # SQL Server, Oracle and Db2 have no IAM database authentication
    if not truthy(get(args.props, "iamDatabaseAuthenticationEnabled")):
        report("IAM database authentication is off (iamDatabaseAuthenticationEnabled)")


@resource_policy(
    name="rds-multi-az",
    types={RDS_INSTANCE},
    description="Production RDS instances, read replicas included, are Multi-AZ.",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    refs=("CKV_AWS_157",),
    remediation="Set multiAz=True; a single-AZ DR replica chosen for cost is a reviewed "
    "entry in this policy's exemptions, with its reason.",
)
def _rds_multi_az(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    """A replica is held to it too: once promoted it is the production database, and a
    single-AZ one then rides on one zone. Keeping it single-AZ (half the DR cost) is a
    trade-off to record in `exemptions`, not a default the policy skips."""
    if truthy(get(args.props, "multiAz")):
        return
    if is_replica(args.props):
        report(
            "is a single-AZ read replica (multiAz): once promoted it serves production "
            "from one zone; make it Multi-AZ or record the trade-off as an exemption"
        )
    else:
        report("is not Multi-AZ (multiAz)")


@resource_policy(
    name="rds-deletion-protection",
    types={RDS_INSTANCE, RDS_CLUSTER},
    description="Production RDS instances and clusters have deletion protection.",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    refs=("CKV_AWS_293", "CKV_AWS_139"),
    remediation="Set deletionProtection=True.",
)
def _rds_deletion_protection(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    if not truthy(get(args.props, "deletionProtection")):
        report("deletion protection is off (deletionProtection)")


@resource_policy(
    name="rds-final-snapshot",
    types={RDS_INSTANCE, RDS_CLUSTER},
    description="Production RDS databases take a final snapshot when deleted.",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    remediation="Set skipFinalSnapshot=False and a finalSnapshotIdentifier.",
)
def _rds_final_snapshot(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    props = args.props
    if args.resource_type == RDS_INSTANCE and is_replica(props):
        return  # a read replica takes no final snapshot
    if truthy(get(props, "skipFinalSnapshot")):
        report("skipFinalSnapshot is true: deleting it loses its data")
    elif not get(props, "finalSnapshotIdentifier"):
        report("finalSnapshotIdentifier is not set: a delete would fail or lose the data")


@stack_policy(
    name="rds-cross-region-replica",
    description="In production every database has a replica in another region.",
    severity=HIGH,
    profile=PRODUCTION_ONLY,
    remediation="Add a cross-region read replica (replicateSourceDb = the primary's "
    "ARN, with a KMS key in the replica region) or an Aurora global cluster member.",
)
def _cross_region_replica(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    instances = of_type(args.resources, RDS_INSTANCE)
    clusters = of_type(args.resources, RDS_CLUSTER)
    instance_replicas = References(instances, "replicateSourceDb")
    cluster_replicas = References(clusters, "replicationSourceIdentifier")
    for primary in instances + clusters:
        if is_replica(primary.props):
            continue
        home = region(primary.props, primary.provider)
        replicas = instance_replicas.to(primary) + cluster_replicas.to(primary)
        group = get(primary.props, "globalClusterIdentifier")
        if group:
            replicas += [
                c
                for c in clusters
                if c is not primary and get(c.props, "globalClusterIdentifier") == group
            ]
        elsewhere = [r for r in replicas if region(r.props, r.provider) not in (None, home)]
        if not elsewhere:
            report(
                f"database {primary.name} ({home or 'unknown region'}) has no replica in "
                "another region",
                primary.urn,
            )


# --- EBS and KMS --------------------------------------------------------------------


@resource_policy(
    name="ebs-volume-encrypted",
    types={"aws:ebs/volume:Volume"},
    description="EBS volumes are encrypted.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_3", "AVD-AWS-0026"),
    remediation="Set encrypted=True (and a kmsKeyId); better, enable EBS encryption by default.",
)
def _ebs_encrypted(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not truthy(get(args.props, "encrypted")):
        report("the volume is not encrypted")


@resource_policy(
    name="ec2-volumes-encrypted",
    types={"aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"},
    description="Instance and launch-template block devices are encrypted.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_8", "AVD-AWS-0131"),
    remediation='Set ebs.encrypted="true" on every block device mapping '
    "(rootBlockDevice.encrypted=True on instances).",
)
def _instance_volumes(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    props = args.props
    if args.resource_type == "aws:ec2/launchTemplate:LaunchTemplate":
        for index, mapping in enumerate(as_list(get(props, "blockDeviceMappings"))):
            ebs = get(mapping, "ebs")
            if ebs is not None and not truthy(get(ebs, "encrypted")):
                device = get(mapping, "deviceName") or f"#{index + 1}"
                report(f"block device {device} is not encrypted")
        return
    root = get(props, "rootBlockDevice")
    if root is None or not truthy(get(root, "encrypted")):
        report("the root volume is not encrypted (rootBlockDevice.encrypted)")
    for index, device in enumerate(as_list(get(props, "ebsBlockDevices"))):
        if not truthy(get(device, "encrypted")):
            name = get(device, "deviceName") or f"#{index + 1}"
            report(f"EBS volume {name} is not encrypted")


@resource_policy(
    name="kms-key-rotation",
    types={"aws:kms/key:Key"},
    description="Symmetric KMS keys rotate automatically.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_7", "AVD-AWS-0065"),
    remediation="Set enableKeyRotation=True.",
)
def _key_rotation(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    spec = get(args.props, "customerMasterKeySpec") or get(args.props, "keySpec")
    if spec and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if not truthy(get(args.props, "enableKeyRotation")):
        report("automatic key rotation is off (enableKeyRotation)")


TRAIL = "aws:cloudtrail/trail:Trail"


@resource_policy(
    name="cloudtrail-log-validation",
    types={TRAIL},
    description="CloudTrail trails validate their log files (digest files).",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_36", "AVD-AWS-0016"),
    remediation="Set enableLogFileValidation=True.",
)
def _trail_validation(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not truthy(get(args.props, "enableLogFileValidation")):
        report("log file validation is off: a changed or deleted log goes unnoticed")


@resource_policy(
    name="cloudtrail-multi-region",
    types={TRAIL},
    description="CloudTrail trails record every region.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_67", "AVD-AWS-0014"),
    remediation="Set isMultiRegionTrail=True (and includeGlobalServiceEvents=True).",
)
def _trail_multi_region(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if not truthy(get(args.props, "isMultiRegionTrail")):
        report("records one region only: activity in the others goes unrecorded")
