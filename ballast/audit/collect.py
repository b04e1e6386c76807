"""What an audit reads from each service, as units of work for the pool.

Regional services are read in every audited region; global ones (IAM, S3, Route 53,
Organizations, S3 Control) once per account, from its first region. Every list call goes
through a paginator where the API pages. Each resource lands in the `Inventory` as a
`Resource` whose `data` holds what the checks read; follow-up calls (one per bucket,
cluster, load balancer, user...) are units of their own, so their latency overlaps, and
a resource's independent calls (a bucket's seven, a load balancer's four) run as one
`Gather`, so the longest chain of dependent calls stays short.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ballast.audit.model import Resource
from ballast.audit.pool import Gather, Submit, Unit
from ballast.audit.scope import ClientFactory

REGIONAL = ("ec2", "eks", "elbv2", "rds", "cloudtrail", "guardduty", "backup", "secretsmanager")
GLOBAL = ("iam", "s3", "route53", "organizations")
#: Every service an audit can read, in the order `--services` lists them.
SERVICES = REGIONAL + GLOBAL


class Inventory:
    """Discovered resources, added concurrently by units; read after the pool is done.

    Reads are served from a sorted copy and a (service, kind) index, built on the first
    read after a change, so the checks' many `of()` calls do not re-sort the estate.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Resource] = []
        self._sorted: list[Resource] | None = None
        self._by_kind: dict[tuple[str, str], list[Resource]] = {}

    def add(self, resource: Resource) -> None:
        with self._lock:
            self._items.append(resource)
            self._sorted = None

    def _index(self) -> list[Resource]:
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(
                    self._items, key=lambda r: (r.service, r.kind, r.account, r.region, r.id)
                )
                by_kind: dict[tuple[str, str], list[Resource]] = {}
                for r in self._sorted:
                    by_kind.setdefault((r.service, r.kind), []).append(r)
                self._by_kind = by_kind
            return self._sorted

    @property
    def resources(self) -> list[Resource]:
        """Every resource, sorted by (service, kind, account, region, id); a new list."""
        return list(self._index())

    def of(self, service: str, kind: str) -> list[Resource]:
        """The resources of one kind, in the same order; a new list."""
        self._index()
        with self._lock:
            return list(self._by_kind.get((service, kind), []))


def _tags(items: list[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict:
    return {str(t[key]): str(t.get(value, "")) for t in items or []}


@functools.cache
def _paginators(service: str) -> dict[str, Any]:
    """botocore's paginator definitions of `service` (its `paginators-1` data)."""
    return dict(_loader().load_service_model(service, "paginators-1")["pagination"])


@functools.cache
def _loader() -> Any:
    from botocore.loaders import create_loader  # type: ignore[import-untyped]

    return create_loader()


def page_size(client: Any, operation: str) -> int | None:
    """The largest page the API allows for `operation` (the client method name), read
    from the service model: its paginator's limit parameter's `max`. None for EC2 (its
    Describe* calls answer everything in one page when no limit is given, so a limit
    could only add pages) and where the model states no maximum (Route 53 takes its
    limit as text): the service's default then applies.

    Asking for the largest page keeps big estates to few sequential round trips: IAM's
    GetAccountAuthorizationDetails, for one, returns 100 principals a page by default
    and up to 1,000 when asked."""
    model = client.meta.service_model
    if model.service_name == "ec2":
        return None
    name = client.meta.method_to_api_mapping.get(operation, operation)
    config = _paginators(model.service_name).get(name) or {}
    limit = config.get("limit_key")
    shape = model.operation_model(name).input_shape
    member = shape.members.get(limit) if limit and shape is not None else None
    if member is None or member.type_name != "integer":
        return None
    largest = member.metadata.get("max")
    return int(largest) if largest else None


def _pages(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    size = page_size(client, operation)
    config = {"PaginationConfig": {"PageSize": size}} if size else {}
    for page in client.get_paginator(operation).paginate(**kwargs, **config):
        yield from page.get(result_key, [])


def _listed(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[Any]:
    """Every item `_pages` yields, as one list (a part of a `Gather` answers whole)."""
    return list(_pages(client, operation, result_key, **kwargs))


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Collector:
    """Builds the units for one account and region, writing into `inventory`."""

    def __init__(self, factory: ClientFactory, inventory: Inventory, *, home_region: str):
        self.factory = factory
        self.inventory = inventory
        self.home_region = home_region

    def units(self, account: str, region: str, services: tuple[str, ...]) -> list[Unit]:
        chosen = [s for s in services if s in REGIONAL or region == self.home_region]
        units = []
        for service in chosen:
            for operation, method in _ROOTS[service]:
                units.append(
                    Unit(account, region, service, operation, self._bind(method, account, region))
                )
        return units

    def _bind(self, method: Callable[..., None], account: str, region: str) -> Any:
        return lambda submit: method(self, account, region, submit)

    def _unit(
        self, account: str, region: str, service: str, operation: str, fn: Callable[[], None]
    ) -> Unit:
        return Unit(account, region, service, operation, lambda submit: fn())

    def _gather(
        self,
        account: str,
        region: str,
        service: str,
        parts: dict[str, tuple[str, Callable[[], Any]]],
        then: Callable[[dict[str, Any], Submit], None],
        submit: Submit,
    ) -> None:
        for unit in Gather(parts, then).units(account, region, service):
            submit(unit)

    def _client(self, account: str, region: str, service: str) -> Any:
        return self.factory.client(account, region, service)

    def _add(self, **fields: Any) -> None:
        self.inventory.add(Resource(**fields))

    # --- EC2 ------------------------------------------------------------------------

    def ec2_volumes(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for v in _pages(ec2, "describe_volumes", "Volumes"):
            self._add(
                account=account, region=region, service="ec2", kind="volume",
                id=v["VolumeId"], arn=f"arn:aws:ec2:{region}:{account}:volume/{v['VolumeId']}",
                tags=_tags(v.get("Tags")),
                data={
                    "state": v.get("State"), "size": v.get("Size", 0),
                    "type": v.get("VolumeType", "gp2"), "encrypted": bool(v.get("Encrypted")),
                    "attachments": [a.get("InstanceId") for a in v.get("Attachments", [])],
                },
            )  # fmt: skip

    def ec2_addresses(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for a in ec2.describe_addresses().get("Addresses", []):
            ident = a.get("AllocationId") or a["PublicIp"]
            self._add(
                account=account, region=region, service="ec2", kind="elastic-ip", id=ident,
                arn=f"arn:aws:ec2:{region}:{account}:elastic-ip/{ident}",
                tags=_tags(a.get("Tags")),
                data={
                    "public_ip": a.get("PublicIp"),
                    "association": a.get("AssociationId"),
                    "instance": a.get("InstanceId"),
                    "eni": a.get("NetworkInterfaceId"),
                },
            )  # fmt: skip

    def ec2_images(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for i in _pages(ec2, "describe_images", "Images", Owners=["self"]):
            if i.get("OwnerId") not in (None, account):
                continue
            sizes = [
                b["Ebs"].get("VolumeSize", 0)
                for b in i.get("BlockDeviceMappings", [])
                if "Ebs" in b
            ]
            self._add(
                account=account, region=region, service="ec2", kind="image", id=i["ImageId"],
                arn=f"arn:aws:ec2:{region}::image/{i['ImageId']}", name=i.get("Name", ""),
                tags=_tags(i.get("Tags")),
                data={"created": i.get("CreationDate", ""), "size": sum(sizes)},
            )  # fmt: skip

    def ec2_snapshots(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        # OwnerIds is not honoured by every endpoint: the owner filter says it again.
        snapshots = _pages(
            ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"],
            Filters=[{"Name": "owner-id", "Values": [account]}],
        )  # fmt: skip
        for s in snapshots:
            if s.get("OwnerId") not in (None, account):
                continue
            self._add(
                account=account, region=region, service="ec2", kind="snapshot",
                id=s["SnapshotId"], arn=f"arn:aws:ec2:{region}::snapshot/{s['SnapshotId']}",
                tags=_tags(s.get("Tags")),
                data={"started": str(s.get("StartTime", "")), "size": s.get("VolumeSize", 0),
                      "volume": s.get("VolumeId", "")},
            )  # fmt: skip

    def ec2_instances(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for reservation in _pages(ec2, "describe_instances", "Reservations"):
            for i in reservation.get("Instances", []):
                if i.get("State", {}).get("Name") == "terminated":
                    continue
                self._add(
                    account=account, region=region, service="ec2", kind="instance",
                    id=i["InstanceId"],
                    arn=f"arn:aws:ec2:{region}:{account}:instance/{i['InstanceId']}",
                    tags=_tags(i.get("Tags")),
                    data={
                        "image": i.get("ImageId"),
                        "http_tokens": i.get("MetadataOptions", {}).get("HttpTokens", "optional"),
                        "http_endpoint": i.get("MetadataOptions", {}).get("HttpEndpoint", "enabled"),
                    },
                )  # fmt: skip

    def ec2_launch_templates(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for t in _pages(ec2, "describe_launch_templates", "LaunchTemplates"):
            tid = t["LaunchTemplateId"]

            def versions(tid: str = tid, name: str = t.get("LaunchTemplateName", "")) -> None:
                answer = ec2.describe_launch_template_versions(
                    LaunchTemplateId=tid, Versions=["$Latest", "$Default"]
                )
                images = sorted(
                    {
                        v["LaunchTemplateData"]["ImageId"]
                        for v in answer.get("LaunchTemplateVersions", [])
                        if v.get("LaunchTemplateData", {}).get("ImageId")
                    }
                )
                self._add(
                    account=account, region=region, service="ec2", kind="launch-template",
                    id=tid, arn=f"arn:aws:ec2:{region}:{account}:launch-template/{tid}",
                    name=name, data={"images": images},
                )  # fmt: skip

            submit(self._unit(account, region, "ec2", "DescribeLaunchTemplateVersions", versions))

    def ec2_ebs_default(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        enabled = bool(ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
        self._add(
            account=account, region=region, service="ec2", kind="ebs-encryption-default",
            id=f"{account}/{region}", data={"enabled": enabled},
        )  # fmt: skip

    def ec2_security_groups(self, account: str, region: str, submit: Submit) -> None:
        ec2 = self._client(account, region, "ec2")
        for g in _pages(ec2, "describe_security_groups", "SecurityGroups"):
            rules = []
            for p in g.get("IpPermissions", []):
                cidrs = [r["CidrIp"] for r in p.get("IpRanges", [])] + [
                    r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])
                ]
                rules.append(
                    {"protocol": p.get("IpProtocol"), "from": p.get("FromPort"),
                     "to": p.get("ToPort"), "cidrs": cidrs}
                )  # fmt: skip
            self._add(
                account=account, region=region, service="ec2", kind="security-group",
                id=g["GroupId"], arn=f"arn:aws:ec2:{region}:{account}:security-group/{g['GroupId']}",
                name=g.get("GroupName", ""), tags=_tags(g.get("Tags")), data={"ingress": rules},
            )  # fmt: skip

    # --- EKS ------------------------------------------------------------------------

    def eks_clusters(self, account: str, region: str, submit: Submit) -> None:
        eks = self._client(account, region, "eks")
        for name in _pages(eks, "list_clusters", "clusters"):

            def describe(name: str = name) -> None:
                c = eks.describe_cluster(name=name)["cluster"]
                vpc = c.get("resourcesVpcConfig", {})
                logging = [
                    t
                    for entry in c.get("logging", {}).get("clusterLogging", [])
                    if entry.get("enabled")
                    for t in entry.get("types", [])
                ]
                self._add(
                    account=account, region=region, service="eks", kind="cluster", id=name,
                    arn=c.get("arn", ""), name=name, tags=dict(c.get("tags") or {}),
                    data={
                        "public": bool(vpc.get("endpointPublicAccess", True)),
                        "public_cidrs": list(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]),
                        "encrypted_resources": sorted(
                            r for e in c.get("encryptionConfig") or [] for r in e.get("resources", [])
                        ),
                        "logging": sorted(logging),
                    },
                )  # fmt: skip
                for group in _pages(eks, "list_nodegroups", "nodegroups", clusterName=name):
                    submit(
                        self._unit(
                            account, region, "eks", "DescribeNodegroup",
                            functools.partial(self._nodegroup, eks, account, region, name, group),
                        )
                    )  # fmt: skip

            submit(self._unit(account, region, "eks", "DescribeCluster", describe))

    def _nodegroup(self, eks: Any, account: str, region: str, cluster: str, group: str) -> None:
        g = eks.describe_nodegroup(clusterName=cluster, nodegroupName=group)["nodegroup"]
        self._add(
            account=account, region=region, service="eks", kind="nodegroup",
            id=f"{cluster}/{group}", arn=g.get("nodegroupArn", ""), name=group,
            tags=dict(g.get("tags") or {}),
            data={
                "cluster": cluster, "subnets": list(g.get("subnets", [])),
                "labels": dict(g.get("labels") or {}),
                "taints": [dict(t) for t in g.get("taints") or []],
                "remote_access": dict(g.get("remoteAccess") or {}),
            },
        )  # fmt: skip

    # --- ELBv2 ----------------------------------------------------------------------

    def elbv2_load_balancers(self, account: str, region: str, submit: Submit) -> None:
        elb = self._client(account, region, "elbv2")
        for lb in _pages(elb, "describe_load_balancers", "LoadBalancers"):
            arn = lb["LoadBalancerArn"]
            parts: dict[str, tuple[str, Callable[[], Any]]] = {
                "listeners": ("DescribeListeners", functools.partial(
                    _listed, elb, "describe_listeners", "Listeners", LoadBalancerArn=arn)),
                "attributes": ("DescribeLoadBalancerAttributes", functools.partial(
                    elb.describe_load_balancer_attributes, LoadBalancerArn=arn)),
                "tags": ("DescribeTags", functools.partial(elb.describe_tags, ResourceArns=[arn])),
            }  # fmt: skip
            if _internet_facing_alb(lb):
                parts["waf"] = (
                    "GetWebACLForResource",
                    functools.partial(self._web_acl, account, region, arn),
                )
            self._gather(account, region, "elbv2", parts,
                         functools.partial(self._load_balancer, account, region, lb), submit)  # fmt: skip

    def _web_acl(self, account: str, region: str, arn: str) -> str:
        answer = self._client(account, region, "wafv2").get_web_acl_for_resource(ResourceArn=arn)
        return str((answer.get("WebACL") or {}).get("ARN") or "")

    def _load_balancer(
        self, account: str, region: str, lb: dict[str, Any], answers: dict[str, Any], _: Submit
    ) -> None:
        arn = lb["LoadBalancerArn"]
        listeners = []
        for listener in answers["listeners"]:
            actions = listener.get("DefaultActions", [])
            listeners.append(
                {
                    "port": listener.get("Port"), "protocol": listener.get("Protocol"),
                    "ssl_policy": listener.get("SslPolicy"),
                    "redirects_https": any(
                        a.get("Type") == "redirect"
                        and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
                        for a in actions
                    ),
                }
            )  # fmt: skip
        attributes = {a["Key"]: a.get("Value") for a in answers["attributes"].get("Attributes", [])}
        tags = answers["tags"].get("TagDescriptions", [])
        self._add(
            account=account, region=region, service="elbv2", kind="load-balancer",
            id=lb.get("LoadBalancerName", arn), arn=arn, name=lb.get("LoadBalancerName", ""),
            tags=_tags(tags[0].get("Tags") if tags else []),
            data={
                "type": lb.get("Type", "application"), "scheme": lb.get("Scheme", "internet-facing"),
                "zones": sorted(z.get("ZoneName", "") for z in lb.get("AvailabilityZones", [])),
                "listeners": listeners,
                "access_logs": attributes.get("access_logs.s3.enabled") == "true",
                "waf": answers.get("waf"),
            },
        )  # fmt: skip

    # --- RDS ------------------------------------------------------------------------

    def rds_instances(self, account: str, region: str, submit: Submit) -> None:
        rds = self._client(account, region, "rds")
        for db in _pages(rds, "describe_db_instances", "DBInstances"):
            self._add(
                account=account, region=region, service="rds", kind="db-instance",
                id=db["DBInstanceIdentifier"], arn=db.get("DBInstanceArn", ""),
                name=db["DBInstanceIdentifier"], tags=_tags(db.get("TagList")),
                data={
                    "multi_az": bool(db.get("MultiAZ")),
                    "encrypted": bool(db.get("StorageEncrypted")),
                    "public": bool(db.get("PubliclyAccessible")),
                    "retention": int(db.get("BackupRetentionPeriod", 0)),
                    "deletion_protection": bool(db.get("DeletionProtection")),
                    "replicas": list(db.get("ReadReplicaDBInstanceIdentifiers", [])),
                    "replica_of": db.get("ReadReplicaSourceDBInstanceIdentifier", ""),
                    "backup_copies": [
                        r.get("DBInstanceAutomatedBackupsArn", "")
                        for r in db.get("DBInstanceAutomatedBackupsReplications", [])
                    ],
                },
            )  # fmt: skip

    # --- CloudTrail, GuardDuty, Backup, Secrets Manager ----------------------------

    def cloudtrail_trails(self, account: str, region: str, submit: Submit) -> None:
        ct = self._client(account, region, "cloudtrail")
        for t in ct.describe_trails(includeShadowTrails=False).get("trailList", []):
            arn = t.get("TrailARN", "")

            def status(t: dict[str, Any] = t, arn: str = arn) -> None:
                logging = bool(ct.get_trail_status(Name=arn or t["Name"]).get("IsLogging"))
                self._add(
                    account=account, region=region, service="cloudtrail", kind="trail",
                    id=t["Name"], arn=arn, name=t["Name"],
                    data={
                        "multi_region": bool(t.get("IsMultiRegionTrail")),
                        "validation": bool(t.get("LogFileValidationEnabled")),
                        "logging": logging,
                    },
                )  # fmt: skip

            submit(self._unit(account, region, "cloudtrail", "GetTrailStatus", status))
        self._add(
            account=account, region=region, service="cloudtrail", kind="trails-read",
            id=f"{account}/{region}",
        )  # fmt: skip

    def guardduty_detectors(self, account: str, region: str, submit: Submit) -> None:
        gd = self._client(account, region, "guardduty")
        enabled = []
        for detector in _pages(gd, "list_detectors", "DetectorIds"):
            if gd.get_detector(DetectorId=detector).get("Status") == "ENABLED":
                enabled.append(detector)
        self._add(
            account=account, region=region, service="guardduty", kind="detectors",
            id=f"{account}/{region}", data={"enabled": enabled},
        )  # fmt: skip

    def backup_plans(self, account: str, region: str, submit: Submit) -> None:
        backup = self._client(account, region, "backup")
        plans = [p["BackupPlanId"] for p in _pages(backup, "list_backup_plans", "BackupPlansList")]
        self._add(
            account=account, region=region, service="backup", kind="plans",
            id=f"{account}/{region}", data={"plans": plans},
        )  # fmt: skip

    def secrets(self, account: str, region: str, submit: Submit) -> None:
        sm = self._client(account, region, "secretsmanager")
        for s in _pages(sm, "list_secrets", "SecretList"):
            self._add(
                account=account, region=region, service="secretsmanager", kind="secret",
                id=s["Name"], arn=s.get("ARN", ""), name=s["Name"], tags=_tags(s.get("Tags")),
                data={"rotation": bool(s.get("RotationEnabled"))},
            )  # fmt: skip

    # --- IAM ------------------------------------------------------------------------

    def iam_authorization(self, account: str, region: str, submit: Submit) -> None:
        iam = self._client(account, region, "iam")
        paginator = iam.get_paginator("get_account_authorization_details")
        size = page_size(iam, "get_account_authorization_details")
        config = {"PageSize": size} if size else {}
        managed: dict[str, list[dict[str, Any]]] = {}
        principals: list[tuple[str, dict[str, Any]]] = []
        # AWS managed policies are read one by one, only those attached: the account's
        # details would otherwise carry all ~1,500 of them.
        pages = paginator.paginate(
            Filter=["User", "Role", "LocalManagedPolicy"], PaginationConfig=config
        )
        for page in pages:
            for policy in page.get("Policies", []):
                version = next(
                    (v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")),
                    None,
                )
                if version is not None:
                    managed[policy["Arn"]] = _statements(version.get("Document"))
            principals += [("user", u) for u in page.get("UserDetailList", [])]
            principals += [("role", r) for r in page.get("RoleDetailList", [])]
        # Each attached AWS managed policy costs two dependent calls; they run side by
        # side, and the principals are read once the last one has answered.
        missing = sorted(
            {a["PolicyArn"] for _, p in principals for a in p.get("AttachedManagedPolicies", [])}
            - set(managed)
        )
        then = functools.partial(self._principals, iam, account, region, managed, principals)
        if not missing:
            then({}, submit)
            return
        parts: dict[str, tuple[str, Callable[[], Any]]] = {
            arn: ("GetPolicyVersion", functools.partial(_managed_policy, iam, arn))
            for arn in missing
        }
        self._gather(account, region, "iam", parts, then, submit)

    def _principals(
        self,
        iam: Any,
        account: str,
        region: str,
        managed: dict[str, list[dict[str, Any]]],
        principals: list[tuple[str, dict[str, Any]]],
        read: dict[str, list[dict[str, Any]]],
        submit: Submit,
    ) -> None:
        managed = {**managed, **read}
        for kind, p in principals:
            statements: list[dict[str, Any]] = []
            inline = p.get("UserPolicyList" if kind == "user" else "RolePolicyList", [])
            for policy in inline:
                statements += _statements(policy.get("PolicyDocument"))
            attached = [a["PolicyArn"] for a in p.get("AttachedManagedPolicies", [])]
            for arn in attached:
                statements += managed.get(arn, [])
            name = p.get("UserName" if kind == "user" else "RoleName", "")
            path = p.get("Path", "/")
            data = {
                "attached": attached,
                "statements": statements,
                "boundary": (p.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
                "service_linked": path.startswith("/aws-service-role/"),
            }
            if kind == "role":
                self._add(
                    account=account, region=region, service="iam", kind="role", id=name,
                    arn=p.get("Arn", ""), name=name, tags=_tags(p.get("Tags")), data=data,
                )  # fmt: skip
                continue
            parts: dict[str, tuple[str, Callable[[], Any]]] = {
                "keys": ("ListAccessKeys", functools.partial(_access_keys, iam, name)),
                "login": ("GetLoginProfile", functools.partial(
                    _optional, iam.get_login_profile, ("NoSuchEntity",), UserName=name)),
                "mfa": ("ListMFADevices", functools.partial(
                    _listed, iam, "list_mfa_devices", "MFADevices", UserName=name)),
            }  # fmt: skip
            self._gather(account, region, "iam", parts,
                         functools.partial(self._user, account, region, p, data), submit)  # fmt: skip

    def _user(
        self,
        account: str,
        region: str,
        p: dict[str, Any],
        data: dict[str, Any],
        answers: dict[str, Any],
        _: Submit,
    ) -> None:
        name = p["UserName"]
        self._add(
            account=account, region=region, service="iam", kind="user", id=name,
            arn=p.get("Arn", ""), name=name, tags=_tags(p.get("Tags")),
            data={**data, "keys": answers["keys"], "console": answers["login"] is not None,
                  "mfa": bool(answers["mfa"])},
        )  # fmt: skip

    def organizations_policies(self, account: str, region: str, submit: Submit) -> None:
        org = self._client(account, region, "organizations")
        try:
            org.describe_organization()
        except ClientError as exc:
            if _error_code(exc) != "AWSOrganizationsNotInUseException":
                raise
            self._add(
                account=account, region=region, service="organizations", kind="scps",
                id=account, data={"organization": False, "custom": []},
            )  # fmt: skip
            return
        policies = _pages(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY")
        custom = sorted(p["Name"] for p in policies if not p.get("AwsManaged"))
        self._add(
            account=account, region=region, service="organizations", kind="scps", id=account,
            data={"organization": True, "custom": custom},
        )  # fmt: skip

    # --- S3 -------------------------------------------------------------------------

    def s3_buckets(self, account: str, region: str, submit: Submit) -> None:
        s3 = self._client(account, region, "s3")
        for b in s3.list_buckets().get("Buckets", []):
            name = b["Name"]

            def read(method: str, *missing: str, name: str = name) -> Callable[[], Any]:
                return functools.partial(_optional, getattr(s3, method), missing, Bucket=name)

            parts: dict[str, tuple[str, Callable[[], Any]]] = {
                "acl": ("GetBucketAcl", read("get_bucket_acl")),
                "policy": ("GetBucketPolicy", read("get_bucket_policy", "NoSuchBucketPolicy")),
                "block": ("GetPublicAccessBlock", read("get_public_access_block",
                                                       "NoSuchPublicAccessBlockConfiguration")),
                "encryption": ("GetBucketEncryption", read(
                    "get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError")),
                "versioning": ("GetBucketVersioning", read("get_bucket_versioning")),
                "tags": ("GetBucketTagging", read("get_bucket_tagging", "NoSuchTagSet")),
                "location": ("GetBucketLocation", read("get_bucket_location")),
            }  # fmt: skip
            self._gather(account, region, "s3", parts,
                         functools.partial(self._bucket, account, name), submit)  # fmt: skip

    def _bucket(self, account: str, name: str, answers: dict[str, Any], _: Submit) -> None:
        public_grants = sorted(
            g.get("Permission", "")
            for g in answers["acl"].get("Grants", [])
            if g.get("Grantee", {})
            .get("URI", "")
            .endswith(("/global/AllUsers", "/global/AuthenticatedUsers"))
        )
        policy, block, tags = answers["policy"], answers["block"], answers["tags"]
        location = answers["location"].get("LocationConstraint") or "us-east-1"
        block_config = (block or {}).get("PublicAccessBlockConfiguration", {})
        self._add(
            account=account, region=location, service="s3", kind="bucket", id=name,
            arn=f"arn:aws:s3:::{name}", name=name, tags=_tags((tags or {}).get("TagSet")),
            data={
                "public_grants": public_grants,
                "public_statements": _public_statements(policy["Policy"]) if policy else [],
                "block": {k: bool(v) for k, v in block_config.items()},
                "encrypted": answers["encryption"] is not None,
                "versioning": answers["versioning"].get("Status") == "Enabled",
            },
        )  # fmt: skip

    def s3_account_block(self, account: str, region: str, submit: Submit) -> None:
        control = self._client(account, region, "s3control")
        try:
            answer = control.get_public_access_block(AccountId=account)
            config = answer.get("PublicAccessBlockConfiguration", {})
        except ClientError as exc:
            if _error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            config = {}
        self._add(
            account=account, region=region, service="s3", kind="account-block", id=account,
            data={"block": {k: bool(v) for k, v in config.items()}},
        )  # fmt: skip

    # --- Route 53 -------------------------------------------------------------------

    def route53_zones(self, account: str, region: str, submit: Submit) -> None:
        r53 = self._client(account, region, "route53")
        for zone in _pages(r53, "list_hosted_zones", "HostedZones"):
            zone_id = zone["Id"].split("/")[-1]

            def records(zone_id: str = zone_id, zone_name: str = zone["Name"]) -> None:
                pages = _pages(
                    r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id
                )
                for r in pages:
                    if not r.get("Failover"):
                        continue
                    ident = f"{zone_id}/{r['Name']}/{r['Type']}/{r.get('SetIdentifier', '')}"
                    self._add(
                        account=account, region=region, service="route53", kind="failover-record",
                        id=ident, name=r["Name"],
                        data={"zone": zone_name, "failover": r["Failover"],
                              "health_check": r.get("HealthCheckId"),
                              "alias": bool(r.get("AliasTarget"))},
                    )  # fmt: skip

            submit(self._unit(account, region, "route53", "ListResourceRecordSets", records))


def _managed_policy(iam: Any, arn: str) -> list[dict[str, Any]]:
    """The statements of a managed policy's default version."""
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
    return _statements(document.get("Document"))


def _access_keys(iam: Any, user: str) -> list[dict[str, Any]]:
    """A user's active access keys, each with its creation and last use."""
    keys = []
    for key in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=user):
        if key.get("Status") != "Active":
            continue
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        last = used.get("AccessKeyLastUsed", {}).get("LastUsedDate")
        keys.append(
            {"id": key["AccessKeyId"], "created": str(key.get("CreateDate", "")),
             "last_used": str(last) if last else None}
        )  # fmt: skip
    return keys


def _optional(call: Callable[..., Any], missing: tuple[str, ...], **kwargs: Any) -> Any:
    """`call(**kwargs)`'s answer, or None when it fails with one of the `missing` error
    codes (the API's way of saying the bucket has no such configuration)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if _error_code(exc) in missing:
            return None
        raise


def _internet_facing_alb(lb: dict[str, Any]) -> bool:
    """An Application Load Balancer reachable from the internet: the kind a WAF guards."""
    return (
        lb.get("Type", "application") == "application"
        and lb.get("Scheme", "internet-facing") == "internet-facing"
    )


def _statements(document: Any) -> list[dict[str, Any]]:
    """A policy document's statements as a list (documents arrive URL-encoded as text
    from some endpoints, parsed from others)."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    statements = (document or {}).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _public_statements(policy_text: str) -> list[dict[str, Any]]:
    """Allow statements of a bucket policy that any principal matches, without a
    condition that narrows them."""
    public = []
    for s in _statements(policy_text):
        principal = s.get("Principal")
        anyone = principal == "*" or (
            isinstance(principal, dict)
            and (principal.get("AWS") == "*" or "*" in (principal.get("AWS") or []))
        )
        if s.get("Effect") == "Allow" and anyone and not s.get("Condition"):
            public.append(s)
    return public


_ROOTS: dict[str, list[tuple[str, Callable[..., None]]]] = {
    "ec2": [
        ("DescribeVolumes", Collector.ec2_volumes),
        ("DescribeAddresses", Collector.ec2_addresses),
        ("DescribeImages", Collector.ec2_images),
        ("DescribeSnapshots", Collector.ec2_snapshots),
        ("DescribeInstances", Collector.ec2_instances),
        ("DescribeLaunchTemplates", Collector.ec2_launch_templates),
        ("GetEbsEncryptionByDefault", Collector.ec2_ebs_default),
        ("DescribeSecurityGroups", Collector.ec2_security_groups),
    ],
    "eks": [("ListClusters", Collector.eks_clusters)],
    "elbv2": [("DescribeLoadBalancers", Collector.elbv2_load_balancers)],
    "rds": [("DescribeDBInstances", Collector.rds_instances)],
    "cloudtrail": [("DescribeTrails", Collector.cloudtrail_trails)],
    "guardduty": [("ListDetectors", Collector.guardduty_detectors)],
    "backup": [("ListBackupPlans", Collector.backup_plans)],
    "secretsmanager": [("ListSecrets", Collector.secrets)],
    "iam": [("GetAccountAuthorizationDetails", Collector.iam_authorization)],
    "s3": [
        ("ListBuckets", Collector.s3_buckets),
        ("GetPublicAccessBlock", Collector.s3_account_block),
    ],
    "route53": [("ListHostedZones", Collector.route53_zones)],
    "organizations": [("ListPolicies", Collector.organizations_policies)],
}
