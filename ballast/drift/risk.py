"""How dangerous one drifted property (or a vanished resource) is.

Each change is matched against `RULES`, first match wins: a type glob, an optional
property-path pattern (a regular expression searched in the path, case-insensitive),
the risk, the category a reviewer reads, the policy-pack concern (`iam`, `data`,
`network`, `eks`, `delivery`, `tagging`: the pack's `CONCERNS`, where one applies) and
the pack policies whose guarantee the drift may break. A change no rule matches is
`medium`/`unclassified`: someone changed something the code does not know about.

* high: IAM documents and trusts, security groups and NACLs, KMS key policies, S3
  bucket policies and public-access blocks, EKS access entries and endpoint access,
  CloudTrail and GuardDuty settings, Route 53 failover records and health checks;
* medium: encryption, logging, backup and deletion-protection settings;
* low: scaling and capacity (`desiredSize`, instance types), tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

HIGH, MEDIUM, LOW = "high", "medium", "low"
DELETED = "<deleted>"
"""A rule path that matches only the resource's deletion."""
#: Most severe first: the report's order.
LEVELS = (HIGH, MEDIUM, LOW)


@dataclass(frozen=True)
class Risk:
    level: str
    category: str
    concern: str | None
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    types: tuple[str, ...]
    """Type globs."""
    path: str | None
    """Regex searched in the property path; None: any path, and the resource's deletion;
    `DELETED`: the resource's deletion only."""
    risk: Risk

    def matches(self, type_: str, path: str | None) -> bool:
        if not any(fnmatchcase(type_, pattern) for pattern in self.types):
            return False
        if self.path is None:
            return True
        if self.path == DELETED:
            return path is None
        return path is not None and re.search(self.path, path, re.IGNORECASE) is not None


def _r(types: tuple[str, ...] | str, path: str | None, *risk_args) -> Rule:
    return Rule((types,) if isinstance(types, str) else types, path, Risk(*risk_args))


_IAM_POLICIES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
_IAM_ATTACHMENTS = ("aws:iam/*PolicyAttachment*:*", "aws:iam/policyAttachment:PolicyAttachment")
_SECURITY_GROUPS = (
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
_NACLS = (
    "aws:ec2/networkAcl:NetworkAcl",
    "aws:ec2/networkAclRule:NetworkAclRule",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
)
_KMS_KEYS = ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy", "aws:kms/replicaKey:ReplicaKey")
_RDS = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
_LBS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
_ANY = "*"

RULES: tuple[Rule, ...] = (
    # high
    _r(
        "aws:iam/role:Role",
        r"^assumeRolePolicy",
        HIGH,
        "IAM trust",
        "iam",
        ("iam-trust-no-open-principal", "iam-oidc-trust-conditions"),
    ),
    _r(
        "aws:iam/role:Role",
        r"^(inlinePolicies|managedPolicyArns|permissionsBoundary)",
        HIGH,
        "IAM permissions",
        "iam",
        ("iam-no-admin-wildcard", "iam-role-permission-boundary"),
    ),
    _r(
        _IAM_POLICIES,
        r"^policy",
        HIGH,
        "IAM policy document",
        "iam",
        ("iam-no-admin-wildcard", "iam-no-wildcard-actions", "iam-no-privilege-escalation"),
    ),
    _r(_IAM_POLICIES, None, HIGH, "IAM policy", "iam", ("iam-no-admin-wildcard",)),
    _r(
        _IAM_ATTACHMENTS,
        None,
        HIGH,
        "IAM policy attachment",
        "iam",
        ("iam-no-admin-managed-policies",),
    ),
    _r("aws:iam/role:Role", None, HIGH, "IAM role", "iam", ()),
    _r("aws:iam/*", None, HIGH, "IAM", "iam", ()),
    _r(
        _SECURITY_GROUPS,
        r"ingress|cidr|fromPort|toPort|ipProtocol|protocol|prefixList|"
        r"referencedSecurityGroup|sourceSecurityGroup",
        HIGH,
        "security group ingress",
        "network",
        ("sg-no-public-ingress", "sg-no-public-admin-ports"),
    ),
    _r(_SECURITY_GROUPS, r"^(?!tags)", HIGH, "security group", "network", ()),
    _r(_SECURITY_GROUPS, None, HIGH, "security group", "network", ()),
    _r(_NACLS, r"^(?!tags)", HIGH, "network ACL", "network", ()),
    _r(_NACLS, None, HIGH, "network ACL", "network", ()),
    _r(
        _KMS_KEYS,
        r"^policy",
        HIGH,
        "KMS key policy",
        "iam",
        ("resource-policy-no-public-principal",),
    ),
    _r(_KMS_KEYS, DELETED, HIGH, "KMS key deleted", "data", ("kms-key-rotation",)),
    _r(
        "aws:s3/bucketPolicy:BucketPolicy",
        None,
        HIGH,
        "S3 bucket policy",
        "data",
        ("s3-no-public-policy", "resource-policy-no-public-principal"),
    ),
    _r(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        None,
        HIGH,
        "S3 public-access block",
        "data",
        ("s3-public-access-block",),
    ),
    _r("aws:s3/bucketAcl*:*", None, HIGH, "S3 bucket ACL", "data", ("s3-no-public-acl",)),
    _r(
        ("aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:*"),
        None,
        HIGH,
        "EKS access entry",
        "eks",
        ("eks-access-entries",),
    ),
    _r(
        "aws:eks/cluster:Cluster",
        r"^(accessConfig|vpcConfig\.(endpoint|publicAccessCidrs))",
        HIGH,
        "EKS endpoint access",
        "eks",
        ("eks-private-endpoint", "eks-public-endpoint-restricted", "eks-access-entries"),
    ),
    _r(
        "aws:cloudtrail/*",
        r"^(?!tags)",
        HIGH,
        "CloudTrail",
        "data",
        ("cloudtrail-log-validation", "cloudtrail-multi-region"),
    ),
    _r("aws:cloudtrail/*", None, HIGH, "CloudTrail", "data", ()),
    _r("aws:guardduty/*", r"^(?!tags)", HIGH, "GuardDuty", None, ()),
    _r("aws:guardduty/*", None, HIGH, "GuardDuty", None, ()),
    _r(
        "aws:route53/record:Record",
        r"failover|healthCheck|setIdentifier|alias|records",
        HIGH,
        "Route 53 failover",
        None,
        (),
    ),
    _r(
        "aws:route53/healthCheck:HealthCheck", r"^(?!tags)", HIGH, "Route 53 health check", None, ()
    ),
    # medium
    _r(
        _ANY,
        r"encrypt|kms|sse|serverSideEncryption",
        MEDIUM,
        "encryption",
        "data",
        (
            "s3-kms-encryption",
            "rds-storage-encrypted",
            "eks-secrets-encryption",
            "ebs-volume-encrypted",
        ),
    ),
    _r(
        "aws:kms/*",
        r"enableKeyRotation|rotation",
        MEDIUM,
        "encryption",
        "data",
        ("kms-key-rotation",),
    ),
    _r(
        "aws:s3/bucketServerSideEncryptionConfiguration*:*",
        None,
        MEDIUM,
        "encryption",
        "data",
        ("s3-kms-encryption",),
    ),
    _r(
        _ANY,
        r"logging|LogTypes|accessLogs|flowLog|^logs?\b|\.logs?\b",
        MEDIUM,
        "logging",
        "data",
        ("s3-access-logging", "eks-control-plane-logging", "lb-access-logs", "vpc-flow-logs"),
    ),
    _r(
        ("aws:s3/bucketLogging*:*", "aws:ec2/flowLog:FlowLog", "aws:cloudwatch/logGroup:*"),
        None,
        MEDIUM,
        "logging",
        "data",
        ("s3-access-logging", "vpc-flow-logs"),
    ),
    _r(
        _ANY,
        r"backup|snapshot|retention",
        MEDIUM,
        "backup",
        "data",
        ("rds-backup-retention", "rds-final-snapshot"),
    ),
    _r("aws:backup/*", None, MEDIUM, "backup", "data", ()),
    _r(
        _ANY,
        r"deletionProtection|enableDeletionProtection|protect",
        MEDIUM,
        "deletion protection",
        "delivery",
        ("rds-deletion-protection", "lb-deletion-protection", "prod-stateful-protected"),
    ),
    _r("aws:s3/bucketVersioning*:*", None, MEDIUM, "versioning", "data", ("s3-versioning",)),
    # low
    _r(_ANY, r"^(tags)\b", LOW, "tags", "tagging", ("required-tags", "tag-values-allowed")),
    _r(
        _ANY,
        r"desiredSize|minSize|maxSize|desiredCapacity|scalingConfig|instanceTypes?\b|"
        r"instanceClass|allocatedStorage|capacity",
        LOW,
        "scaling and capacity",
        "delivery",
        ("prod-instance-floor",),
    ),
)

UNCLASSIFIED = Risk(MEDIUM, "unclassified", None, ())
#: A resource that is gone from the cloud and no rule names: medium as well.
GONE = Risk(MEDIUM, "resource deleted outside Pulumi", None, ())


def classify(type_: str, path: str | None) -> Risk:
    """The risk of a change to `path` of a resource of `type_` (None: its deletion)."""
    for rule in RULES:
        if rule.matches(type_, path):
            return rule.risk
    return GONE if path is None else UNCLASSIFIED


def rank(level: str) -> int:
    """Sort key: high first."""
    return LEVELS.index(level)


def referenced_policies() -> frozenset[str]:
    """Every pack policy a rule names (a test checks each exists in the pack)."""
    return frozenset(name for rule in RULES for name in rule.risk.policies)
