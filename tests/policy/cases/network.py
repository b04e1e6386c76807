"""Network and edge (security groups, IMDSv2, VPC hygiene, load balancers), through the
analyzer protocol."""

from __future__ import annotations

import pulumi_aws as aws

from tests.policy.casebook import ACCOUNT, Case, tags

LB_ARN = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/edge/50dc6c495c0c9188"
TG_ARN = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/app/73e2d6bc24d8a067"
WEB_ACL_ARN = (
    f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/edge/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
)
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012"


def web_group(env, name, ports=(443,)):
    return aws.ec2.SecurityGroup(
        name,
        vpc_id=env.vpc.id,
        description="web",
        ingress=[
            {"protocol": "tcp", "from_port": p, "to_port": p, "cidr_blocks": ["0.0.0.0/0"]}
            for p in ports
        ],
        tags=tags(),
        opts=env.opts(),
    )


def load_balancer(env, name, subnets=3, groups=None, waf=True, **overrides):
    """A compliant ALB; internet-facing ones get a WAF association unless `waf` is off."""
    args = {
        "load_balancer_type": "application",
        "subnets": [s.id for s in env.subnets[:subnets]],
        "security_groups": [g.id for g in groups or []],
        "drop_invalid_header_fields": True,
        "enable_deletion_protection": True,
        "access_logs": {"bucket": env.log_bucket.id, "enabled": True, "prefix": name},
        "tags": tags(),
        **overrides,
    }
    balancer = aws.lb.LoadBalancer(name, **args, opts=env.opts())
    if waf and not args.get("internal"):
        aws.wafv2.WebAclAssociation(
            f"{name}-waf", resource_arn=balancer.arn, web_acl_arn=WEB_ACL_ARN, opts=env.opts()
        )
    return balancer


def lb(**overrides):
    def build(env, name):
        load_balancer(env, name, **overrides)

    return build


def edge(env, name):
    """Internet-facing ALB: 443 (and 80) open on its own group, HTTPS with TLS 1.2+,
    HTTP only redirecting."""
    group = web_group(env, f"{name}-sg", ports=(80, 443))
    balancer = load_balancer(env, f"{name}-alb", groups=[group])
    aws.lb.Listener(
        f"{name}-https",
        load_balancer_arn=balancer.arn,
        port=443,
        protocol="HTTPS",
        ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificate_arn=CERT,
        default_actions=[{"type": "forward", "target_group_arn": TG_ARN}],
        tags=tags(),
        opts=env.opts(),
    )
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
        tags=tags(),
        opts=env.opts(),
    )


def listener(protocol, **overrides):
    def build(env, name):
        args = {
            "load_balancer_arn": LB_ARN,
            "port": 443 if protocol == "HTTPS" else 80,
            "protocol": protocol,
            "default_actions": [{"type": "forward", "target_group_arn": TG_ARN}],
            "tags": tags(),
            **overrides,
        }
        if protocol == "HTTPS":
            args.setdefault("certificate_arn", CERT)
        aws.lb.Listener(name, **args, opts=env.opts())

    return build


def group_with_rule(cidr: str, port: int):
    def build(env, name):
        group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=env.vpc.id, description="db", tags=tags(), opts=env.opts()
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-rule",
            security_group_id=group.id,
            **({"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}),
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            tags=tags(),
            opts=env.opts(),
        )

    return build


def group_from(port: int, *rules: list[str]):
    """A security group with one ingress rule on `port` per CIDR list in `rules`."""

    def build(env, name):
        aws.ec2.SecurityGroup(
            name,
            vpc_id=env.vpc.id,
            description="split ranges",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": port,
                    "to_port": port,
                    "cidr_blocks": [c for c in cidrs if ":" not in c],
                    "ipv6_cidr_blocks": [c for c in cidrs if ":" in c],
                }
                for cidrs in rules
            ],
            tags=tags(),
            opts=env.opts(),
        )

    return build


def open_group(*ports):
    def build(env, name):
        web_group(env, name, ports=ports)

    return build


def default_group(open_: bool):
    def build(env, name):
        ingress = [{"protocol": "-1", "self": True, "from_port": 0, "to_port": 0}] if open_ else []
        aws.ec2.DefaultSecurityGroup(
            name, vpc_id=env.vpc.id, ingress=ingress, egress=[], tags=tags(), opts=env.opts()
        )

    return build


def subnet(public_ip: bool):
    def build(env, name):
        aws.ec2.Subnet(
            name,
            vpc_id=env.vpc.id,
            cidr_block="10.0.200.0/24",
            availability_zone="us-east-1a",
            map_public_ip_on_launch=public_ip,
            tags=tags(),
            opts=env.opts(),
        )

    return build


def vpc(flow_logs: bool):
    def build(env, name):
        network = aws.ec2.Vpc(name, cidr_block="10.9.0.0/16", tags=tags(), opts=env.opts())
        if flow_logs:
            aws.ec2.FlowLog(
                f"{name}-flow",
                vpc_id=network.id,
                traffic_type="ALL",
                log_destination="arn:aws:s3:::flow-logs",
                log_destination_type="s3",
                tags=tags(),
                opts=env.opts(),
            )

    return build


def instance(tokens: str):
    def build(env, name):
        aws.ec2.Instance(
            name,
            ami="ami-0123456789abcdef0",
            instance_type="m6i.large",
            subnet_id=env.subnets[0].id,
            metadata_options={"http_tokens": tokens},
            root_block_device={"encrypted": True, "volume_size": 30},
            tags=tags(),
            opts=env.opts(),
        )

    return build


LB_POLICIES = (
    "lb-min-subnets",
    "lb-http-redirects-to-https",
    "lb-tls-policy",
    "lb-drop-invalid-headers",
    "lb-deletion-protection",
    "lb-access-logs",
    "lb-public-waf",
)


def function_url(authorization: str):
    def build(env, name):
        aws.lambda_.FunctionUrl(
            name,
            function_name=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:api",
            authorization_type=authorization,
            opts=env.opts(),
        )

    return build


CASES = [
    Case("edge", edge, passes=("sg-no-public-ingress", "sg-no-public-admin-ports", *LB_POLICIES)),
    Case(
        "private-rule",
        group_with_rule("10.0.0.0/16", 5432),
        passes=("sg-no-public-ingress", "sg-no-public-admin-ports"),
    ),
    Case("open-app-port", open_group(8080), fails="sg-no-public-ingress"),
    Case(
        "sg-private-ranges",
        # Large, but private: the VPC and the corporate network.
        group_from(22, ["10.0.0.0/8", "172.16.0.0/12"], ["192.168.0.0/16", "fd00::/8"]),
        passes=("sg-no-public-ingress", "sg-no-public-admin-ports"),
    ),
    Case(
        "sg-split-internet",
        # Two halves of the internet in two rules are the internet.
        group_from(22, ["0.0.0.0/1"], ["128.0.0.0/1"]),
        fails="sg-no-public-admin-ports",
        also=("sg-no-public-ingress",),
    ),
    Case(
        "sg-halves-v6",
        group_from(5432, ["::/1", "8000::/1"]),
        fails="sg-no-public-ingress",
    ),
    Case(
        "sg-public-slash-8",
        # 16 million public addresses are not "the office".
        group_from(5432, ["8.0.0.0/9", "8.128.0.0/9"]),
        fails="sg-no-public-ingress",
    ),
    Case("open-web-without-lb", open_group(443), fails="sg-no-public-ingress"),
    Case(
        "open-ssh-rule",
        group_with_rule("0.0.0.0/0", 22),
        fails="sg-no-public-admin-ports",
        also=("sg-no-public-ingress",),
    ),
    Case(
        "open-rdp-v6",
        group_with_rule("::/0", 3389),
        fails="sg-no-public-admin-ports",
        also=("sg-no-public-ingress",),
    ),
    Case("default-sg-closed", default_group(False), passes=("vpc-default-sg-closed",)),
    Case("default-sg-open", default_group(True), fails="vpc-default-sg-closed"),
    Case("subnet-private", subnet(False), passes=("subnet-no-auto-public-ip",)),
    Case("subnet-public-ip", subnet(True), fails="subnet-no-auto-public-ip"),
    Case("vpc-logged", vpc(True), passes=("vpc-flow-logs",)),
    Case("vpc-unlogged", vpc(False), fails="vpc-flow-logs"),
    Case(
        "instance-imdsv2",
        instance("required"),
        passes=("ec2-imdsv2-required", "ec2-volumes-encrypted"),
    ),
    Case("instance-imdsv1", instance("optional"), fails="ec2-imdsv2-required"),
    Case("lb-one-subnet", lb(subnets=1), fails="lb-min-subnets"),
    Case("lb-two-subnets", lb(subnets=2), fails="lb-min-subnets"),
    Case("listener-http-forward", listener("HTTP"), fails="lb-http-redirects-to-https"),
    Case(
        "listener-tls10",
        listener("HTTPS", ssl_policy="ELBSecurityPolicy-2016-08"),
        fails="lb-tls-policy",
    ),
    Case("listener-default-policy", listener("HTTPS"), fails="lb-tls-policy"),
    Case(
        "lb-keeps-bad-headers",
        lb(drop_invalid_header_fields=False),
        fails="lb-drop-invalid-headers",
    ),
    Case("lb-deletable", lb(enable_deletion_protection=False), fails="lb-deletion-protection"),
    Case("lb-unlogged", lb(access_logs=None), fails="lb-access-logs"),
    Case("lb-public-without-waf", lb(waf=False), fails="lb-public-waf"),
    Case("lb-internal-without-waf", lb(waf=False, internal=True), passes=("lb-public-waf",)),
    Case("lambda-url-ok", function_url("AWS_IAM"), passes=("lambda-url-auth",)),
    Case("lambda-url-open", function_url("NONE"), fails="lambda-url-auth"),
]
