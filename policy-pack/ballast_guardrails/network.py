"""Network and edge: security-group exposure, IMDSv2, VPC hygiene, load balancers.

Internet ingress (0.0.0.0/0 or ::/0, a public range of a /8 or more, or CIDRs of one
resource and port range that add up to one: `0.0.0.0/1` + `128.0.0.0/1`) is allowed only on ports 80 and 443 of a security
group that a load balancer of the same stack uses: that is a stack policy, because the
rule, the group and the load balancer are separate resources. SSH and RDP from the
internet are refused per resource as well, so that check works even while IDs are still
unknown during a preview.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from ballast_guardrails.graph import References, Targets, of_type
from ballast_guardrails.spec import (
    CRITICAL,
    HIGH,
    HYGIENE,
    LOW,
    MEDIUM,
    PRODUCTION_ONLY,
    SECURITY,
    Report,
    Settings,
    resource_policy,
    stack_policy,
)
from ballast_guardrails.values import as_list, get, number, truthy

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INGRESS_TYPES = (SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE)
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A public range this wide counts as the internet (`internet_wide`).
WIDE_IPV4_PREFIX, WIDE_IPV6_PREFIX = 8, 16
WEB_PORTS = frozenset({80, 443})
_ALL_PROTOCOLS = frozenset({"-1", "all"})
#: ELB security policies that refuse TLS 1.0 and 1.1 (TLS 1.2 or 1.3 only).
TLS12_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)", re.IGNORECASE)


@dataclass(frozen=True)
class Ingress:
    """One internet-open ingress permission."""

    protocol: str
    from_port: int | None
    to_port: int | None
    cidr: str
    where: str

    @property
    def all_ports(self) -> bool:
        return self.protocol in _ALL_PROTOCOLS

    def covers(self, port: int) -> bool:
        if self.all_ports:
            return True
        if self.from_port is None or self.to_port is None:
            return False
        return self.from_port <= port <= self.to_port

    @property
    def web_only(self) -> bool:
        return (
            self.protocol in ("tcp", "6")
            and self.from_port is not None
            and self.from_port == self.to_port
            and self.from_port in WEB_PORTS
        )

    def describe(self) -> str:
        if self.all_ports:
            ports = "all traffic"
        elif self.from_port == self.to_port:
            ports = f"{self.protocol} {self.from_port}"
        else:
            ports = f"{self.protocol} {self.from_port}-{self.to_port}"
        return f"{self.where}: {ports} from {self.cidr}"


def _protocol(value: Any) -> str:
    as_number = number(value)
    if as_number is not None:
        return str(int(as_number))
    return str(value if value is not None else "-1").strip().lower()


def _port(value: Any) -> int | None:
    as_number = number(value)
    return int(as_number) if as_number is not None else None


def _network(cidr: Any) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return None


def internet_wide(network: IPNetwork) -> bool:
    """The internet, or a public range at least the size of an IPv4 /8 (IPv6 /16): no
    one reviews sixteen million public addresses as "our office"."""
    if network.is_private:
        return False
    widest = WIDE_IPV4_PREFIX if network.version == 4 else WIDE_IPV6_PREFIX
    return network.prefixlen <= widest


def wide_openings(cidrs: list[Any]) -> list[tuple[IPNetwork, list[str]]]:
    """The internet-wide networks that `cidrs` add up to, each with the CIDRs that make
    it: `0.0.0.0/1` and `128.0.0.0/1` together are `0.0.0.0/0`."""
    return [(n, list(parts)) for n, parts in _wide_openings(tuple(str(c) for c in cidrs))]


@functools.lru_cache(maxsize=4096)
def _wide_openings(cidrs: tuple[str, ...]) -> tuple[tuple[IPNetwork, tuple[str, ...]], ...]:
    # Parsing and collapsing networks with `ipaddress` is slow, and a stack repeats the
    # same few CIDR lists on rule after rule: each distinct list is added up once.
    networks = [(n, c.strip()) for c in cidrs if (n := _network(c)) is not None]
    found = []
    for version in (4, 6):
        mine = [(n, c) for n, c in networks if n.version == version]
        for merged in ipaddress.collapse_addresses(n for n, _ in mine):  # type: ignore[type-var]
            if internet_wide(merged):
                parts = sorted({c for n, c in mine if n.subnet_of(merged)})  # type: ignore[arg-type]
                found.append((merged, tuple(parts)))
    return tuple(found)


def _open(rules: list[tuple[Any, Any, Any, list[Any], str]]) -> Iterator[Ingress]:
    """Internet-open permissions among `rules` (protocol, from, to, CIDRs, where): the
    CIDRs of every rule with the same protocol and ports are added up first."""
    by_ports: dict[tuple[str, int | None, int | None], list[tuple[Any, str]]] = {}
    for protocol, from_port, to_port, cidrs, where in rules:
        key = (_protocol(protocol), _port(from_port), _port(to_port))
        by_ports.setdefault(key, []).extend((c, where) for c in cidrs)
    for (protocol, from_port, to_port), entries in by_ports.items():
        for network, parts in wide_openings([c for c, _ in entries]):
            wheres = sorted({w for c, w in entries if str(c).strip() in parts})
            cidr = str(network) if str(network) in parts else f"{' + '.join(parts)} (= {network})"
            yield Ingress(protocol, from_port, to_port, cidr, ", ".join(wheres))


def open_ingress(resource_type: str, props) -> list[Ingress]:
    """Every internet-open ingress permission a group or rule resource declares."""
    rules: list[tuple[Any, Any, Any, list[Any], str]] = []
    if resource_type == SECURITY_GROUP:
        for index, rule in enumerate(as_list(get(props, "ingress"))):
            cidrs = as_list(get(rule, "cidrBlocks")) + as_list(get(rule, "ipv6CidrBlocks"))
            rules.append(
                (
                    get(rule, "protocol"),
                    get(rule, "fromPort"),
                    get(rule, "toPort"),
                    cidrs,
                    f"ingress #{index + 1}",
                )
            )
    elif resource_type == SG_RULE:
        if str(get(props, "type", default="")).lower() == "ingress":
            cidrs = as_list(get(props, "cidrBlocks")) + as_list(get(props, "ipv6CidrBlocks"))
            rules.append(
                (
                    get(props, "protocol"),
                    get(props, "fromPort"),
                    get(props, "toPort"),
                    cidrs,
                    "rule",
                )
            )
    elif resource_type == SG_INGRESS_RULE:
        cidrs = [c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c]
        rules.append(
            (get(props, "ipProtocol"), get(props, "fromPort"), get(props, "toPort"), cidrs, "rule")
        )
    return list(_open(rules))


@stack_policy(
    name="sg-no-public-ingress",
    description="No internet ingress (0.0.0.0/0, ::/0, or CIDRs adding up to the internet or "
    "a public /8), except 80/443 on a load balancer's security group.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_260", "AVD-AWS-0107"),
    remediation="Put the service behind a load balancer, or allow the known CIDRs "
    "or security groups only.",
)
def _public_ingress(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    groups = Targets(of_type(args.resources, SECURITY_GROUP))
    balancers = of_type(args.resources, *LOAD_BALANCERS)
    lb_groups = {g.urn for lb in balancers for g in groups.of(lb, "securityGroups")}
    for resource in of_type(args.resources, *INGRESS_TYPES):
        for ingress in open_ingress(resource.resource_type, resource.props):
            if ingress.web_only:
                targets = (
                    [resource]
                    if resource.resource_type == SECURITY_GROUP
                    else groups.of(resource, "securityGroupId")
                )
                if any(t.urn in lb_groups for t in targets):
                    continue
                report(
                    f"{ingress.describe()}: only a load balancer's security group may take "
                    "web traffic from the internet",
                    resource.urn,
                )
            else:
                report(f"{ingress.describe()}: internet ingress beyond 80/443", resource.urn)


@resource_policy(
    name="sg-no-public-admin-ports",
    types=INGRESS_TYPES,
    description="SSH (22) and RDP (3389) are never open to the internet.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_24", "CKV_AWS_25"),
    remediation="Remove the rule; reach instances with SSM Session Manager.",
    config={
        "ports": {
            "type": "array",
            "items": {"type": "integer"},
            "default": [22, 3389],
            "description": "Ports that must never be open to the internet.",
        }
    },
)
def _admin_ports(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    ports = [int(p) for p in settings["ports"]]
    for ingress in open_ingress(args.resource_type, args.props):
        exposed = [p for p in ports if ingress.covers(p)]
        if exposed:
            report(
                f"{ingress.describe()} exposes port {', '.join(map(str, exposed))}; "
                "use SSM Session Manager instead"
            )


@resource_policy(
    name="vpc-default-sg-closed",
    types={"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"},
    description="The default security group of a VPC has no rules.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV2_AWS_12",),
    remediation="Manage it with aws.ec2.DefaultSecurityGroup and empty ingress and egress.",
)
def _default_sg_closed(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for direction in ("ingress", "egress"):
        if as_list(get(args.props, direction)):
            report(f"the default security group has {direction} rules")


@resource_policy(
    name="subnet-no-auto-public-ip",
    types={"aws:ec2/subnet:Subnet"},
    description="Subnets do not assign public IPs on launch.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_130", "AVD-AWS-0164"),
    remediation="Set mapPublicIpOnLaunch=False; expose services through load balancers.",
)
def _subnet_public_ip(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if truthy(get(args.props, "mapPublicIpOnLaunch")):
        report("mapPublicIpOnLaunch is true: instances launched here get public addresses")


@stack_policy(
    name="vpc-flow-logs",
    description="Every VPC has flow logs.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV2_AWS_11", "AVD-AWS-0178"),
    remediation="Add an aws.ec2.FlowLog for the VPC (the Network component does).",
)
def _flow_logs(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    logs = References(of_type(args.resources, "aws:ec2/flowLog:FlowLog"), "vpcId")
    for vpc in of_type(args.resources, "aws:ec2/vpc:Vpc"):
        if not logs.to(vpc):
            report(f"VPC {vpc.name} has no flow log", vpc.urn)


@resource_policy(
    name="ec2-imdsv2-required",
    types={INSTANCE, LAUNCH_TEMPLATE},
    description="Instances and launch templates require IMDSv2 (session tokens).",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_79", "AVD-AWS-0028"),
    remediation='Set metadataOptions.httpTokens="required" (and a hop limit of 2 for containers).',
)
def _imdsv2(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    options = get(args.props, "metadataOptions")
    if str(get(options, "httpEndpoint", default="enabled")).lower() == "disabled":
        return  # no metadata service at all
    tokens = get(options, "httpTokens")
    if str(tokens).lower() != "required":
        report(f'metadataOptions.httpTokens is {tokens or "unset (optional)"}, not "required"')


@resource_policy(
    name="lb-min-subnets",
    types=LOAD_BALANCERS,
    description="Load balancers span at least the configured number of subnets "
    "(2 by default, 3 in prod).",
    severity=HIGH,
    profile=HYGIENE,
    remediation="Pass one subnet per availability zone (network.public_subnet_ids).",
    config={"minSubnets": {"type": "integer", "minimum": 1, "default": 2}},
)
def _lb_subnets(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    subnets = {str(s) for s in as_list(get(args.props, "subnets"))}
    subnets |= {
        str(get(m, "subnetId"))
        for m in as_list(get(args.props, "subnetMappings"))
        if get(m, "subnetId")
    }
    minimum = int(settings["minSubnets"])
    if len(subnets) < minimum:
        report(f"spans {len(subnets)} subnet(s); at least {minimum} (one per zone) required")


def _is_application(props) -> bool:
    return str(get(props, "loadBalancerType", default="application")).lower() == "application"


@resource_policy(
    name="lb-drop-invalid-headers",
    types=LOAD_BALANCERS,
    description="Application load balancers drop invalid HTTP header fields.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_131", "AVD-AWS-0052"),
    remediation="Set dropInvalidHeaderFields=True.",
)
def _drop_invalid_headers(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if _is_application(args.props) and not truthy(get(args.props, "dropInvalidHeaderFields")):
        report("dropInvalidHeaderFields is not true")


@resource_policy(
    name="lb-http-redirects-to-https",
    types=LISTENERS,
    description="Plain HTTP listeners only redirect to HTTPS.",
    severity=HIGH,
    profile=HYGIENE,
    refs=("CKV2_AWS_20", "CKV_AWS_2"),
    remediation='Make the default action a redirect with protocol "HTTPS" and status "HTTP_301".',
)
def _http_redirects(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    # An ALB listener without a protocol is HTTP.
    protocol = str(get(args.props, "protocol", default="HTTP")).upper()
    if protocol != "HTTP":
        return
    actions = as_list(get(args.props, "defaultActions"))
    redirects = [
        a
        for a in actions
        if str(get(a, "type", default="")).lower() == "redirect"
        and str(get(a, "redirect", "protocol", default="")).upper() == "HTTPS"
    ]
    if not actions or len(redirects) != len(actions):
        report("an HTTP listener must only redirect to HTTPS")


@resource_policy(
    name="lb-tls-policy",
    types=LISTENERS,
    description="HTTPS and TLS listeners use a TLS 1.2+ security policy.",
    severity=HIGH,
    profile=HYGIENE,
    refs=("CKV_AWS_103", "AVD-AWS-0047"),
    remediation="Set sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 (or another "
    "TLS 1.2+ policy).",
    config={
        "extraAllowedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Further security policies accepted as TLS 1.2+.",
        }
    },
)
def _tls_policy(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    protocol = str(get(args.props, "protocol", default="")).upper()
    if protocol not in ("HTTPS", "TLS"):
        return
    policy = get(args.props, "sslPolicy")
    allowed = set(settings.get("extraAllowedPolicies", ()))
    if not policy:
        report("sslPolicy is unset: the ELB default (ELBSecurityPolicy-2016-08) allows TLS 1.0")
    elif not (TLS12_POLICY.match(policy) or policy in allowed):
        report(f"sslPolicy {policy} allows TLS versions below 1.2")


@resource_policy(
    name="lb-deletion-protection",
    types=LOAD_BALANCERS,
    description="Production load balancers have deletion protection.",
    severity=LOW,
    profile=PRODUCTION_ONLY,
    refs=("CKV_AWS_150",),
    remediation="Set enableDeletionProtection=True.",
)
def _lb_deletion_protection(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    if not truthy(get(args.props, "enableDeletionProtection")):
        report("enableDeletionProtection is not true")


@resource_policy(
    name="lb-access-logs",
    types=LOAD_BALANCERS,
    description="Production load balancers write access logs.",
    severity=MEDIUM,
    profile=PRODUCTION_ONLY,
    refs=("CKV_AWS_91",),
    remediation="Set accessLogs={enabled: True, bucket: <the access-log bucket>}.",
)
def _lb_access_logs(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    logs = get(args.props, "accessLogs")
    if not truthy(get(logs, "enabled")) or not get(logs, "bucket"):
        report("access logs are not enabled (accessLogs.enabled and accessLogs.bucket)")


@stack_policy(
    name="lb-public-waf",
    description="Internet-facing application load balancers have a WAF web ACL associated.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV2_AWS_28",),
    remediation="Associate a REGIONAL aws.wafv2.WebAcl with the load balancer "
    "(aws.wafv2.WebAclAssociation whose resourceArn is the load balancer's ARN); "
    "components/ingress.py does this for the public ALB.",
)
def _public_waf(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    associations = References(of_type(args.resources, WAF_ASSOCIATION), "resourceArn")
    for balancer in of_type(args.resources, *LOAD_BALANCERS):
        if truthy(get(balancer.props, "internal")) or not _is_application(balancer.props):
            continue
        if not associations.to(balancer):
            report(
                f"internet-facing load balancer {balancer.name} has no WAF web ACL "
                "associated (aws.wafv2.WebAclAssociation)",
                balancer.urn,
            )


@resource_policy(
    name="lambda-url-auth",
    types={"aws:lambda/functionUrl:FunctionUrl"},
    description="Lambda function URLs require IAM authentication.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_258",),
    remediation="Set authorizationType=AWS_IAM, or put the function behind an API Gateway "
    "or a load balancer that authenticates.",
)
def _lambda_url_auth(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    kind = str(get(args.props, "authorizationType", default="")).upper()
    if kind != "AWS_IAM":
        report(f"the function URL takes requests from anyone (authorizationType {kind or '?'})")
