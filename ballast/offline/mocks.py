"""Deterministic answers for the mock engine: IDs, ARNs and computed outputs per resource
type, and the data-source invokes the platform uses.

Everything derives from the resource's type and name (never randomness or time), so two
runs of the same program produce identical records and the JSON is diffable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from ballast.offline.errors import StackReferenceError

#: Account the offline engine pretends to run in, unless a provider pins
#: `allowedAccountIds` (then the first of those).
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"

# EC2-style IDs: prefix + 17 hex digits, as AWS issues them.
_EC2_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/networkAcl:NetworkAcl": "acl",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


#: pulumi-random's password resource, answered with `password_stand_in`.
RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"


def password_stand_in(name: str, length: int) -> str:
    """The offline engine's value of the random password `name`: `length` hex digits
    derived from the name (deterministic, like every answer here; never a real password)."""
    return (_digest(RANDOM_PASSWORD_TYPE, name, length=64) * (length // 64 + 1))[:length]


def _uuid(*parts: str) -> str:
    h = _digest(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class DeterministicMocks(pulumi.runtime.Mocks):
    """`pulumi.runtime.Mocks` whose answers depend only on type, name and provider.

    `provider_inputs` resolves a provider reference (`urn::id`) to that provider's inputs,
    so a resource or invoke learns its region and account from its explicit provider.

    `stack_reference` answers a `pulumi.StackReference` read: given the name the program
    passed (`org/project/stack`, `project/stack` or `stack`), the reference's state
    (`name`, `outputs`, `secretOutputNames`). Without it every reference fails.
    """

    def __init__(
        self,
        provider_inputs: Callable[[str], Mapping[str, Any] | None],
        stack_reference: Callable[[str], dict[str, Any]] | None = None,
    ):
        self._provider_inputs = provider_inputs
        self._stack_reference = stack_reference

    # --- context from the explicit provider -----------------------------------------

    def _region_account(self, provider_ref: str | None) -> tuple[str, str]:
        # No reference: a resource without an explicit provider (the SDK's mocks never
        # register default providers), which gets the default region and account.
        inputs = (self._provider_inputs(provider_ref) if provider_ref else None) or {}
        region = inputs.get("region") or DEFAULT_REGION
        allowed = inputs.get("allowedAccountIds")
        if isinstance(allowed, str):  # providers receive list inputs JSON-encoded
            import json

            try:
                allowed = json.loads(allowed)
            except ValueError:
                allowed = [allowed]
        account = allowed[0] if allowed else DEFAULT_ACCOUNT_ID
        return str(region), str(account)

    # --- resources ------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name = args.typ, args.name
        if typ == STACK_REFERENCE_TYPE:
            # The SDK reads a reference with the referenced stack's name as the ID.
            target = str(args.resource_id or args.inputs.get("name") or name)
            if self._stack_reference is None:
                raise StackReferenceError(
                    f"stack {target} cannot be read: no stacks to answer from"
                )
            return target, self._stack_reference(target)
        state = dict(args.inputs)
        if typ.startswith("pulumi:providers:"):
            return _uuid(typ, name), state
        if typ.startswith("kubernetes:"):
            return _kubernetes_object(typ, name, state)
        if typ == RANDOM_PASSWORD_TYPE:
            # The SDK marks `result` secret, so the plan shows "[secret]".
            state["result"] = password_stand_in(name, int(state.get("length") or 16))
            return _uuid(typ, name), state
        region, account = self._region_account(args.provider)
        part = partition_of(region)
        physical = str(state.get("name") or f"{name}-{_digest(typ, name, length=7)}")

        if typ in _EC2_PREFIXES:
            rid = f"{_EC2_PREFIXES[typ]}-{_digest(typ, name)}"
            state.setdefault("arn", f"arn:{part}:ec2:{region}:{account}:{_EC2_PREFIXES[typ]}/{rid}")
            state.setdefault("ownerId", account)
            if typ == "aws:ec2/vpc:Vpc":
                state.setdefault("defaultSecurityGroupId", f"sg-{_digest('defsg', name)}")
                state.setdefault("mainRouteTableId", f"rtb-{_digest('main', name)}")
                state.setdefault("defaultNetworkAclId", f"acl-{_digest('acl', name)}")
            elif typ == "aws:ec2/eip:Eip":
                state.setdefault(
                    "publicIp", f"203.0.113.{int(_digest(name, length=2), 16) % 254 + 1}"
                )
                state.setdefault("allocationId", rid)
            elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
                state.setdefault("prefixListId", f"pl-{_digest('pl', name, length=8)}")
            elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
                state.setdefault("latestVersion", 1)
                state.setdefault("defaultVersion", 1)
            elif typ == "aws:ec2/subnet:Subnet":
                zone = str(state.get("availabilityZone", f"{region}a"))
                state.setdefault("availabilityZoneId", _zone_id(region, zone[-1]))
            return rid, state

        if typ == "aws:kms/key:Key":
            key_id = _uuid(typ, name)
            state.update(keyId=key_id, arn=f"arn:{part}:kms:{region}:{account}:key/{key_id}")
            return key_id, state
        if typ == "aws:kms/alias:Alias":
            alias = str(state.get("name", f"alias/{physical}"))
            state.update(arn=f"arn:{part}:kms:{region}:{account}:{alias}", name=alias)
            return alias, state
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            state.update(
                name=physical, arn=f"arn:{part}:logs:{region}:{account}:log-group:{physical}"
            )
            return physical, state
        if typ == "aws:iam/role:Role":
            path = str(state.get("path") or "/")
            state.update(
                name=physical,
                arn=f"arn:{part}:iam::{account}:role{path}{physical}",
                uniqueId=f"AROA{_digest(typ, name, length=17).upper()}",
            )
            return physical, state
        if typ == "aws:iam/policy:Policy":
            path = str(state.get("path") or "/")
            arn = f"arn:{part}:iam::{account}:policy{path}{physical}"
            state.update(name=physical, arn=arn, policyId=f"ANPA{_digest(typ, name).upper()}")
            return arn, state
        if typ == "aws:iam/rolePolicy:RolePolicy":
            return f"{state.get('role', '')}:{physical}", {**state, "name": physical}
        if typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            return f"{state.get('role', '')}-{_digest(typ, name, length=20)}", state
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(state.get("url", physical)).removeprefix("https://")
            arn = f"arn:{part}:iam::{account}:oidc-provider/{host}"
            state["arn"] = arn
            return arn, state
        if typ.startswith("aws:eks/"):
            answer = _eks_resource(typ, name, physical, state, region, account, part)
            if answer is not None:
                return answer
        if typ.startswith(_DATA_TYPE_PREFIXES):
            answer = _data_resource(typ, name, physical, state, region, account, part)
            if answer is not None:
                return answer
        answer = _regional_resource(typ, name, physical, state, region, account, part)
        if answer is not None:
            return answer

        # Anything else: a physical name as ID and an ARN of the usual shape.
        service = typ.split(":", 2)[1].split("/", 1)[0] if typ.startswith("aws:") else ""
        if service:
            state.setdefault("arn", f"arn:{part}:{service}:{region}:{account}:{physical}")
        state.setdefault("name", physical)
        return physical, state

    # --- invokes --------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        region, account = self._region_account(args.provider)
        part = partition_of(region)
        answer = _INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"the offline engine has no answer for invoke {args.token}; "
                "add one to ballast/offline/mocks.py"
            )
        return answer(region, account, part, args.args), []


def _hosted_zone(region: str, account: str, part: str, args: Mapping[str, Any]) -> dict:
    """A public hosted zone looked up by name: a stable ID per account and name."""
    name = str(args.get("name") or args.get("zoneId") or "").rstrip(".")
    zone_id = str(args.get("zoneId") or f"Z{_digest('zone', account, name, length=20).upper()}")
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "arn": f"arn:{part}:route53:::hostedzone/{zone_id}",
        "privateZone": bool(args.get("privateZone", False)),
    }


def _regional_resource(
    typ: str, name: str, physical: str, state: dict, region: str, account: str, part: str
) -> tuple[str, dict] | None:
    """IDs and ARNs of the security baseline's resource types, shaped as AWS returns them."""
    if typ == "aws:s3/bucket:Bucket":
        bucket = str(state.get("bucket") or physical)
        state.update(
            bucket=bucket,
            arn=f"arn:{part}:s3:::{bucket}",
            region=region,
            bucketDomainName=f"{bucket}.s3.amazonaws.com",
            bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
        )
        return bucket, state
    if typ.startswith("aws:s3/bucket") and "bucket" in state:
        # Bucket sub-resources (versioning, encryption, policy, ...) are keyed by bucket.
        return str(state["bucket"]), state
    if typ == "aws:ecr/repository:Repository":
        repository = str(state.get("name") or physical)
        domain = "amazonaws.com.cn" if part == "aws-cn" else "amazonaws.com"
        state.update(
            name=repository,
            arn=f"arn:{part}:ecr:{region}:{account}:repository/{repository}",
            registryId=account,
            repositoryUrl=f"{account}.dkr.ecr.{region}.{domain}/{repository}",
        )
        return repository, state
    if typ == "aws:cloudtrail/trail:Trail":
        arn = f"arn:{part}:cloudtrail:{region}:{account}:trail/{physical}"
        state.update(name=physical, arn=arn, homeRegion=region)
        return arn, state
    if typ == "aws:guardduty/detector:Detector":
        detector = _digest(typ, name, region, length=32)
        state.update(
            arn=f"arn:{part}:guardduty:{region}:{account}:detector/{detector}",
            accountId=account,
        )
        return detector, state
    if typ == "aws:guardduty/detectorFeature:DetectorFeature":
        return f"{state.get('detectorId', '')}/{state.get('name', physical)}", state
    if typ == "aws:sns/topic:Topic":
        arn = f"arn:{part}:sns:{region}:{account}:{physical}"
        state.update(name=physical, arn=arn, owner=account)
        return arn, state
    if typ == "aws:sns/topicPolicy:TopicPolicy":
        return str(state.get("arn", physical)), state
    if typ == "aws:cloudwatch/eventRule:EventRule":
        state.update(name=physical, arn=f"arn:{part}:events:{region}:{account}:rule/{physical}")
        return physical, state
    if typ == "aws:cloudwatch/eventTarget:EventTarget":
        return f"{state.get('rule', '')}-{state.get('targetId', physical)}", state
    if typ == "aws:organizations/policy:Policy":
        policy = f"p-{_digest(typ, name, length=8)}"
        org = f"o-{_digest('organization', account, length=10)}"
        state.update(
            name=physical,
            arn=f"arn:{part}:organizations::{account}:policy/{org}/service_control_policy/{policy}",
        )
        return policy, state
    if typ == "aws:organizations/policyAttachment:PolicyAttachment":
        return f"{state.get('targetId', '')}:{state.get('policyId', '')}", state
    if typ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
        balancer = typ.endswith("LoadBalancer")
        suffix = (
            f"{'app' if balancer else 'targetgroup'}/{physical}/{_digest(typ, name, length=16)}"
        )
        resource = f"loadbalancer/{suffix}" if balancer else suffix
        arn = f"arn:{part}:elasticloadbalancing:{region}:{account}:{resource}"
        state.update(name=physical, arn=arn, arnSuffix=suffix)
        if balancer:
            scheme = "internal-" if state.get("internal") else ""
            dns = f"{scheme}{physical}-{_digest('dns', name, length=10)}.{region}.elb.amazonaws.com"
            state.update(dnsName=dns, zoneId=f"Z{_digest('elbzone', region, length=13).upper()}")
        return arn, state
    if typ in ("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule"):
        kind = "listener" if typ.endswith("Listener") else "listener-rule"
        arn = f"arn:{part}:elasticloadbalancing:{region}:{account}:{kind}/app/{_digest(typ, name, length=16)}"
        state["arn"] = arn
        return arn, state
    if typ == "aws:acm/certificate:Certificate":
        certificate = _uuid(typ, name)
        domains = [state.get("domainName"), *(state.get("subjectAlternativeNames") or [])]
        state.update(
            arn=f"arn:{part}:acm:{region}:{account}:certificate/{certificate}",
            domainValidationOptions=[
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{_digest('acm', str(domain), length=32)}."
                    f"{str(domain).removeprefix('*.')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_digest('acmv', str(domain), length=32)}.acm-validations.aws.",
                }
                for domain in domains
                if domain
            ],
        )
        return state["arn"], state
    if typ == "aws:acm/certificateValidation:CertificateValidation":
        return str(state.get("certificateArn", physical)), state
    if typ == "aws:wafv2/webAcl:WebAcl":
        acl = _uuid(typ, name)
        state.update(
            arn=f"arn:{part}:wafv2:{region}:{account}:regional/webacl/{physical}/{acl}",
            name=physical,
        )
        return acl, state
    if typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation":
        association = f"a-{_digest(typ, name)}"
        cluster = state.get("clusterName", "")
        state.update(
            associationId=association,
            associationArn=(
                f"arn:{part}:eks:{region}:{account}:podidentityassociation/{cluster}/{association}"
            ),
        )
        return f"{cluster},{association}", state
    return None


def _kubernetes_object(typ: str, name: str, state: dict) -> tuple[str, dict]:
    """A Kubernetes object's state echoes its inputs (the API server would add status
    and defaults, which nothing in the platform reads). ID: `namespace/name` or `name`,
    as the Kubernetes provider forms it; a Helm release gets its deployed status."""
    if typ == "kubernetes:helm.sh/v3:Release":
        release = str(state.get("name") or name)
        namespace = str(state.get("namespace") or "default")
        state.setdefault(
            "status",
            {
                "name": release,
                "namespace": namespace,
                "chart": state.get("chart"),
                "version": state.get("version"),
                "revision": 1,
                "status": "deployed",
            },
        )
        return f"{namespace}/{release}", state
    metadata = state.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    object_name = str(metadata.get("name") or name)
    object_namespace = metadata.get("namespace")
    return (f"{object_namespace}/{object_name}" if object_namespace else object_name), state


def _eks_resource(
    typ: str, name: str, physical: str, state: dict, region: str, account: str, part: str
) -> tuple[str, dict] | None:
    """EKS clusters, node groups, add-ons and access entries, shaped as AWS returns them."""
    if typ == "aws:eks/cluster:Cluster":
        cluster = str(state.get("name") or physical)
        oidc_id = _digest("oidc", cluster, region, length=32).upper()
        vpc_config = dict(state.get("vpcConfig") or {})
        vpc_config.setdefault("clusterSecurityGroupId", f"sg-{_digest('eks-cluster-sg', cluster)}")
        vpc_config.setdefault("vpcId", f"vpc-{_digest('eks-vpc', cluster)}")
        state.update(
            name=cluster,
            arn=f"arn:{part}:eks:{region}:{account}:cluster/{cluster}",
            endpoint=f"https://{oidc_id}.gr7.{region}.eks.amazonaws.com",
            certificateAuthority={"data": _digest("ca", cluster, length=64)},
            identities=[
                {"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}"}]}
            ],
            vpcConfig=vpc_config,
            platformVersion="eks.1",
            status="ACTIVE",
            clusterId=_uuid(typ, cluster),
        )
        return cluster, state
    cluster = str(state.get("clusterName", ""))
    if typ == "aws:eks/nodeGroup:NodeGroup":
        group = str(state.get("nodeGroupName") or physical)
        state.update(
            nodeGroupName=group,
            arn=f"arn:{part}:eks:{region}:{account}:nodegroup/{cluster}/{group}/{_uuid(typ, name)}",
            resources=[{"autoscalingGroups": [{"name": f"eks-{group}-{_uuid('asg', name)}"}]}],
            status="ACTIVE",
        )
        return f"{cluster}:{group}", state
    if typ == "aws:eks/addon:Addon":
        addon = str(state.get("addonName", physical))
        state["arn"] = (
            f"arn:{part}:eks:{region}:{account}:addon/{cluster}/{addon}/{_uuid(typ, name)}"
        )
        return f"{cluster}:{addon}", state
    if typ == "aws:eks/accessEntry:AccessEntry":
        principal = str(state.get("principalArn", ""))
        state.update(
            accessEntryArn=(
                f"arn:{part}:eks:{region}:{account}:access-entry/{cluster}/{_uuid(typ, name)}"
            ),
            type=state.get("type", "STANDARD"),
        )
        return f"{cluster}:{principal}", state
    if typ == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
        principal = str(state.get("principalArn", ""))
        return f"{cluster}#{principal}#{state.get('policyArn', '')}", state
    return None


#: Packages of the data and disaster-recovery components (`_data_resource`).
_DATA_TYPE_PREFIXES = ("aws:rds/", "aws:route53/", "aws:backup/", "aws:fis/", "aws:cloudwatch/")


def _data_resource(
    typ: str, name: str, physical: str, state: dict, region: str, account: str, part: str
) -> tuple[str, dict] | None:
    """RDS, Route 53, AWS Backup, FIS and CloudWatch alarm resources, shaped as AWS
    returns them (IDs, ARNs, endpoints; the RDS-managed master secret)."""
    if typ == "aws:rds/instance:Instance":
        identifier = str(state.get("identifier") or physical)
        address = (
            f"{identifier}.c{_digest('rds', account, region, length=11)}.{region}.rds.amazonaws.com"
        )
        port = int(state.get("port") or 5432)
        state.update(
            identifier=identifier,
            arn=f"arn:{part}:rds:{region}:{account}:db:{identifier}",
            address=address,
            endpoint=f"{address}:{port}",
            port=port,
            resourceId=f"db-{_digest(typ, identifier, region, length=26).upper()}",
            hostedZoneId="Z2R2ITUGPM61AM",
            engine=state.get("engine") or "postgres",
        )
        if state.get("manageMasterUserPassword"):
            secret = f"rds!db-{_uuid('secret', identifier, region)}"
            state["masterUserSecrets"] = [
                {
                    "secretArn": f"arn:{part}:secretsmanager:{region}:{account}:secret:{secret}-"
                    f"{_digest('suffix', identifier, length=6)}",
                    "kmsKeyId": state.get("masterUserSecretKmsKeyId", ""),
                    "secretStatus": "active",
                }
            ]
        return identifier, state
    if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
        kind = "subgrp" if typ.endswith("SubnetGroup") else "pg"
        state.update(name=physical, arn=f"arn:{part}:rds:{region}:{account}:{kind}:{physical}")
        return physical, state
    if typ == "aws:route53/zone:Zone":
        zone = f"Z{_digest(typ, name, length=20).upper()}"
        state.update(
            zoneId=zone,
            arn=f"arn:{part}:route53:::hostedzone/{zone}",
            nameServers=[f"ns-{i}.awsdns-{i:02d}.net" for i in range(1, 5)],
        )
        return zone, state
    if typ == "aws:route53/record:Record":
        record = "_".join(
            str(p) for p in (state.get("zoneId"), state.get("name"), state.get("type"))
        )
        if state.get("setIdentifier"):
            record += f"_{state['setIdentifier']}"
        state["fqdn"] = state.get("name")
        return record, state
    if typ == "aws:route53/healthCheck:HealthCheck":
        check = _uuid(typ, name)
        state["arn"] = f"arn:{part}:route53:::healthcheck/{check}"
        return check, state
    if typ == "aws:backup/vault:Vault":
        state.update(
            name=physical,
            arn=f"arn:{part}:backup:{region}:{account}:backup-vault:{physical}",
            recoveryPoints=0,
        )
        return physical, state
    if typ == "aws:backup/plan:Plan":
        plan = _uuid(typ, name)
        state.update(
            arn=f"arn:{part}:backup:{region}:{account}:backup-plan:{plan}",
            version=_digest("version", name, length=32),
        )
        return plan, state
    if typ == "aws:backup/selection:Selection":
        return _uuid(typ, name), state
    if typ == "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
        vault = str(state.get("backupVaultName", physical))
        state["backupVaultArn"] = f"arn:{part}:backup:{region}:{account}:backup-vault:{vault}"
        return vault, state
    if typ == "aws:fis/experimentTemplate:ExperimentTemplate":
        template = f"EXT{_digest(typ, name, length=14).upper()}"
        state["arn"] = f"arn:{part}:fis:{region}:{account}:experiment-template/{template}"
        return template, state
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        state.update(
            name=physical, arn=f"arn:{part}:cloudwatch:{region}:{account}:alarm:{physical}"
        )
        return physical, state
    if typ == "aws:cloudwatch/logResourcePolicy:LogResourcePolicy":
        return str(state.get("policyName") or physical), state
    return None


def _zone_id(region: str, letter: str) -> str:
    words = region.split("-")
    short = words[0] + "".join(w[0] for w in words[1:-1]) + words[-1]
    return f"{short}-az{ord(letter) - ord('a') + 1}"


def _availability_zones(region: str, account: str, part: str, args: dict) -> dict:
    letters = "abcdef"
    excluded = set(args.get("excludeNames") or [])
    names = [f"{region}{c}" for c in letters if f"{region}{c}" not in excluded]
    return {
        "id": region,
        "names": names,
        "zoneIds": [_zone_id(region, n[-1]) for n in names],
        "groupNames": [region] * len(names),
        "state": args.get("state", "available"),
    }


def _caller_identity(region: str, account: str, part: str, args: dict) -> dict:
    return {
        "id": account,
        "accountId": account,
        "arn": f"arn:{part}:sts::{account}:assumed-role/ballast-offline/preview",
        "userId": "AROAOFFLINEPREVIEW:preview",
    }


def _partition(region: str, account: str, part: str, args: dict) -> dict:
    suffix = "amazonaws.com.cn" if part == "aws-cn" else "amazonaws.com"
    return {
        "id": part,
        "partition": part,
        "dnsSuffix": suffix,
        "reverseDnsPrefix": ".".join(reversed(suffix.split("."))),
    }


def _region(region: str, account: str, part: str, args: dict) -> dict:
    return {
        "id": region,
        "name": region,
        "region": region,
        "description": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
    }


_INVOKES: dict[str, Callable[[str, str, str, dict], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:route53/getZone:getZone": _hosted_zone,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
}
