"""A sprawling example estate on an AWS endpoint (moto's server), for `--demo` and the
tests: every check's problem at least once, each beside a clean counterpart.

`seed(endpoint_url)` builds it in the caller's account and `SECOND_ACCOUNT` (entered
with `sts:AssumeRole`, as an audit does) over `REGIONS`, and returns the `Seeded`
record: per check, the resource key it must flag (`positive`) and one it must not
(`negative`), and `split`, the moment between the resources made "old" and the rest.
moto stamps every creation with the current time, so age checks are exercised by
auditing with the clock at `split` + the threshold: what was made before `split` is
then older than the threshold, what was made after it is younger.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from ballast.audit.scope import strip_account_host_prefix

#: The second account of the estate, entered through `ROLE_NAME`.
SECOND_ACCOUNT = "111111111111"
ROLE_NAME = "BallastAudit"
REGIONS = ("us-east-1", "eu-west-1")
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: Threads the sections are seeded on (at most this many calls in flight).
SEED_WORKERS = 16
#: How far past the next whole second the young resources are made, seconds.
SPLIT_MARGIN_S = 0.05
_MAKING = threading.Lock()
_CONFIG = Config(
    s3={"addressing_style": "path"}, retries={"max_attempts": 2}, max_pool_connections=SEED_WORKERS
)


@dataclass
class Seeded:
    """What was built: `cases[check] = {"positive": key, "negative": key}` (keys as the
    audit reports a finding's resource: ARN where there is one, else the id)."""

    accounts: list[str]
    regions: list[str]
    split: datetime
    cases: dict[str, dict[str, str]] = field(default_factory=dict)
    no_remote_access: set[str] = field(default_factory=set)
    """Node groups created without `remoteAccess` (moto gives every group one)."""

    def case(self, check: str, positive: str, negative: str) -> None:
        self.cases[check] = {"positive": positive, "negative": negative}

    def corrections(self) -> tuple[tuple[str, Any], ...]:
        """botocore event hooks that make the emulator answer as AWS does for what was
        seeded: moto 5.2 gives every EKS node group a default `remoteAccess` SSH key,
        AWS gives none unless asked, so the key is removed from the groups created
        without one. Nothing else is changed."""
        groups = frozenset(self.no_remote_access)

        def nodegroup(parsed: dict[str, Any], **_: Any) -> None:
            group = parsed.get("nodegroup") or {}
            if group.get("nodegroupArn") in groups:
                group.pop("remoteAccess", None)

        return (("after-call.eks.DescribeNodegroup", nodegroup),)


class _Account:
    def __init__(self, url: str, session: boto3.Session, account: str, credentials: dict[str, str]):
        self.url, self.session, self.account = url, session, account
        self.credentials = credentials
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str = REGIONS[0]) -> Any:
        # Sections seed concurrently; a boto3 session makes one client at a time.
        with _MAKING:
            if (service, region) not in self._clients:
                client = self.session.client(
                    service, region_name=region, endpoint_url=self.url, config=_CONFIG,
                    **self.credentials,
                )  # fmt: skip
                if service == "s3control":
                    client.meta.events.register("before-sign.s3-control", strip_account_host_prefix)
                self._clients[(service, region)] = client
            return self._clients[(service, region)]

    def close(self) -> None:
        """Close the clients' connections (the server then stops without waiting on
        idle keep-alive sockets)."""
        with _MAKING:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def _account(url: str, base: boto3.Session, account: str | None) -> _Account:
    with _MAKING:
        sts = base.client("sts", endpoint_url=url, config=_CONFIG)
    try:
        caller = sts.get_caller_identity()["Account"]
        if account is None or account == caller:
            return _Account(url, base, caller, {})
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ROLE_NAME}", RoleSessionName="ballast-seed"
        )["Credentials"]
    finally:
        sts.close()
    return _Account(url, base, account, {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    })  # fmt: skip


def _vpc(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=z)["Subnet"][
            "SubnetId"
        ]
        for i, z in enumerate(zones)
    ]
    return vpc, subnets


def seed(url: str, *, extra_volumes: int = 0, session: boto3.Session | None = None) -> Seeded:
    """Build the estate at `url`; `extra_volumes` adds that many clean, attached-looking
    volumes per region (the bench's bulk). `session` (default: a new one with
    `CREDENTIALS`) makes the clients; an audit given the same session afterwards reuses
    the service models it loaded.

    The sections run concurrently on `SEED_WORKERS` threads as soon as what they need
    exists: the emulator's first call to a service loads that service (moto's EC2 alone
    takes seconds), and those loads overlap with the other sections' calls. Only the
    resources that must look old are ordered against `split`: they are made first, then
    the clock passes the next whole second (moto stamps creations to the second), then
    their young counterparts are made.
    """
    base = session or boto3.Session(region_name=REGIONS[0], **CREDENTIALS)
    a = _account(url, base, None)
    seeded = Seeded(accounts=[a.account, SECOND_ACCOUNT], regions=list(REGIONS),
                    split=datetime.now(UTC))  # fmt: skip
    accounts = [a]
    try:
        with ThreadPoolExecutor(SEED_WORKERS, thread_name_prefix="seed") as pool:
            second = pool.submit(_account, url, base, SECOND_ACCOUNT)
            started = [
                pool.submit(section, seeded, a) for section in (_iam, _rds, _regional, _misc)
            ]
            started += [pool.submit(_bulk, a, region, extra_volumes) for region in REGIONS]
            ec2 = a.client("ec2")
            vpc, subnets = _vpc(ec2)
            started += [
                pool.submit(_eks, seeded, a, subnets),
                pool.submit(_elb, seeded, a, ec2, vpc, subnets),
            ]
            instance = _aged(seeded, a, ec2)
            b = second.result()
            accounts.append(b)
            started += [
                pool.submit(_ec2, seeded, a, ec2, subnets, instance),
                pool.submit(_s3, seeded, a, b),
                pool.submit(_trails, seeded, a, b),
            ]
            for future in started:
                future.result()
    finally:
        for account in accounts:
            account.close()
    return seeded


def _aged(seeded: Seeded, a: _Account, ec2: Any) -> str:
    """The age checks' cases: an old and a young AMI, snapshot and access key on either
    side of `seeded.split`. Returns the old instance (the other sections attach to it)."""
    east = REGIONS[0]
    main = a.account
    old_instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    instance = old_instance["InstanceId"]
    old_image = ec2.create_image(InstanceId=instance, Name="old-unused")["ImageId"]
    old_used = ec2.create_image(InstanceId=instance, Name="old-in-template")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="uses-old-image", LaunchTemplateData={"ImageId": old_used}
    )
    volume = ec2.create_volume(Size=10, AvailabilityZone=f"{east}a", Encrypted=True)["VolumeId"]
    old_snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    iam = a.client("iam")
    iam.create_user(UserName="old-key-user")
    iam.create_access_key(UserName="old-key-user")
    # moto stamps to the second, rounding down: what was made before `split` is stamped
    # before it; what is made after the next whole second is stamped after it.
    seeded.split = datetime.now(UTC)
    time.sleep(1.0 - seeded.split.microsecond / 1e6 + SPLIT_MARGIN_S)
    new_snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    iam.create_user(UserName="new-key-user")
    iam.create_access_key(UserName="new-key-user")
    seeded.case("ami-old-unused", f"arn:aws:ec2:{east}::image/{old_image}",
                f"arn:aws:ec2:{east}::image/{old_used}")  # fmt: skip
    seeded.case("ebs-snapshot-old", f"arn:aws:ec2:{east}::snapshot/{old_snapshot}",
                f"arn:aws:ec2:{east}::snapshot/{new_snapshot}")  # fmt: skip
    user_arn = f"arn:aws:iam::{main}:user/"
    seeded.case("iam-access-key-old", user_arn + "old-key-user", user_arn + "new-key-user")
    seeded.case("iam-access-key-unused", user_arn + "old-key-user", user_arn + "new-key-user")
    return str(instance)


def _bulk(a: _Account, region: str, volumes: int) -> None:
    ec2 = a.client("ec2", region)
    for _ in range(volumes):
        ec2.create_volume(Size=1, AvailabilityZone=f"{region}a", Encrypted=True)


def _ec2(seeded: Seeded, a: _Account, ec2: Any, subnets: list[str], instance: str) -> None:
    east, west = REGIONS
    acct = a.account
    loose = ec2.create_volume(
        Size=100, VolumeType="gp3", AvailabilityZone=f"{east}a", Encrypted=True
    )["VolumeId"]
    attached = ec2.create_volume(Size=8, AvailabilityZone=f"{east}a")["VolumeId"]
    ec2.attach_volume(VolumeId=attached, InstanceId=instance, Device="/dev/sdf")
    vol = f"arn:aws:ec2:{east}:{acct}:volume/"
    seeded.case("ebs-volume-unattached", vol + loose, vol + attached)
    seeded.case("ebs-volume-unencrypted", vol + attached, vol + loose)
    idle = ec2.allocate_address(Domain="vpc")["AllocationId"]
    used = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used, InstanceId=instance)
    eip = f"arn:aws:ec2:{east}:{acct}:elastic-ip/"
    seeded.case("eip-unassociated", eip + idle, eip + used)
    # IMDS: the seeded instance allows v1; a second one requires v2.
    strict = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )["Instances"][0]["InstanceId"]  # fmt: skip
    inst = f"arn:aws:ec2:{east}:{acct}:instance/"
    seeded.case("ec2-imdsv1-allowed", inst + instance, inst + strict)
    # EBS encryption by default: on in east, off in west.
    ec2.enable_ebs_encryption_by_default()
    seeded.case("ebs-default-encryption-off", f"ec2:ebs-encryption-default:{acct}:{west}:{acct}/{west}",
                f"ec2:ebs-encryption-default:{acct}:{east}:{acct}/{east}")  # fmt: skip
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    groups = {}
    for name, port, cidr in (
        ("ssh-world", 22, "0.0.0.0/0"),
        ("ssh-office", 22, "10.0.0.0/8"),
        ("pg-world", 5432, "0.0.0.0/0"),
        ("https-world", 443, "0.0.0.0/0"),
    ):
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                         "IpRanges": [{"CidrIp": cidr}]}],
        )  # fmt: skip
        groups[name] = f"arn:aws:ec2:{east}:{acct}:security-group/{gid}"
    seeded.case("sg-admin-ports-open", groups["ssh-world"], groups["ssh-office"])
    seeded.case("sg-database-ports-open", groups["pg-world"], groups["https-world"])


def _eks(seeded: Seeded, a: _Account, subnets: list[str]) -> None:
    eks = a.client("eks")
    role = f"arn:aws:iam::{a.account}:role/eks"
    good = eks.create_cluster(
        name="governed", roleArn=role,
        resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": f"arn:aws:kms:{REGIONS[0]}:{a.account}:key/1"}}],
        logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
    )["cluster"]["arn"]  # fmt: skip
    bad = eks.create_cluster(
        name="sprawl", roleArn=role,
        resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
    )["cluster"]["arn"]  # fmt: skip
    for check in (
        "eks-public-endpoint-open",
        "eks-secrets-not-encrypted",
        "eks-control-plane-logging-off",
    ):
        seeded.case(check, bad, good)
    node_role = f"arn:aws:iam::{a.account}:role/nodes"

    def group(cluster: str, name: str, subnets: list[str], **extra: Any) -> str:
        arn = eks.create_nodegroup(
            clusterName=cluster, nodegroupName=name, subnets=subnets, nodeRole=node_role, **extra
        )["nodegroup"]["nodegroupArn"]
        if "remoteAccess" not in extra:
            seeded.no_remote_access.add(arn)
        return str(arn)

    one_zone = group("sprawl", "apps-one-zone", subnets[:1], remoteAccess={"ec2SshKey": "ops"})
    spread = group("governed", "apps", subnets)
    system_bare = group("sprawl", "system", subnets, labels={"ballast.io/pool": "system"})
    system_tainted = group(
        "governed", "system", subnets, labels={"ballast.io/pool": "system"},
        taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}],
    )  # fmt: skip
    seeded.case("eks-nodegroup-single-az", one_zone, spread)
    seeded.case("eks-nodegroup-remote-ssh", one_zone, spread)
    seeded.case("eks-system-nodegroup-untainted", system_bare, system_tainted)


def _elb(seeded: Seeded, a: _Account, ec2: Any, vpc: str, subnets: list[str]) -> None:
    elb = a.client("elbv2")
    acm = a.client("acm")
    cert = acm.request_certificate(DomainName="www.example.internal")["CertificateArn"]

    def lb(name: str, subnets: list[str]) -> str:
        return elb.create_load_balancer(
            Name=name, Subnets=subnets, Scheme="internet-facing", Type="application"
        )["LoadBalancers"][0]["LoadBalancerArn"]

    bad = lb("sprawl-alb", subnets[:1])
    good = lb("governed-alb", subnets)
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][
        0
    ]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    elb.create_listener(LoadBalancerArn=bad, Protocol="HTTP", Port=80, DefaultActions=forward)
    elb.create_listener(LoadBalancerArn=bad, Protocol="HTTPS", Port=443, DefaultActions=forward,
                        Certificates=[{"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-2016-08")  # fmt: skip
    elb.create_listener(
        LoadBalancerArn=good, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}],
    )  # fmt: skip
    elb.create_listener(LoadBalancerArn=good, Protocol="HTTPS", Port=443, DefaultActions=forward,
                        Certificates=[{"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")  # fmt: skip
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=good,
        Attributes=[{"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": "governed-logs"}],
    )  # fmt: skip
    waf = a.client("wafv2")
    acl = waf.create_web_acl(
        Name="edge", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "edge"},
    )["Summary"]["ARN"]  # fmt: skip
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=good)
    for check in (
        "elb-single-az",
        "elb-http-no-redirect",
        "elb-tls-policy-old",
        "elb-no-waf",
        "elb-no-access-logs",
    ):
        seeded.case(check, bad, good)


def _iam(seeded: Seeded, a: _Account) -> None:
    iam = a.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})  # fmt: skip
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )["Policy"]["Arn"]  # fmt: skip

    def role(name: str, statements: list[dict[str, Any]] | None = None, managed: str | None = None,
             bounded: bool = True) -> str:  # fmt: skip
        extra = {"PermissionsBoundary": boundary} if bounded else {}
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)["Role"]["Arn"]
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="inline",
                                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))  # fmt: skip
        if managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        return str(arn)

    reader = role(
        "reader",
        [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/*"}],
    )
    admin = role("legacy-admin", managed="arn:aws:iam::aws:policy/AdministratorAccess")
    star = role("deploy-star", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    passer = role(
        "ci-passrole",
        [{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:DescribeInstances"], "Resource": "*"}],
    )
    scoped = role(
        "ci-scoped",
        [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{a.account}:role/app",
            }
        ],
    )
    escalate = role(
        "ops-escalate",
        [
            {
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "iam:CreatePolicyVersion"],
                "Resource": "*",
            }
        ],
    )
    unbounded = role(
        "unbounded",
        [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        bounded=False,
    )
    seeded.case("iam-admin-access", admin, reader)
    seeded.cases["iam-admin-access-wildcard"] = {"positive": star, "negative": scoped}
    seeded.case("iam-passrole-wildcard", passer, scoped)
    seeded.case("iam-privilege-escalation", escalate, scoped)
    seeded.case("iam-role-no-boundary", unbounded, reader)
    iam.create_user(UserName="console-no-mfa")
    iam.create_login_profile(UserName="console-no-mfa", Password="Initial-Passw0rd!")
    iam.create_user(UserName="console-mfa")
    iam.create_login_profile(UserName="console-mfa", Password="Initial-Passw0rd!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="console-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="console-mfa",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    user = f"arn:aws:iam::{a.account}:user/"
    seeded.case("iam-console-no-mfa", user + "console-no-mfa", user + "console-mfa")


def _s3(seeded: Seeded, a: _Account, b: _Account) -> None:
    s3 = a.client("s3")
    names = {"open-acl": "sprawl-public-acl", "open-policy": "sprawl-public-policy",
             "bare": "sprawl-bare", "good": "governed-data"}  # fmt: skip
    for name in names.values():
        s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket=names["open-acl"], ACL="public-read")
    s3.put_bucket_policy(Bucket=names["open-policy"], Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{names['open-policy']}/*"}]}))  # fmt: skip
    good = names["good"]
    s3.put_public_access_block(Bucket=good, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})  # fmt: skip
    s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=good, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})  # fmt: skip
    arn = "arn:aws:s3:::"
    seeded.case("s3-public-acl", arn + names["open-acl"], arn + good)
    seeded.case("s3-public-policy", arn + names["open-policy"], arn + good)
    for check in ("s3-bucket-public-access-block-off", "s3-unversioned", "s3-unencrypted"):
        seeded.case(check, arn + names["bare"], arn + good)
    a.client("s3control").put_public_access_block(
        AccountId=a.account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )  # fmt: skip
    seeded.case("s3-account-public-access-block-off", f"s3:account-block:{b.account}:{REGIONS[0]}:{b.account}",
                f"s3:account-block:{a.account}:{REGIONS[0]}:{a.account}")  # fmt: skip
    org = a.client("organizations")
    org.create_organization(FeatureSet="ALL")
    policy = org.create_policy(
        Name="protect-audit-trail", Type="SERVICE_CONTROL_POLICY", Description="deny trail changes",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    root = org.list_roots()["Roots"][0]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=root)
    seeded.case("org-no-scps", f"organizations:scps:{b.account}:{REGIONS[0]}:{b.account}",
                f"organizations:scps:{a.account}:{REGIONS[0]}:{a.account}")  # fmt: skip


def _rds(seeded: Seeded, a: _Account) -> None:
    west = REGIONS[1]
    rds = a.client("rds")

    def db(name: str, good: bool, tags: dict[str, str]) -> str:
        return rds.create_db_instance(
            DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="app", MasterUserPassword="not-a-real-secret-1", AllocatedStorage=20,
            MultiAZ=good, StorageEncrypted=good, PubliclyAccessible=not good,
            BackupRetentionPeriod=14 if good else 1, DeletionProtection=good,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["DBInstance"]["DBInstanceArn"]  # fmt: skip

    bad = db("sprawl-db", False, {"tier": "tier-1", "owner": "payments", "service": "checkout"})
    good = db("governed-db", True, {"tier": "tier-1", "service": "ledger"})
    rds.get_waiter  # noqa: B018 - instances are available at once on the emulator
    a.client("rds", west).create_db_instance_read_replica(
        DBInstanceIdentifier="governed-db-dr", SourceDBInstanceIdentifier=good,
        DBInstanceClass="db.t3.micro",
    )  # fmt: skip
    for check in ("rds-single-az", "rds-unencrypted", "rds-public", "rds-backup-retention-short",
                  "rds-no-deletion-protection", "rds-tier1-no-dr"):  # fmt: skip
        seeded.case(check, bad, good)


def _trails(seeded: Seeded, a: _Account, b: _Account) -> None:
    for account, multi in ((a, True), (b, False)):
        s3 = account.client("s3")
        bucket = f"trail-{account.account}"
        s3.create_bucket(Bucket=bucket)
        ct = account.client("cloudtrail")
        arn = ct.create_trail(
            Name="main",
            S3BucketName=bucket,
            IsMultiRegionTrail=multi,
            EnableLogFileValidation=multi,
        )["TrailARN"]
        if multi:
            ct.start_logging(Name=arn)
        if multi:
            good = arn
        else:
            bad = arn
    seeded.case("cloudtrail-not-logging", bad, good)
    seeded.case("cloudtrail-no-log-validation", bad, good)
    seeded.case("cloudtrail-no-multi-region", f"cloudtrail:account:{b.account}:{REGIONS[0]}:{b.account}",
                f"cloudtrail:account:{a.account}:{REGIONS[0]}:{a.account}")  # fmt: skip


def _regional(seeded: Seeded, a: _Account) -> None:
    east, west = REGIONS
    acct = a.account
    a.client("guardduty").create_detector(Enable=True)
    a.client("backup").create_backup_plan(BackupPlan={"BackupPlanName": "tier-1", "Rules": [
        {"RuleName": "daily", "TargetBackupVaultName": "Default", "ScheduleExpression": "cron(0 3 * * ? *)"}]})  # fmt: skip
    for check, service, kind in (
        ("guardduty-off", "guardduty", "detectors"),
        ("backup-no-plan", "backup", "plans"),
    ):
        seeded.case(
            check,
            f"{service}:{kind}:{acct}:{west}:{acct}/{west}",
            f"{service}:{kind}:{acct}:{east}:{acct}/{east}",
        )


def _misc(seeded: Seeded, a: _Account) -> None:
    sm = a.client("secretsmanager")
    stale = sm.create_secret(Name="legacy/api-token", SecretString="placeholder-value")["ARN"]
    rotated = sm.create_secret(Name="app/db", SecretString="placeholder-value")["ARN"]
    # No rotation function: the emulator would have to run it; the schedule alone turns
    # rotation on there.
    sm.rotate_secret(
        SecretId=rotated, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False
    )
    seeded.case("secret-no-rotation", stale, rotated)
    r53 = a.client("route53")
    zone = r53.create_hosted_zone(Name="example.internal", CallerReference=str(time.time()))[
        "HostedZone"
    ]["Id"]
    check = r53.create_health_check(CallerReference=str(time.time()), HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "primary.example.internal", "Port": 443, "ResourcePath": "/health"})["HealthCheck"]["Id"]  # fmt: skip

    def record(name: str, role: str, health: str | None) -> dict[str, Any]:
        rr = {"Name": name, "Type": "CNAME", "TTL": 60, "SetIdentifier": role.lower(), "Failover": role,
              "ResourceRecords": [{"Value": f"{role.lower()}.example.internal"}]}  # fmt: skip
        if health:
            rr["HealthCheckId"] = health
        return {"Action": "CREATE", "ResourceRecordSet": rr}

    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        record("db.example.internal.", "PRIMARY", check), record("db.example.internal.", "SECONDARY", None),
        record("api.example.internal.", "PRIMARY", None), record("api.example.internal.", "SECONDARY", None)]})  # fmt: skip
    zone_id = zone.split("/")[-1]
    acct = a.account
    key = f"route53:failover-record:{acct}:{REGIONS[0]}:{zone_id}/"
    seeded.case("route53-failover-no-health-check", key + "api.example.internal./CNAME/primary",
                key + "db.example.internal./CNAME/primary")  # fmt: skip
