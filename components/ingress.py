"""`Ingress`: the platform's entry points, owned by Pulumi so the guardrails, drift
detection and `pulumi destroy` all see them (docs/ingress.md has the choice and its
trade-off).

What it creates (AWS APIs only; the controller's release and the TargetGroupBindings are
the cluster layer's, components/cluster/addons/load_balancer_controller.py):

- the **public ALB**: internet-facing over every public subnet (one per zone), its own
  security group (80/443 from `allowedCidrs` only; egress only to the cluster's security
  group on the routed ports), invalid headers dropped, desync mitigation `strictest`,
  HTTP/2; deletion protection and access logs in staging and prod;
- the **internal ALB** for platform UIs (when `platformCidrs` is set): internal over the
  private subnets, reachable on 80/443 only from `platformCidrs` and the VPC;
- on each ALB an HTTP :80 listener that only redirects (301) to HTTPS and an HTTPS :443
  listener (`versions.ALB_TLS_POLICY`) whose default action is a fixed 404; one ACM
  certificate (`*.<zone>` plus any deeper host) validated through DNS records in the
  zone, and a `CertificateValidation` the listeners wait for;
- per route (`ballast:services[].ingress`, or `route(...)` for platform UIs): an
  `ip`-type target group with the route's health check, a listener rule by host and path,
  a Route 53 alias record, and the security-group rules from the ALB to the cluster's
  security group on the route's port;
- a REGIONAL **WAFv2 web ACL** on the public ALB: AWS managed Common, KnownBadInputs and
  AmazonIpReputationList rule groups and a per-IP rate-based rule, logging to an
  encrypted `aws-waf-logs-` log group;
- the **controller's IRSA role**, with a policy reduced from the upstream one to what a
  TargetGroupBinding uses (`controller_policy_document`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws

from components import versions
from components.buckets import CompliantBucket, compliant_bucket
from components.config import IngressConfig, ServiceConfig, in_zone
from components.context import AwsContext
from components.iam import RoleFactory, load_balancer_name, physical_name, waf_log_group_name
from components.kms import rotating_key, s3_access_log_delivery_statement
from components.log_groups import encrypted_log_group

#: The upstream IAM policy of the pinned controller release (PROVENANCE.md beside it).
UPSTREAM_CONTROLLER_POLICY = (
    Path(__file__).parent
    / "data"
    / "aws-load-balancer-controller"
    / f"iam_policy-{versions.LOAD_BALANCER_CONTROLLER_APP_VERSION}.json"
)

#: What a TargetGroupBinding makes the controller do, and nothing else: read the target
#: groups, their health and the network it registers pods from, and register and
#: deregister pod IPs. Every other action of the upstream policy serves load balancers,
#: listeners, rules, security groups, WAF, Shield or certificates the controller would
#: create or change for an Ingress or a Service, which Pulumi owns here.
CONTROLLER_READ_ACTIONS = frozenset(
    {
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    }
)
CONTROLLER_TARGET_ACTIONS = frozenset(
    {"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"}
)
#: The tag every target group of a cluster carries (the controller's own key); the
#: controller may register targets only in target groups tagged with its cluster.
CLUSTER_TAG = "elbv2.k8s.aws/cluster"

#: The AWS managed rule groups of the public web ACL, in evaluation order after the
#: rate limit: OWASP-style common exploits, known-bad request patterns (Log4Shell and
#: friends), and Amazon's IP reputation list (bots, scanners).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)

#: The Elastic Load Balancing account of each region that existed before August 2022:
#: ALB access logs there are written by this account, so the bucket policy names it
#: (ELB User Guide, "Enable access logs for your Application Load Balancer", step 2).
#: Regions opened since (ap-southeast-3 Jakarta onwards) have no such account; their ELB
#: writes as the service principal `LOG_DELIVERY_SERVICE`.
ELB_LOG_ACCOUNTS: Mapping[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-south-1": "635631232127",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
#: Prefix of the access logs in their bucket (ELB appends `AWSLogs/<account>/...`).
ACCESS_LOG_PREFIX = "alb"


@cache
def upstream_controller_policy() -> dict[str, Any]:
    """The controller's upstream IAM policy at the pinned release (read once)."""
    document: dict[str, Any] = json.loads(UPSTREAM_CONTROLLER_POLICY.read_text(encoding="utf-8"))
    return document


def _actions(statement: Mapping[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def controller_policy_document(
    *, partition: str, region: str, account_id: str, cluster: str
) -> dict[str, Any]:
    """The controller's policy, derived from the upstream one: its read actions that a
    TargetGroupBinding uses (`CONTROLLER_READ_ACTIONS`), and its target registration
    actions (`CONTROLLER_TARGET_ACTIONS`) narrowed to this region and account and to
    target groups tagged `elbv2.k8s.aws/cluster=<cluster>`. An action the upstream
    policy no longer grants is not granted here either, so a chart bump cannot widen it
    silently. Everything else is cut (docs/ingress.md): above all
    `elasticloadbalancing:CreateLoadBalancer`, `CreateListener`, `CreateRule`,
    `CreateTargetGroup` and every security-group write, since Pulumi owns them."""
    upstream = {a for s in upstream_controller_policy()["Statement"] for a in _actions(s)}
    reads = sorted(CONTROLLER_READ_ACTIONS & upstream)
    targets = sorted(CONTROLLER_TARGET_ACTIONS & upstream)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTargetGroupsAndNetwork",
                "Effect": "Allow",
                "Action": reads,
                "Resource": "*",
            },
            {
                "Sid": "RegisterPodsInThisClustersTargetGroups",
                "Effect": "Allow",
                "Action": targets,
                "Resource": f"arn:{partition}:elasticloadbalancing:{region}:{account_id}:targetgroup/*/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": cluster}},
            },
        ],
    }


def log_delivery_principal(region: str) -> dict[str, str]:
    """Who writes ALB access logs in `region`: the regional ELB account where one exists
    (regions before August 2022), else the log delivery service principal."""
    account = ELB_LOG_ACCOUNTS.get(region)
    if account is not None:
        partition = (
            "aws-cn"
            if region.startswith("cn-")
            else ("aws-us-gov" if region.startswith("us-gov-") else "aws")
        )
        return {"AWS": f"arn:{partition}:iam::{account}:root"}
    return {"Service": LOG_DELIVERY_SERVICE}


def path_patterns(path: str) -> list[str]:
    """ALB path patterns for a path prefix: `/` is every path; `/api` is `/api` and
    everything below it."""
    if path == "/":
        return ["/*"]
    base = path.rstrip("/")
    return [base, f"{base}/*"]


def certificate_domains(zone: str, hosts: Sequence[str]) -> list[str]:
    """`*.<zone>` and every host the wildcard does not cover (the zone apex, or a name
    two or more labels below it), sorted: one certificate for both ALBs."""
    extra = sorted({h for h in hosts if h.count(".") != zone.count(".") + 1})
    return [f"*.{zone}", *extra]


@dataclass(frozen=True)
class Route:
    """One service behind an ALB: what the cluster layer binds (`manifest`) and what an
    operator reaches (`url`)."""

    name: str
    namespace: str
    service: str
    port: int
    host: str
    path: str
    internal: bool
    target_group_arn: pulumi.Output[str]

    @property
    def url(self) -> str:
        return f"https://{self.host}{'' if self.path == '/' else self.path}"

    def output(self) -> dict[str, Any]:
        """The stack output the cluster layer reads to make the TargetGroupBinding."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "service": self.service,
            "port": self.port,
            "host": self.host,
            "internal": self.internal,
            "targetGroupArn": self.target_group_arn,
        }


@dataclass(kw_only=True)
class IngressArgs:
    """Inputs of `Ingress`."""

    context: AwsContext
    """Region, account, tags and protection (required). A protected context (prod)
    protects the log buckets, keys and log groups."""

    roles: RoleFactory
    """The platform's role factory (required): the controller's IRSA role."""

    settings: IngressConfig
    """The validated `ballast:ingress` section (zone, CIDRs, WAF rate limit, idle
    timeout, retention); defaults in docs/configuration.md."""

    services: Sequence[ServiceConfig] = ()
    """The platform's services (default none); each with an `ingress` gets a route on
    the public ALB."""

    vpc_id: pulumi.Input[str]
    """The VPC both ALBs live in (required)."""

    vpc_cidr: str
    """The VPC's block (required): it may reach the internal ALB."""

    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """One public subnet per zone (required): the public ALB spans them all."""

    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """One private subnet per zone (required): the internal ALB spans them all."""

    availability_zones: Sequence[str]
    """The zones of the subnets (required, at least two: ALB needs two)."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster whose pods the routes reach (required): tags the target groups
    for the controller."""

    cluster_security_group_id: pulumi.Input[str]
    """The cluster's security group, which nodes and pods carry (required): the ALBs may
    send to it on the routed ports, and it admits them there."""

    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (required): the controller's IRSA trust."""

    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (required)."""

    controller_namespace: str
    """Namespace of the controller's service account (required)."""

    controller_service_account: str
    """The controller's service account (required): the only one that may assume its role."""


class Ingress(pulumi.ComponentResource):
    """The public and internal ALBs, their certificate, WAF, logs and routes, and the
    controller's role; see the module docstring.

    Outputs: `public_dns_name`, `public_arn`, `internal_dns_name` and `internal_arn`
    (None without `platformCidrs`),
    `web_acl_arn`, `controller_role_arn`, `routes` (each `Route`), `route_outputs`
    (their stack output), `service_urls` (route name -> URL).
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "ingressPublicAlbDnsName": "public_dns_name",
        "ingressPublicAlbArn": "public_arn",
        "ingressInternalAlbDnsName": "internal_dns_name",
        "ingressInternalAlbArn": "internal_arn",
        "ingressWebAclArn": "web_acl_arn",
        "ingressControllerRoleArn": "controller_role_arn",
        "ingressRoutes": "route_outputs",
        "ingressServiceUrls": "service_urls",
    }

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Ingress", name, None, opts)
        if len(args.availability_zones) < 2:
            raise ValueError(f"{name}: an ALB needs subnets in at least two zones")
        self._name = name
        self._args = args
        self._ctx = args.context
        self._settings = args.settings
        env = self._ctx.environment
        #: Access logs and deletion protection outside dev (the pack's production
        #: policies require them in prod; staging rehearses prod).
        self._hardened = env != "dev"

        zone = args.settings.hosted_zone_name
        self._zone_id: pulumi.Input[str] = (
            args.settings.hosted_zone_id
            or aws.route53.get_zone_output(
                name=zone, private_zone=False, opts=pulumi.InvokeOptions(parent=self)
            ).zone_id
        )
        public_hosts = [s.ingress.host for s in args.services if s.ingress is not None]
        self._certificate_domains = certificate_domains(zone, public_hosts)
        validation = self._certificate()

        access_logs = self._access_log_bucket() if self._hardened else None
        public_sg = self._security_group("public", args.settings.allowed_cidrs)
        self._public = self._load_balancer(
            "public", public_sg, args.public_subnet_ids, internal=False, access_logs=access_logs
        )
        self._balancers = {False: self._public}
        self._groups = {False: public_sg}
        self._https = {False: self._listeners("public", self._public, validation)}
        # The internal ALB only where someone may reach it (ingress.platformCidrs).
        platform_cidrs = args.settings.platform_cidrs
        if platform_cidrs:
            internal_sg = self._security_group("internal", (*platform_cidrs, args.vpc_cidr))
            internal = self._load_balancer(
                "internal",
                internal_sg,
                args.private_subnet_ids,
                internal=True,
                access_logs=access_logs,
            )
            self._balancers[True] = internal
            self._groups[True] = internal_sg
            self._https[True] = self._listeners("internal", internal, validation)
        self._priorities = {False: 0, True: 0}
        self._opened: set[tuple[bool, int]] = set()

        self.web_acl_arn: pulumi.Output[str] = self._web_acl()
        self.public_dns_name: pulumi.Output[str] = self._public.dns_name
        self.public_arn: pulumi.Output[str] = self._public.arn
        self.internal_dns_name: pulumi.Output[str] | None = (
            self._balancers[True].dns_name if True in self._balancers else None
        )
        self.internal_arn: pulumi.Output[str] | None = (
            self._balancers[True].arn if True in self._balancers else None
        )
        self.controller_role_arn: pulumi.Output[str] = self._controller_role().arn

        self.routes: list[Route] = []
        for service in args.services:
            if service.ingress is None:
                continue
            route = service.ingress
            self.route(
                service.name,
                namespace=service.namespace or service.name,
                service=service.name,
                port=route.port,
                host=route.host,
                path=route.path,
                health_check_path=route.health_check_path,
            )
        self.register_outputs(
            {
                "publicDnsName": self.public_dns_name,
                "internalDnsName": self.internal_dns_name,
                "webAclArn": self.web_acl_arn,
                "controllerRoleArn": self.controller_role_arn,
            }
        )

    # --- what other components use ----------------------------------------------------

    @property
    def route_outputs(self) -> list[dict[str, Any]]:
        return [route.output() for route in self.routes]

    @property
    def service_urls(self) -> dict[str, str]:
        return {route.name: route.url for route in self.routes}

    def route(
        self,
        name: str,
        *,
        namespace: str,
        service: str,
        port: int,
        host: str | None = None,
        path: str = "/",
        health_check_path: str = "/healthz",
        internal: bool = False,
        protocol: Literal["HTTP", "HTTPS"] = "HTTP",
    ) -> Route:
        """Send `host` (default `<name>.<zone>`) and `path` (default every path) on the
        public ALB, or the internal one with `internal`, to port `port` of Service
        `namespace/service`: a target group, a listener rule, an
        alias record and the security-group rules. The cluster layer binds the Service to
        the target group (`routes`). Later components (Vault, Grafana, Argo CD) call this
        with `internal=True`. The host must be covered by the certificate: one label
        below the zone for routes added after construction. `protocol` (default HTTP)
        is how the ALB talks to the pods and checks their health: HTTPS for a service
        that serves TLS itself (Vault), so traffic stays encrypted up to the pod (the
        ALB does not verify the pod's certificate)."""
        zone = self._settings.hosted_zone_name
        host = host or f"{name}.{zone}"
        if not in_zone(host, zone):
            raise ValueError(f"{self._name}: route {name}: host {host} is not in zone {zone}")
        covered = host in self._certificate_domains or host.count(".") == zone.count(".") + 1
        if not covered:
            raise ValueError(
                f"{self._name}: route {name}: host {host} is not covered by the certificate "
                f"({', '.join(self._certificate_domains)})"
            )
        if any(r.name == name and r.internal == internal for r in self.routes):
            raise ValueError(f"{self._name}: route {name} exists already")
        ctx, _env = self._ctx, self._ctx.environment
        kind = "internal" if internal else "public"
        resource = f"{self._name}-{kind}-{name}"
        if internal not in self._balancers:
            raise ValueError(
                f"{self._name}: route {name}: there is no internal ALB; set "
                "ballast:ingress.platformCidrs to make one"
            )
        balancer = self._balancers[internal]
        target_group = aws.lb.TargetGroup(
            resource,
            name=load_balancer_name(ctx.names.role_prefix, f"{kind[:3]}-{name}"),
            target_type="ip",
            protocol=protocol,
            protocol_version="HTTP1",
            port=port,
            vpc_id=self._args.vpc_id,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "path": health_check_path,
                "port": "traffic-port",
                "protocol": protocol,
                "matcher": "200-399",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags={**ctx.tags_for(resource), CLUSTER_TAG: self._args.cluster_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._priorities[internal] += 1
        aws.lb.ListenerRule(
            resource,
            listener_arn=self._https[internal].arn,
            priority=self._priorities[internal],
            conditions=[
                {"host_header": {"values": [host]}},
                {"path_pattern": {"values": path_patterns(path)}},
            ],
            actions=[{"type": "forward", "target_group_arn": target_group.arn}],
            tags=ctx.tags_for(resource),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.route53.Record(
            resource,
            zone_id=self._zone_id,
            name=host,
            type="A",
            aliases=[
                {
                    "name": balancer.dns_name,
                    "zone_id": balancer.zone_id,
                    "evaluate_target_health": True,
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._open(internal, port)
        made = Route(
            name=name,
            namespace=namespace,
            service=service,
            port=port,
            host=host,
            path=path,
            internal=internal,
            target_group_arn=target_group.arn,
        )
        self.routes.append(made)
        return made

    # --- pieces -----------------------------------------------------------------------

    def _certificate(self) -> aws.acm.CertificateValidation:
        """One ACM certificate for both ALBs, validated through DNS: one record per
        domain (created outside any apply; each reads its own validation option)."""
        domains = self._certificate_domains
        name = f"{self._name}-certificate"
        certificate = aws.acm.Certificate(
            name,
            domain_name=domains[0],
            subject_alternative_names=domains[1:],
            validation_method="DNS",
            key_algorithm="RSA_2048",
            tags=self._ctx.tags_for(name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        records = []
        for index, domain in enumerate(domains):

            def field_of(domain: str, field: str) -> pulumi.Output[str]:
                def pick(options: Sequence[Any]) -> str:
                    for entry in options or []:
                        if _field(entry, "domain_name") == domain:
                            return str(_field(entry, field))
                    raise ValueError(f"ACM returned no validation option for {domain}")

                return certificate.domain_validation_options.apply(pick)

            records.append(
                aws.route53.Record(
                    f"{name}-validation-{index}",
                    zone_id=self._zone_id,
                    name=field_of(domain, "resource_record_name"),
                    type=field_of(domain, "resource_record_type"),
                    records=[field_of(domain, "resource_record_value")],
                    ttl=300,
                    # The public and any future certificate for the same names share
                    # these records; overwriting keeps a re-issued certificate valid.
                    allow_overwrite=True,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return aws.acm.CertificateValidation(
            name,
            certificate_arn=certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _security_group(self, kind: str, cidrs: Sequence[str]) -> aws.ec2.SecurityGroup:
        """The ALB's own group: 80 and 443 from `cidrs`; egress rules are added per
        routed port (`_open`)."""
        name = f"{self._name}-{kind}"
        group = aws.ec2.SecurityGroup(
            name,
            name=physical_name(self._ctx.names.role_prefix, f"alb-{kind}", 255),
            description=f"{kind} ALB: HTTP/HTTPS in from allowed networks, out to the cluster",
            vpc_id=self._args.vpc_id,
            tags=self._ctx.tags_for(name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, cidr in enumerate(cidrs):
            for port in (80, 443):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{port}-{index}",
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    **({"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}),
                    description=f"HTTP{'S' if port == 443 else ''} from {cidr}",
                    tags=self._ctx.tags_for(),
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return group

    def _open(self, internal: bool, port: int) -> None:
        """Egress from the ALB's group to the cluster's group on `port`, and the cluster
        group's ingress from the ALB's on it (once per ALB and port): the rule each
        TargetGroupBinding needs, owned here so the controller writes no rules."""
        if (internal, port) in self._opened:
            return
        self._opened.add((internal, port))
        kind = "internal" if internal else "public"
        group = self._groups[internal]
        name = f"{self._name}-{kind}-{port}"
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out",
            security_group_id=group.id,
            referenced_security_group_id=self._args.cluster_security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"to the cluster's pods on {port}",
            tags=self._ctx.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-pods",
            security_group_id=self._args.cluster_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"from the {kind} ALB on {port}",
            tags=self._ctx.tags_for(),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _access_log_bucket(self) -> CompliantBucket:
        """The access-log bucket both ALBs write to, and the bucket its own server access
        logs go to (every platform bucket logs its access).

        ALB access logs can only be written to a bucket encrypted with SSE-S3 (ELB User
        Guide, "Enable access logs", bucket requirements): this bucket is the one
        platform bucket without a KMS key, exempted from s3-kms-encryption by URN in the
        pack's config. Its policy lets the regional ELB writer (`log_delivery_principal`)
        put objects under `alb/AWSLogs/<account>/` only."""
        ctx = self._ctx
        key_name = f"{self._name}-server-access-logs"
        key = rotating_key(
            key_name,
            parent=self,
            description="Server access logs of the ALB access-log bucket",
            partition=ctx.partition,
            account_id=ctx.account_id,
            tags=ctx.tags_for(key_name),
            # S3 log delivery encrypts every log file it writes here with this key.
            statements=[s3_access_log_delivery_statement(ctx.account_id)],
            protect=ctx.protect,
        )

        def bucket_name(kind: str) -> pulumi.Output[str]:
            return pulumi.Output.format(
                "{0}-{1}-{2}",
                physical_name(
                    ctx.names.role_prefix, f"alb-{kind}", 63 - 13 - 1 - len(ctx.region) - 1
                ),
                ctx.account_id,
                ctx.region,
            )

        expiry: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": self._settings.access_log_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": 1},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ]
        server_logs = compliant_bucket(
            f"{self._name}-server-access-logs",
            parent=self,
            bucket_name=bucket_name("s3-logs"),
            kms_key_arn=key.arn,
            tags=ctx.tags_for(),
            access_log_bucket=None,
            receives_access_logs=True,
            lifecycle_rules=expiry,
            protect=ctx.protect,
        )
        writer = log_delivery_principal(ctx.region)

        def statements(bucket: aws.s3.Bucket) -> list[dict[str, Any]]:
            return [
                {
                    "Sid": "ElbWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": writer,
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.format(
                        "{0}/{1}/AWSLogs/{2}/*", bucket.arn, ACCESS_LOG_PREFIX, ctx.account_id
                    ),
                }
            ]

        return compliant_bucket(
            f"{self._name}-access-logs",
            parent=self,
            bucket_name=bucket_name("access-logs"),
            kms_key_arn=None,
            tags=ctx.tags_for(),
            access_log_bucket=server_logs,
            lifecycle_rules=expiry,
            policy_statements=statements,
            protect=ctx.protect,
        )

    def _load_balancer(
        self,
        kind: str,
        group: aws.ec2.SecurityGroup,
        subnets: pulumi.Input[Sequence[pulumi.Input[str]]],
        *,
        internal: bool,
        access_logs: CompliantBucket | None,
    ) -> aws.lb.LoadBalancer:
        name = f"{self._name}-{kind}"
        logs: aws.lb.LoadBalancerAccessLogsArgsDict | None = None
        depends: list[pulumi.Resource] = []
        if access_logs is not None:
            logs = {"bucket": access_logs.bucket.id, "prefix": ACCESS_LOG_PREFIX, "enabled": True}
            # ELB checks that it may write when access logging is turned on.
            depends = access_logs.ready_for_writers()
        return aws.lb.LoadBalancer(
            name,
            name=load_balancer_name(self._ctx.names.role_prefix, kind),
            load_balancer_type="application",
            internal=internal,
            subnets=subnets,
            security_groups=[group.id],
            ip_address_type="ipv4",
            idle_timeout=self._settings.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_http2=True,
            enable_deletion_protection=self._hardened,
            access_logs=logs,
            tags=self._ctx.tags_for(name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    def _listeners(
        self,
        kind: str,
        balancer: aws.lb.LoadBalancer,
        validation: aws.acm.CertificateValidation,
    ) -> aws.lb.Listener:
        """HTTP :80 that only redirects (301) to HTTPS, and HTTPS :443 with the pinned TLS
        policy and a fixed 404 for anything no rule routes; returns the HTTPS one."""
        name = f"{self._name}-{kind}"
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
                }
            ],
            tags=self._ctx.tags_for(f"{name}-http"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=versions.ALB_TLS_POLICY,
            certificate_arn=validation.certificate_arn,
            default_actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {
                        "content_type": "text/plain",
                        "status_code": "404",
                        "message_body": "Not found",
                    },
                }
            ],
            tags=self._ctx.tags_for(f"{name}-https"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[validation]),
        )

    def _web_acl(self) -> pulumi.Output[str]:
        """The public ALB's web ACL: the rate limit first (cheapest), then the managed
        groups; each rule with its own metrics and sampled requests."""
        ctx, _env = self._ctx, self._ctx.environment
        name = f"{self._name}-waf"
        acl_name = physical_name(ctx.names.role_prefix, "public-alb", 128)

        def visibility(metric: str) -> Any:
            return {
                "cloudwatch_metrics_enabled": True,
                "metric_name": metric,
                "sampled_requests_enabled": True,
            }

        rules: list[Any] = [
            {
                "name": "rate-limit-per-ip",
                "priority": 0,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "limit": self._settings.waf_rate_limit,
                        "aggregate_key_type": "IP",
                        "evaluation_window_sec": 300,
                    }
                },
                "visibility_config": visibility("rate-limit-per-ip"),
            }
        ]
        for index, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(
                {
                    "name": group,
                    "priority": index,
                    "override_action": {"none": {}},
                    "statement": {
                        "managed_rule_group_statement": {"vendor_name": "AWS", "name": group}
                    },
                    "visibility_config": visibility(group),
                }
            )
        acl = aws.wafv2.WebAcl(
            name,
            name=acl_name,
            scope="REGIONAL",
            description="Public ALB: AWS managed rules and a per-IP rate limit",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()
            ),
            rules=rules,
            visibility_config=visibility(acl_name),
            tags=ctx.tags_for(name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.wafv2.WebAclAssociation(
            name,
            resource_arn=self._public.arn,
            web_acl_arn=acl.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        group_name = waf_log_group_name(ctx.names.role_prefix, "public-alb")
        _, log_group = encrypted_log_group(
            ctx,
            self,
            key_resource=f"{name}-logs",
            key_description="WAF logs of the public ALB",
            group_resource=f"{name}-logs",
            group_name=group_name,
            retention_days=self._settings.waf_log_retention_days,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            name,
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            # Never log credentials or session cookies.
            redacted_fields=[
                {"single_header": {"name": "authorization"}},
                {"single_header": {"name": "cookie"}},
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return acl.arn

    def _controller_role(self) -> aws.iam.Role:
        """The controller's IRSA role: only its service account may assume it, and its
        policy is `controller_policy_document`."""
        ctx, args = self._ctx, self._args

        def render(values: list[Any]) -> str:
            partition, account, cluster = values
            return json.dumps(
                controller_policy_document(
                    partition=partition, region=ctx.region, account_id=account, cluster=cluster
                )
            )

        return self._args.roles.irsa_role(
            f"{self._name}-lb-controller",
            parent=self,
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer_url=args.oidc_issuer_url,
            namespace=args.controller_namespace,
            service_account=args.controller_service_account,
            description="AWS Load Balancer Controller: TargetGroupBinding targets only (IRSA)",
            inline_policies={
                "target-group-binding": pulumi.Output.all(
                    ctx.partition, ctx.account_id, args.cluster_name
                ).apply(render)
            },
            tags=ctx.tags_for(),
        )


def _field(entry: Any, field: str) -> Any:
    """A field of a nested output type (`CertificateDomainValidationOption`)."""
    return getattr(entry, field)
