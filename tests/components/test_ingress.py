"""The Pulumi-owned entry points each shipped stack would create (`Ingress`), asserted on
the recorded graph, and the controller's reduced policy evaluated."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from ballast.offline import load_stack_config, run_component
from ballast.offline.stack_config import load_project
from components import versions
from components.config import (
    IngressConfig,
    ServiceConfig,
    ServiceIngressConfig,
    in_zone,
    parse_platform_config,
)
from components.iam import RoleFactory
from components.ingress import (
    CLUSTER_TAG,
    ELB_LOG_ACCOUNTS,
    LOG_DELIVERY_SERVICE,
    MANAGED_RULE_GROUPS,
    Ingress,
    IngressArgs,
    certificate_domains,
    controller_policy_document,
    log_delivery_principal,
    path_patterns,
    upstream_controller_policy,
)
from tests.conftest import ROOT, SHIPPED_STACKS, aws_context, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, irsa_trust_allows
from tests.tokens import (
    BUCKET,
    BUCKET_POLICY,
    CERTIFICATE,
    CERTIFICATE_VALIDATION,
    DNS_RECORD,
    EGRESS_RULE,
    INGRESS_RULE,
    KEY,
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    LOG_GROUP,
    ROLE,
    ROLE_POLICY,
    SECURITY_GROUP,
    SUBNET,
    TARGET_GROUP,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    WEB_ACL_LOGGING,
)

ACCOUNT = "123456789012"


@pytest.fixture(params=SHIPPED_STACKS)
def shipped(request):
    """(the stack's run, {"config": its PlatformConfig, "ingress": its ingress section})."""
    run = stack_run(request.param)
    config = parse_platform_config(load_stack_config(load_project(ROOT), run.stack).config)
    assert config.ingress is not None, f"{run.stack} ships an ingress"
    return run, {"config": config, "ingress": config.ingress}


def ingress_of(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_ and "ballast:components:Ingress" in r.urn]


def balancers(run) -> dict[str, object]:
    return {
        ("internal" if r.inputs["internal"] else "public"): r for r in run.of_type(LOAD_BALANCER)
    }


def subnets_by_tier(run) -> dict[str, dict[str, str]]:
    """Subnet ID -> zone, per tier (by the Network's resource names)."""
    tiers: dict[str, dict[str, str]] = {"public": {}, "private": {}}
    for subnet in run.of_type(SUBNET):
        for tier in tiers:
            if f"-{tier}-" in subnet.name and "dr-net" not in subnet.name:
                tiers[tier][subnet.id] = subnet.inputs["availabilityZone"]
    return tiers


# --- load balancers --------------------------------------------------------------------


def test_the_public_alb_spans_every_public_subnet_and_zone(shipped):
    run, _ = shipped
    lbs = balancers(run)
    tiers = subnets_by_tier(run)
    public = lbs["public"].inputs
    assert public["internal"] is False and public["loadBalancerType"] == "application"
    assert set(public["subnets"]) == set(tiers["public"])
    assert set(tiers["public"].values()) == set(run.outputs["availabilityZones"])
    if "internal" in lbs:
        internal = lbs["internal"].inputs
        assert set(internal["subnets"]) == set(tiers["private"])
        assert set(tiers["private"].values()) == set(run.outputs["availabilityZones"])


def test_an_internal_alb_exactly_where_platform_cidrs_are_set(shipped):
    run, settings = shipped
    has_internal = "internal" in balancers(run)
    assert has_internal == bool(settings["ingress"].platform_cidrs)
    assert (run.outputs.get("ingressInternalAlbArn") is not None) == has_internal
    assert len(balancers(run)) == (2 if has_internal else 1)


def test_both_albs_are_hardened(shipped):
    run, _ = shipped
    hardened = run.stack != "dev"
    for lb in balancers(run).values():
        inputs = lb.inputs
        assert inputs["dropInvalidHeaderFields"] is True
        assert inputs["desyncMitigationMode"] == "strictest"
        assert inputs["enableHttp2"] is True
        assert inputs["enableDeletionProtection"] is hardened
        logs = inputs.get("accessLogs")
        if hardened:
            (bucket,) = [
                b
                for b in ingress_of(run, BUCKET)
                if b.name.endswith("-access-logs") and "server" not in b.name
            ]
            assert logs == {"enabled": True, "bucket": bucket.id, "prefix": "alb"}
            # ELB checks its write access when logging is turned on.
            assert any(u.endswith(bucket.name) and BUCKET_POLICY in u for u in lb.depends_on)
        else:
            assert not logs


def test_the_public_alb_admits_only_web_traffic_from_the_allowed_cidrs(shipped):
    run, settings = shipped
    lbs = balancers(run)
    groups = {g.id: g for g in run.of_type(SECURITY_GROUP)}
    (public_group,) = lbs["public"].inputs["securityGroups"]
    assert public_group in groups

    def ingress(group_id):
        return {
            (
                r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"),
                r.inputs["fromPort"],
                r.inputs["toPort"],
            )
            for r in run.of_type(INGRESS_RULE)
            if r.inputs["securityGroupId"] == group_id
        }

    allowed = settings["ingress"].allowed_cidrs
    assert ingress(public_group) == {(c, p, p) for c in allowed for p in (80, 443)}
    if "internal" in lbs:
        (internal_group,) = lbs["internal"].inputs["securityGroups"]
        assert internal_group in groups
        platform = (*settings["ingress"].platform_cidrs, settings["config"].network.cidr)
        assert ingress(internal_group) == {(c, p, p) for c in platform for p in (80, 443)}


def test_the_albs_send_only_to_the_clusters_group_on_routed_ports(shipped):
    run, settings = shipped
    cluster_group = run.outputs["clusterSecurityGroupId"]
    public_group = balancers(run)["public"].inputs["securityGroups"][0]
    ports = {s.ingress.port for s in settings["config"].services if s.ingress}
    egress = [
        r.inputs for r in run.of_type(EGRESS_RULE) if r.inputs["securityGroupId"] == public_group
    ]
    assert {(e["referencedSecurityGroupId"], e["fromPort"], e["toPort"]) for e in egress} == {
        (cluster_group, p, p) for p in ports
    }
    assert all("cidrIpv4" not in e and "cidrIpv6" not in e for e in egress)
    to_pods = {
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"])
        for r in run.of_type(INGRESS_RULE)
        if r.inputs["securityGroupId"] == cluster_group
    }
    assert {(public_group, p) for p in ports} <= to_pods


# --- listeners and the certificate -------------------------------------------------------


def test_http_only_redirects_and_https_answers_404_by_default(shipped):
    run, _ = shipped
    lbs = balancers(run)
    (validation,) = run.of_type(CERTIFICATE_VALIDATION)
    (certificate,) = run.of_type(CERTIFICATE)
    for lb in lbs.values():
        listeners = {
            x.inputs["port"]: x
            for x in run.of_type(LISTENER)
            if x.inputs["loadBalancerArn"] == lb.outputs["arn"]
        }
        assert set(listeners) == {80, 443}
        http = listeners[80].inputs
        assert http["protocol"] == "HTTP"
        assert http["defaultActions"] == [
            {
                "type": "redirect",
                "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
            }
        ]
        https = listeners[443]
        assert https.inputs["protocol"] == "HTTPS"
        assert https.inputs["sslPolicy"] == versions.ALB_TLS_POLICY
        assert https.inputs["certificateArn"] == certificate.outputs["arn"]
        (action,) = https.inputs["defaultActions"]
        assert action["type"] == "fixed-response"
        assert action["fixedResponse"]["statusCode"] == "404"
        # The certificate ARN is read from the validation, so the listener waits for it.
        assert https.inputs["certificateArn"] == validation.outputs["certificateArn"]


def test_the_certificate_covers_every_host_and_is_validated_in_the_zone(shipped):
    run, settings = shipped
    zone = settings["ingress"].hosted_zone_name
    (certificate,) = run.of_type(CERTIFICATE)
    domains = [
        certificate.inputs["domainName"],
        *certificate.inputs.get("subjectAlternativeNames", []),
    ]
    assert certificate.inputs["validationMethod"] == "DNS"
    for service in settings["config"].services:
        if service.ingress:
            host = service.ingress.host
            assert host in domains or (f"*.{host.split('.', 1)[1]}" in domains)
    records = [r for r in run.of_type(DNS_RECORD) if "-certificate-validation-" in r.name]
    options = {o["resourceRecordName"]: o for o in certificate.outputs["domainValidationOptions"]}
    assert len(records) == len(domains)
    zone_ids = {r.inputs["zoneId"] for r in records}
    assert len(zone_ids) == 1
    for record in records:
        option = options[record.inputs["name"]]
        assert record.inputs["type"] == option["resourceRecordType"]
        assert record.inputs["records"] == [option["resourceRecordValue"]]
    (validation,) = run.of_type(CERTIFICATE_VALIDATION)
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert sorted(validation.inputs["validationRecordFqdns"]) == sorted(
        r.outputs["fqdn"] for r in records
    )
    assert all(in_zone(d.removeprefix("*."), zone) for d in domains)


# --- routes ------------------------------------------------------------------------------


def test_every_service_with_an_ingress_gets_a_target_group_rule_and_alias(shipped):
    run, settings = shipped
    lbs = balancers(run)
    public = lbs["public"]
    https = next(
        x
        for x in run.of_type(LISTENER)
        if x.inputs["loadBalancerArn"] == public.outputs["arn"] and x.inputs["port"] == 443
    )
    routed = [s for s in settings["config"].services if s.ingress]
    assert routed, "the shipped stacks route at least one service"
    groups = {g.name: g for g in run.of_type(TARGET_GROUP)}
    rules = {r.name: r for r in run.of_type(LISTENER_RULE)}
    records = {r.name: r for r in run.of_type(DNS_RECORD)}
    priorities = []
    for service in routed:
        route = service.ingress
        resource = f"ballast-{run.stack}-ingress-public-{service.name}"
        group = groups[resource].inputs
        assert group["targetType"] == "ip" and group["port"] == route.port
        assert group["healthCheck"]["path"] == route.health_check_path
        assert group["tags"][CLUSTER_TAG] == run.outputs["clusterName"]
        rule = rules[resource].inputs
        assert rule["listenerArn"] == https.outputs["arn"]
        assert {"hostHeader": {"values": [route.host]}} in rule["conditions"]
        assert {"pathPattern": {"values": path_patterns(route.path)}} in rule["conditions"]
        assert rule["actions"] == [
            {"type": "forward", "targetGroupArn": groups[resource].outputs["arn"]}
        ]
        priorities.append(rule["priority"])
        record = records[resource].inputs
        assert record["name"] == route.host and record["type"] == "A"
        assert record["aliases"] == [
            {
                "name": public.outputs["dnsName"],
                "zoneId": public.outputs["zoneId"],
                "evaluateTargetHealth": True,
            }
        ]
    assert len(set(priorities)) == len(priorities)
    urls = run.outputs["ingressServiceUrls"]
    # Platform UIs (Vault, Argo CD) add internal routes of their own beside the services'.
    internal = {r["name"] for r in run.outputs["ingressRoutes"] if r["internal"]}
    public_routes = {r["name"] for r in run.outputs["ingressRoutes"] if not r["internal"]}
    assert public_routes == {s.name for s in routed} <= set(urls)
    assert set(urls) == {s.name for s in routed} | internal
    for service in routed:
        suffix = "" if service.ingress.path == "/" else service.ingress.path
        assert urls[service.name] == f"https://{service.ingress.host}{suffix}"


def test_the_stack_exports_what_an_operator_and_the_cluster_layer_need(shipped):
    run, _ = shipped
    lbs = balancers(run)
    outputs = run.outputs
    assert outputs["ingressPublicAlbArn"] == lbs["public"].outputs["arn"]
    assert outputs["ingressPublicAlbDnsName"] == lbs["public"].outputs["dnsName"]
    if "internal" in lbs:
        assert outputs["ingressInternalAlbArn"] == lbs["internal"].outputs["arn"]
        assert outputs["ingressInternalAlbDnsName"] == lbs["internal"].outputs["dnsName"]
    (acl,) = run.of_type(WEB_ACL)
    assert outputs["ingressWebAclArn"] == acl.outputs["arn"]
    groups = {g.outputs["arn"] for g in run.of_type(TARGET_GROUP)}
    assert {r["targetGroupArn"] for r in outputs["ingressRoutes"]} == groups


# --- WAF -----------------------------------------------------------------------------------


def test_the_public_alb_has_a_web_acl_with_managed_rules_and_a_rate_limit(shipped):
    run, settings = shipped
    (acl,) = run.of_type(WEB_ACL)
    inputs = acl.inputs
    assert inputs["scope"] == "REGIONAL"
    rules = inputs["rules"]
    managed = [
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    ]
    assert managed == list(MANAGED_RULE_GROUPS)
    (rate,) = [r for r in rules if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == settings["ingress"].waf_rate_limit
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert rate["action"] == {"block": {}}
    for rule in rules:
        visibility = rule["visibilityConfig"]
        assert visibility["cloudwatchMetricsEnabled"] and visibility["sampledRequestsEnabled"]
    assert len({r["priority"] for r in rules}) == len(rules)
    (association,) = run.of_type(WEB_ACL_ASSOCIATION)
    assert association.inputs["resourceArn"] == balancers(run)["public"].outputs["arn"]
    assert association.inputs["webAclArn"] == acl.outputs["arn"]


def test_waf_logs_to_an_encrypted_log_group_with_retention(shipped):
    run, settings = shipped
    (logging,) = run.of_type(WEB_ACL_LOGGING)
    (acl,) = run.of_type(WEB_ACL)
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    (destination,) = logging.inputs["logDestinationConfigs"]
    (group,) = [g for g in run.of_type(LOG_GROUP) if g.outputs["arn"] == destination]
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == settings["ingress"].waf_log_retention_days
    keys = {k.outputs["arn"]: k for k in run.of_type(KEY)}
    key = keys[group.inputs["kmsKeyId"]]
    assert key.inputs["enableKeyRotation"] is True
    if run.stack == "dev":
        assert group.inputs["retentionInDays"] <= 30


# --- access logs -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [s for s in SHIPPED_STACKS if s != "dev"])
def test_the_access_log_bucket_grants_exactly_the_regional_elb_writer(stack):
    run = stack_run(stack)
    region = run.outputs["primaryRegion"]
    (bucket,) = [b for b in ingress_of(run, BUCKET) if b.name.endswith("ingress-access-logs")]
    (policy,) = [p for p in run.of_type(BUCKET_POLICY) if p.name == bucket.name]
    document = json.loads(policy.inputs["policy"])
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    (grant,) = allows
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS[region]}:root"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == f"{bucket.outputs['arn']}/alb/AWSLogs/{ACCOUNT}/*"


def test_newer_regions_use_the_log_delivery_service():
    assert log_delivery_principal("eu-west-1") == {"AWS": "arn:aws:iam::156460612806:root"}
    assert log_delivery_principal("ap-southeast-5") == {"Service": LOG_DELIVERY_SERVICE}
    assert log_delivery_principal("cn-north-1")["AWS"].startswith("arn:aws-cn:")


# --- the controller's role ---------------------------------------------------------------------


CLUSTER = "ballast-test-eks"
TG = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/ballast-test-pub-web/0123456789abcdef"


def controller_policy():
    return controller_policy_document(
        partition="aws", region="us-east-1", account_id=ACCOUNT, cluster=CLUSTER
    )


@pytest.mark.parametrize(
    "action",
    [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:SetWebAcl",
        "elasticloadbalancing:AddTags",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "wafv2:AssociateWebACL",
        "shield:CreateProtection",
        "iam:CreateServiceLinkedRole",
    ],
)
def test_the_controller_cannot_create_or_change_load_balancers(action):
    tags = {f"aws:RequestTag/{CLUSTER_TAG}": CLUSTER, f"aws:ResourceTag/{CLUSTER_TAG}": CLUSTER}
    assert evaluate(controller_policy(), action, "*", tags) == IMPLICIT_DENY
    assert evaluate(controller_policy(), action, TG, tags) == IMPLICIT_DENY


def test_the_controller_registers_targets_only_in_its_clusters_groups():
    policy = controller_policy()
    mine = {f"aws:ResourceTag/{CLUSTER_TAG}": CLUSTER}
    theirs = {f"aws:ResourceTag/{CLUSTER_TAG}": "someone-else"}
    for action in (
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:DeregisterTargets",
    ):
        assert evaluate(policy, action, TG, mine) == ALLOW
        assert evaluate(policy, action, TG, theirs) == IMPLICIT_DENY
        assert evaluate(policy, action, TG, {}) == IMPLICIT_DENY
        other_region = TG.replace("us-east-1", "eu-west-1")
        assert evaluate(policy, action, other_region, mine) == IMPLICIT_DENY
    assert evaluate(policy, "elasticloadbalancing:DescribeTargetHealth", "*", {}) == ALLOW


def test_the_reduced_policy_grants_nothing_upstream_does_not():
    upstream = upstream_controller_policy()
    granted = {
        a
        for s in upstream["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    mine = {a for s in controller_policy()["Statement"] for a in s["Action"]}
    assert mine and mine <= granted
    # Upstream (v3.5.0) lets the controller create load balancers; the reduction is real.
    assert "elasticloadbalancing:CreateLoadBalancer" in granted


def test_only_the_controllers_service_account_assumes_its_role(shipped):
    run, _ = shipped
    (role,) = [r for r in ingress_of(run, ROLE) if r.name.endswith("-lb-controller")]
    assert role.outputs["arn"] == run.outputs["ingressControllerRoleArn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    controller = "system:serviceaccount:ingress:aws-load-balancer-controller"
    assert irsa_trust_allows(trust, run.outputs, controller)
    assert not irsa_trust_allows(trust, run.outputs, "system:serviceaccount:default:default")
    (inline,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    policy = json.loads(inline.inputs["policy"])
    assert policy == controller_policy_document(
        partition="aws",
        region=run.outputs["primaryRegion"],
        account_id=ACCOUNT,
        cluster=run.outputs["clusterName"],
    )


# --- route() for later components ----------------------------------------------------------------


def _ingress_program(extra_route: dict | None, platform_cidrs=("198.51.100.0/24",)):
    settings = IngressConfig(hosted_zone_name="example.org", platform_cidrs=platform_cidrs)
    services = [
        ServiceConfig(
            name="web",
            tier="tier-1",
            ingress=ServiceIngressConfig(host="www.example.org", port=8080),
        )
    ]
    made = {}

    def build():
        provider = aws.Provider("aws", region="eu-west-1")
        ctx = aws_context(provider, "eu-west-1", environment="staging")
        roles = RoleFactory(
            role_prefix=ctx.names.role_prefix, boundary_arn=f"arn:aws:iam::{ACCOUNT}:policy/b"
        )
        ingress = Ingress(
            "edge",
            IngressArgs(
                context=ctx,
                roles=roles,
                settings=settings,
                services=services,
                vpc_id="vpc-1",
                vpc_cidr="10.0.0.0/16",
                public_subnet_ids=["subnet-a", "subnet-b"],
                private_subnet_ids=["subnet-c", "subnet-d"],
                availability_zones=["eu-west-1a", "eu-west-1b"],
                cluster_name="c",
                cluster_security_group_id="sg-cluster",
                oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.example",
                oidc_issuer_url="https://oidc.example",
                controller_namespace="ingress",
                controller_service_account="aws-load-balancer-controller",
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        if extra_route:
            made["route"] = ingress.route(**extra_route)

    return build, made


def test_a_later_component_routes_a_platform_ui_through_the_internal_alb():
    build, made = _ingress_program(
        {
            "name": "grafana",
            "namespace": "observability",
            "service": "grafana",
            "port": 3000,
            "internal": True,
        }
    )
    run = run_component(build)
    route = made["route"]
    assert route.host == "grafana.example.org" and route.internal
    internal = next(r for r in run.of_type(LOAD_BALANCER) if r.inputs["internal"])
    https = next(
        x
        for x in run.of_type(LISTENER)
        if x.inputs["loadBalancerArn"] == internal.outputs["arn"] and x.inputs["port"] == 443
    )
    (rule,) = [r for r in run.of_type(LISTENER_RULE) if r.name == "edge-internal-grafana"]
    assert rule.inputs["listenerArn"] == https.outputs["arn"]
    (record,) = [r for r in run.of_type(DNS_RECORD) if r.name == "edge-internal-grafana"]
    assert record.inputs["aliases"][0]["name"] == internal.outputs["dnsName"]
    internal_group = internal.inputs["securityGroups"][0]
    assert any(
        r.inputs["securityGroupId"] == internal_group and r.inputs["fromPort"] == 3000
        for r in run.of_type(EGRESS_RULE)
    )
    # The region has an ELB account: the staging access-log bucket names it.
    assert ELB_LOG_ACCOUNTS["eu-west-1"] in json.dumps(
        [p.inputs["policy"] for p in run.of_type(BUCKET_POLICY)]
    )


def test_without_platform_cidrs_there_is_no_internal_alb_to_route_to():
    build, _ = _ingress_program(
        {"name": "grafana", "namespace": "o", "service": "grafana", "port": 3000, "internal": True},
        platform_cidrs=None,
    )
    with pytest.raises(Exception, match="there is no internal ALB"):
        run_component(build)


def test_a_route_outside_the_certificate_is_refused():
    build, _ = _ingress_program(
        {
            "name": "vault",
            "namespace": "vault",
            "service": "vault",
            "port": 8200,
            "host": "a.b.example.org",
        }
    )
    with pytest.raises(Exception, match="not covered by the certificate"):
        run_component(build)


def test_certificate_domains_and_path_patterns():
    assert certificate_domains(
        "example.com", ["a.example.com", "b.c.example.com", "example.com"]
    ) == [
        "*.example.com",
        "b.c.example.com",
        "example.com",
    ]
    assert path_patterns("/") == ["/*"]
    assert path_patterns("/api/") == ["/api", "/api/*"]
