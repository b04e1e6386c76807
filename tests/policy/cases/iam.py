"""IAM least privilege, through the analyzer protocol: one passing and one failing case
(at least) per policy. See `casebook` for how cases are built and judged."""

from __future__ import annotations

import json

import pulumi_aws as aws

from tests.policy.casebook import (
    ACCOUNT,
    BOUNDARY_ARN,
    EXTRA_CONFIGS,
    Case,
    document,
    root_kms_statement,
    service_trust,
    tags,
)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ballast-test-app"
OIDC = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"


def urn(type_: str, name: str) -> str:
    """A URN pattern for a case's resource, in any stack of any project."""
    return f"urn:pulumi:{{stack}}::{{project}}::{type_}::{name}"


EXTRA_CONFIGS["passrole-approved"] = (
    "prod",
    {
        "iam-passrole-requires-approval": {
            "exemptions": [
                {"urn": urn("aws:iam/policy:Policy", name), "reason": "Approved: SEC-7"}
                for name in ("iam-ok-passrole", "iam-passrole-star")
            ]
        }
    },
)


#: Reviewed long-lived keys (a vendor that cannot assume a role), one per way an
#: exemption names a resource, and entries that must not excuse the key they seem to.
KEY = "aws:iam/accessKey:AccessKey"
EXTRA_CONFIGS["access-key-exempt"] = (
    "prod",
    {
        "iam-no-user-access-keys": {
            "exemptions": [
                {"type": KEY, "name": name, "reason": "Approved: vendor X (SEC-123)"}
                for name in ("iam-ok-key-exempt", "iam-ok-key-{stack}-placeholder")
            ]
            + [
                {"urn": urn(KEY, "iam-ok-key-by-urn"), "reason": "Approved: SEC-124"},
                # The user's name, not the key's: an entry names one type.
                {"type": "aws:iam/user:User", "name": "iam-key-wrong-type", "reason": "SEC-125"},
                # Another stack's key: placeholders stand for the resource's own stack only.
                {"urn": f"urn:pulumi:prod::{{project}}::{KEY}::iam-key-other-stack", "reason": "x"},
                # A whole URN must be whole: no parents, no partial names.
                {"type": KEY, "name": "iam-key-partial", "reason": "SEC-126"},
            ]
        }
    },
)


def access_key(env, name):
    user = aws.iam.User(f"{name}-user", tags=tags(), opts=env.opts())
    aws.iam.AccessKey(name, user=user.name, opts=env.opts())


PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
ORG_ONLY = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


def inline_policy(kind: str, *statements: dict):
    """A resource that carries its resource policy in its own arguments."""

    def build(env, name):
        text = json.dumps(document(*statements))
        if kind == "queue":
            aws.sqs.Queue(name, policy=text, tags=tags(), opts=env.opts())
        elif kind == "topic":
            aws.sns.Topic(name, policy=text, tags=tags(), opts=env.opts())
        elif kind == "secret":
            aws.secretsmanager.Secret(
                name, policy=text, kms_key_id=env.key.arn, tags=tags(), opts=env.opts()
            )
        elif kind == "ecr-template":
            aws.ecr.RepositoryCreationTemplate(
                name,
                prefix="apps",
                applied_fors=["PULL_THROUGH_CACHE"],
                repository_policy=text,
                opts=env.opts(),
            )
        elif kind == "opensearch":
            aws.opensearch.DomainPolicy(
                name, domain_name="search", access_policies=text, opts=env.opts()
            )

    return build


def lambda_permission(**narrowing: str):
    def build(env, name):
        aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function="api",
            principal="*",
            **narrowing,
            opts=env.opts(),
        )

    return build


#: A deploy role's broad rights, excused the way prod excuses the CI apply role's: the
#: exemptions of the wildcard, scoping and escalation policies do not reach
#: `iam-no-data-exposure`, which has its own (empty) list.
BROAD_DEPLOY_POLICIES = ("iam-no-wildcard-actions", "iam-scoped-resources")
#: The secrets the program of the cases' stack (`test` of project `ballast`) writes:
#: `ballast-test/...` (components/names.py `PhysicalNames.secret_prefix`).
OWN_SECRETS = f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:ballast-test/*"
#: Carve-outs from the secret-value Deny broader than the program's own secrets: case
#: name -> NotResource.
SECRET_CARVE_OUTS = {
    "iam-secret-carve-out-star": ["*"],
    "iam-secret-carve-out-every-secret": [f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:*"],
    "iam-secret-carve-out-other-stack": [
        f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:ballast-prod/*"
    ],
    # Starts like the prefix but misses its slash: `ballast-test-2/...` is another stack's.
    "iam-secret-carve-out-lookalike": [f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:ballast-test*"],
    "iam-secret-carve-out-any-account": ["arn:aws:secretsmanager:*:*:secret:ballast-test/*"],
    "iam-secret-carve-out-other-account": [
        "arn:aws:secretsmanager:*:210987654321:secret:ballast-test/*"
    ],
    # One entry too many is too many.
    "iam-secret-carve-out-mixed": [
        OWN_SECRETS,
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!db-*",
    ],
}
EXTRA_CONFIGS["broad-deploy-exempt"] = (
    "prod",
    {
        name: {
            "exemptions": [
                {
                    "type": "aws:iam/policy:Policy",
                    "name": case,
                    "reason": "Approved: the pipeline's deploy rights",
                }
                for case in (
                    "iam-ok-deploy-denies-data",
                    "iam-deploy-reads-data",
                    "iam-ok-deploy-reads-own-secrets",
                    *SECRET_CARVE_OUTS,
                )
            ]
        }
        for name in BROAD_DEPLOY_POLICIES
    },
)
DEPLOY_SERVICES = ["ec2:*", "rds:*", "secretsmanager:*", "ssm:*"]
DATA_DENY = {
    "Sid": "DenyReadingOrSharingData",
    "Effect": "Deny",
    "Action": [
        "ec2:ModifySnapshotAttribute",
        "rds:ModifyDBClusterSnapshotAttribute",
        "rds:ModifyDBSnapshotAttribute",
        "secretsmanager:BatchGetSecretValue",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter*",
        "ssm:SendCommand",
        "ssm:StartSession",
    ],
    "Resource": "*",
}
#: The apply role's shape: the data Deny without GetSecretValue, which a Deny of its own
#: refuses on every secret but those in `not_resource`.
DATA_DENY_BUT_SECRETS = {
    **DATA_DENY,
    "Action": [a for a in DATA_DENY["Action"] if a != "secretsmanager:GetSecretValue"],
}


def secret_deny(not_resource: list[str], **extra) -> dict:
    return {
        "Sid": "DenyReadingSecretsTheProgramDoesNotWrite",
        "Effect": "Deny",
        "Action": ["secretsmanager:GetSecretValue"],
        "NotResource": not_resource,
        **extra,
    }


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def policy(body):
    """A standalone identity policy whose document is `body` (an object or raw text)."""

    def build(env, name):
        text = body if isinstance(body, str) else json.dumps(body)
        aws.iam.Policy(name, policy=text, tags=tags(), opts=env.opts())

    return build


def role(trust=None, boundary=BOUNDARY_ARN, inline=None, managed=None):
    def build(env, name):
        return aws.iam.Role(
            name,
            assume_role_policy=trust or service_trust(),
            permissions_boundary=boundary,
            inline_policies=[
                {"name": f"{name}-inline", "policy": json.dumps(d)} for d in inline or []
            ],
            managed_policy_arns=managed,
            tags=tags(),
            opts=env.opts(),
        )

    return build


def attachment(policy_arn):
    def build(env, name):
        target = role()(env, f"{name}-role")
        aws.iam.RolePolicyAttachment(name, role=target.name, policy_arn=policy_arn, opts=env.opts())

    return build


def oidc_trust(conditions: dict, **more: dict) -> str:
    """A web-identity trust: `conditions` under StringEquals, `more` as further operators."""
    return json.dumps(
        document(
            {
                "Effect": "Allow",
                "Principal": {"Federated": OIDC_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": conditions, **more},
            }
        )
    )


def open_trust(condition: dict) -> str:
    """`Principal: {"AWS": "*"}`, left to `condition` to narrow."""
    return json.dumps(
        document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        )
    )


def key(*statements):
    def build(env, name):
        env.kms_key(name, policy=json.dumps(document(*statements)))

    return build


def user_policy(env, name):
    user = aws.iam.User(f"{name}-user", tags=tags(), opts=env.opts())
    aws.iam.UserPolicyAttachment(
        name, user=user.name, policy_arn=f"arn:aws:iam::{ACCOUNT}:policy/reader", opts=env.opts()
    )


def roles_only_attachment(env, name):
    target = role()(env, f"{name}-role")
    aws.iam.PolicyAttachment(
        name,
        roles=[target.name],
        policy_arn=f"arn:aws:iam::{ACCOUNT}:policy/reader",
        opts=env.opts(),
    )


BUCKET_OBJECTS = "arn:aws:s3:::ballast-test-data/*"


def boundary_policy(env, name):
    ceiling = document(
        allow(["ec2:*", "s3:*", "iam:*", "kms:*"], "*"),
        {"Effect": "Deny", "Action": ["iam:DeleteRolePermissionsBoundary"], "Resource": "*"},
    )
    aws.iam.Policy(
        name,
        name="ballast-test-permission-boundary",
        policy=json.dumps(ceiling),
        tags=tags(),
        opts=env.opts(),
    )


CASES = [
    # --- compliant ------------------------------------------------------------------
    Case(
        "iam-ok-policy",
        policy(
            document(
                allow(["s3:GetObject", "s3:PutObject"], BUCKET_OBJECTS),
                allow("ec2:DescribeInstances", "*"),
            )
        ),
        passes=(
            "iam-policy-document-valid",
            "iam-no-admin-wildcard",
            "iam-no-wildcard-actions",
            "iam-scoped-resources",
            "iam-no-allow-not-action",
            "iam-no-allow-not-resource",
            "iam-no-privilege-escalation",
        ),
    ),
    Case(
        "iam-ok-deny-star",
        # A Deny of everything is not a grant.
        policy(
            document(
                allow("s3:GetObject", BUCKET_OBJECTS),
                {"Effect": "Deny", "Action": "*", "Resource": "*"},
            )
        ),
        passes=("iam-no-admin-wildcard", "iam-no-wildcard-actions"),
    ),
    Case(
        "iam-ok-role",
        role(inline=[document(allow("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"))]),
        passes=(
            "iam-trust-no-open-principal",
            "iam-role-permission-boundary",
            "iam-no-admin-managed-policies",
            "iam-boundary-not-attached",
        ),
    ),
    Case(
        "iam-ok-irsa",
        role(
            trust=oidc_trust(
                {
                    f"{OIDC}:sub": "system:serviceaccount:apps:api",
                    f"{OIDC}:aud": "sts.amazonaws.com",
                }
            )
        ),
        passes=("iam-oidc-trust-conditions",),
    ),
    Case(
        "iam-ok-boundary",
        # A boundary is a ceiling: whole services on purpose, plus its denials.
        boundary_policy,
        passes=("iam-no-wildcard-actions", "iam-scoped-resources", "iam-no-privilege-escalation"),
    ),
    Case(
        "iam-ok-attach",
        attachment("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        passes=("iam-no-admin-managed-policies",),
    ),
    Case(
        "iam-ok-passrole",
        policy(
            document(
                allow(
                    "iam:PassRole",
                    ROLE_ARN,
                    Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                )
            )
        ),
        passes=("iam-passrole-requires-approval",),
        config="passrole-approved",
    ),
    Case("iam-ok-group", roles_only_attachment, passes=("iam-no-user-policies",)),
    Case(
        "iam-ok-trust-arn-pattern",
        # A pattern is fine when the account is pinned: any CI role of this account.
        role(trust=open_trust({"ArnLike": {"aws:PrincipalArn": ROLE_ARN + "-ci-*"}})),
        passes=("iam-trust-no-open-principal",),
    ),
    Case(
        "iam-ok-oidc-exclusion",
        # Exact sub and aud; a negated wildcard on top only narrows further.
        role(
            trust=oidc_trust(
                {
                    f"{OIDC}:sub": "system:serviceaccount:apps:api",
                    f"{OIDC}:aud": "sts.amazonaws.com",
                },
                StringNotLike={f"{OIDC}:sub": "system:serviceaccount:kube-*"},
            )
        ),
        passes=("iam-oidc-trust-conditions",),
    ),
    Case(
        "iam-ok-list-queues",
        # AWS documents sqs:ListQueues (and ecr:GetAuthorizationToken) with no resource
        # type: Resource "*" is the only form they take (the pack's iam_actions.tsv).
        policy(document(allow(["sqs:ListQueues", "ecr:GetAuthorizationToken"], "*"))),
        passes=("iam-scoped-resources", "iam-policy-document-valid"),
    ),
    Case(
        "iam-ok-key",
        key(
            root_kms_statement(),
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT,
                        "kms:ViaService": "s3.us-east-1.amazonaws.com",
                    }
                },
            },
        ),
        passes=("resource-policy-no-public-principal", "iam-no-wildcard-actions"),
    ),
    Case(
        "iam-ok-deploy-denies-data",
        # Whole services on "*" (exempted from the wildcard and scoping policies), with
        # an unconditional Deny of the data-exposure actions: what the apply role does.
        policy(document(allow(DEPLOY_SERVICES, "*"), DATA_DENY)),
        passes=("iam-no-data-exposure",),
        config="broad-deploy-exempt",
    ),
    Case(
        "iam-ok-deploy-reads-own-secrets",
        # The apply role's deploy rights, reading back only the secrets the program writes
        # (any region, or one secret of them) in this account.
        policy(
            document(
                allow(DEPLOY_SERVICES, "*"),
                DATA_DENY_BUT_SECRETS,
                secret_deny(
                    [
                        OWN_SECRETS,
                        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ballast-test/grafana/admin-*",
                    ]
                ),
            )
        ),
        passes=("iam-no-data-exposure",),
        config="broad-deploy-exempt",
    ),
    Case(
        "iam-ok-data-scoped",
        # Reading named secrets and parameters is what workloads do; not "*".
        role(
            inline=[
                document(
                    allow(
                        "secretsmanager:GetSecretValue",
                        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-*",
                    ),
                    allow("ssm:GetParameters", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/*"),
                )
            ]
        ),
        passes=("iam-no-data-exposure",),
    ),
    # --- failing --------------------------------------------------------------------
    Case(
        "iam-deploy-reads-data",
        # The same deploy rights without the Deny: its broad-rights exemptions do not
        # silence this policy.
        policy(document(allow(DEPLOY_SERVICES, "*"))),
        fails="iam-no-data-exposure",
        config="broad-deploy-exempt",
    ),
    *(
        Case(
            name,
            # A carve-out broader than this stack's own secrets, in this account.
            policy(
                document(
                    allow(DEPLOY_SERVICES, "*"), DATA_DENY_BUT_SECRETS, secret_deny(not_resource)
                )
            ),
            fails="iam-no-data-exposure",
            config="broad-deploy-exempt",
        )
        for name, not_resource in SECRET_CARVE_OUTS.items()
    ),
    Case(
        "iam-secret-carve-out-conditional",
        # The right carve-out, but its Deny holds only under a condition.
        policy(
            document(
                allow(DEPLOY_SERVICES, "*"),
                DATA_DENY_BUT_SECRETS,
                secret_deny([OWN_SECRETS], Condition={"Bool": {"aws:ViaAWSService": "false"}}),
            )
        ),
        fails="iam-no-data-exposure",
        also=BROAD_DEPLOY_POLICIES,
    ),
    Case(
        "iam-data-wildcard-get",
        # `secretsmanager:Get*` and `ssm:GetParameter*` reach the values too.
        role(inline=[document(allow(["secretsmanager:Get*", "ssm:GetParameter*"], "*"))]),
        fails="iam-no-data-exposure",
        also=("iam-scoped-resources",),
    ),
    Case(
        "iam-data-deny-conditional",
        # A Deny that holds only under a condition does not take the grant away.
        policy(
            document(
                allow(["ssm:SendCommand", "ec2:ModifySnapshotAttribute"], "*"),
                {**DATA_DENY, "Condition": {"Bool": {"aws:ViaAWSService": "false"}}},
            )
        ),
        fails="iam-no-data-exposure",
        also=("iam-scoped-resources",),
    ),
    Case(
        "iam-bad-json",
        policy('{"Version": "2012-10-17", "Statement": ['),
        fails="iam-policy-document-valid",
    ),
    Case(
        "iam-unknown-action",
        # A typo grants nothing, and nobody notices until the workload fails.
        policy(document(allow("sqs:SendMesage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"))),
        fails="iam-policy-document-valid",
    ),
    Case(
        "iam-unknown-deny",
        # A typo in a Deny (or a service prefix AWS does not have) silently denies nothing.
        policy(
            document(
                allow("s3:GetObject", BUCKET_OBJECTS),
                {"Effect": "Deny", "Action": ["s3:DeleteObjekt", "s4:*"], "Resource": "*"},
            )
        ),
        fails="iam-policy-document-valid",
    ),
    Case(
        "iam-describe-scopable",
        # Not every Describe action is account-wide: this one takes instance ARNs.
        policy(document(allow("ec2:DescribeInstanceAttribute", "*"))),
        fails="iam-scoped-resources",
    ),
    Case(
        "iam-star-star",
        policy(document(allow("*", "*"))),
        fails="iam-no-admin-wildcard",
        also=(
            "iam-no-wildcard-actions",
            "iam-scoped-resources",
            "iam-no-privilege-escalation",
            "iam-passrole-requires-approval",
            "iam-no-data-exposure",
        ),
    ),
    Case(
        "iam-inline-star-star",
        # The same grant as a role's inline policy, with Statement as one object.
        role(inline=[{"Version": "2012-10-17", "Statement": allow(["*"], ["*"])}]),
        fails="iam-no-admin-wildcard",
        also=(
            "iam-no-wildcard-actions",
            "iam-scoped-resources",
            "iam-no-privilege-escalation",
            "iam-passrole-requires-approval",
            "iam-no-data-exposure",
        ),
    ),
    Case(
        "iam-service-star",
        policy(document(allow("s3:*", BUCKET_OBJECTS))),
        fails="iam-no-wildcard-actions",
    ),
    Case(
        "iam-key-kms-star",
        # kms:* is exempt for the account root only, not for a role.
        key(
            root_kms_statement(),
            {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:*", "Resource": "*"},
        ),
        fails="iam-no-wildcard-actions",
    ),
    Case(
        "iam-star-resource",
        policy(document(allow("s3:GetObject", "*"))),
        fails="iam-scoped-resources",
    ),
    Case(
        "iam-not-action",
        policy(document({"Effect": "Allow", "NotAction": "iam:*", "Resource": BUCKET_OBJECTS})),
        fails="iam-no-allow-not-action",
    ),
    Case(
        "iam-not-resource",
        policy(
            document(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "NotResource": "arn:aws:s3:::secret/*",
                }
            )
        ),
        fails="iam-no-allow-not-resource",
    ),
    Case(
        "iam-admin-attach",
        attachment("arn:aws:iam::aws:policy/AdministratorAccess"),
        fails="iam-no-admin-managed-policies",
    ),
    Case(
        "iam-power-user-role",
        role(managed=["arn:aws:iam::aws:policy/PowerUserAccess"]),
        fails="iam-no-admin-managed-policies",
    ),
    Case("iam-boundary-attached", attachment(BOUNDARY_ARN), fails="iam-boundary-not-attached"),
    Case(
        "iam-create-policy-version",
        policy(document(allow("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/app"))),
        fails="iam-no-privilege-escalation",
    ),
    Case(
        "iam-shapes",
        # Lower-case element names, Statement as an object, IAM:Put* (any case).
        policy(
            {
                "version": "2012-10-17",
                "statement": {
                    "effect": "allow",
                    "action": "IAM:Put*",
                    "resource": f"arn:aws:iam::{ACCOUNT}:role/*",
                },
            }
        ),
        fails="iam-no-privilege-escalation",
    ),
    Case(
        "iam-passrole-launch",
        policy(
            document(
                allow("iam:PassRole", ROLE_ARN),
                allow("ec2:RunInstances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:*"),
            )
        ),
        fails="iam-no-privilege-escalation",
        also=("iam-passrole-requires-approval",),
    ),
    Case(
        "iam-passrole-unapproved",
        policy(document(allow("iam:PassRole", ROLE_ARN))),
        fails="iam-passrole-requires-approval",
    ),
    Case(
        "iam-passrole-star",
        # Approved in this config, and still refused: PassRole on "*".
        policy(document(allow("iam:PassRole", "*"))),
        fails="iam-passrole-requires-approval",
        also=("iam-scoped-resources",),
        config="passrole-approved",
    ),
    Case(
        "iam-trust-open",
        role(
            trust=json.dumps(
                document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
            )
        ),
        fails="iam-trust-no-open-principal",
    ),
    Case(
        "iam-oidc-no-sub",
        role(trust=oidc_trust({f"{OIDC}:aud": "sts.amazonaws.com"})),
        fails="iam-oidc-trust-conditions",
    ),
    Case(
        "iam-trust-any-account-arn",
        # Looks like "only the ci role", but `*` in the account field is every account.
        role(trust=open_trust({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}})),
        fails="iam-trust-no-open-principal",
    ),
    Case(
        "iam-trust-negated-account",
        # Every account but one.
        role(trust=open_trust({"StringNotEquals": {"aws:PrincipalAccount": "210987654321"}})),
        fails="iam-trust-no-open-principal",
    ),
    Case(
        "iam-trust-org-if-exists",
        # A caller outside any organisation has no aws:PrincipalOrgID: IfExists lets it in.
        role(trust=open_trust({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
        fails="iam-trust-no-open-principal",
    ),
    Case(
        "iam-oidc-any-branch",
        # Any branch (and pull request) of the repository, not the one that deploys.
        role(
            trust=oidc_trust(
                {f"{OIDC}:aud": "sts.amazonaws.com"},
                StringLike={f"{OIDC}:sub": "repo:example-org/app:*"},
            )
        ),
        fails="iam-oidc-trust-conditions",
    ),
    Case(
        "iam-oidc-any-service-account",
        role(
            trust=oidc_trust(
                {f"{OIDC}:aud": "sts.amazonaws.com"},
                StringLike={f"{OIDC}:sub": "system:serviceaccount:*:api"},
            )
        ),
        fails="iam-oidc-trust-conditions",
    ),
    Case(
        "iam-oidc-negated-sub",
        # StringNotEquals pins nothing: every other subject may assume the role.
        role(
            trust=oidc_trust(
                {f"{OIDC}:aud": "sts.amazonaws.com"},
                StringNotEquals={f"{OIDC}:sub": "system:serviceaccount:apps:api"},
            )
        ),
        fails="iam-oidc-trust-conditions",
    ),
    Case(
        "iam-key-any-caller-account",
        key(
            root_kms_statement(),
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringLike": {"kms:CallerAccount": "*"}},
            },
        ),
        fails="resource-policy-no-public-principal",
    ),
    Case("iam-user-policy", user_policy, fails="iam-no-user-policies"),
    Case("iam-no-boundary", role(boundary=None), fails="iam-role-permission-boundary"),
    Case(
        # The security-audit role's read-only boundary is a platform boundary too,
        "iam-ok-audit-boundary",
        role(boundary=f"arn:aws:iam::{ACCOUNT}:policy/ballast-test-audit-permission-boundary"),
        passes=("iam-role-permission-boundary",),
    ),
    Case(
        # but only under the convention's name.
        "iam-audit-boundary-misnamed",
        role(boundary=f"arn:aws:iam::{ACCOUNT}:policy/ballast-test-audit-boundary"),
        fails="iam-role-permission-boundary",
    ),
    Case(
        "iam-wrong-boundary",
        role(boundary=f"arn:aws:iam::{ACCOUNT}:policy/anything-goes"),
        fails="iam-role-permission-boundary",
    ),
    Case(
        "iam-key-public",
        key(
            root_kms_statement(),
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        ),
        fails="resource-policy-no-public-principal",
    ),
    Case("iam-user-access-key", access_key, fails="iam-no-user-access-keys"),
    *(
        Case(name, access_key, passes=("iam-no-user-access-keys",), config="access-key-exempt")
        for name in ("iam-ok-key-exempt", "iam-ok-key-test-placeholder", "iam-ok-key-by-urn")
    ),
    *(
        Case(name, access_key, fails="iam-no-user-access-keys", config="access-key-exempt")
        for name in ("iam-key-wrong-type", "iam-key-other-stack", "iam-key-partial-name")
    ),
    # --- resource policies declared on the resource itself --------------------------
    Case(
        "rp-ok-queue-org",
        inline_policy("queue", {**PUBLIC_READ, "Condition": ORG_ONLY}),
        passes=("resource-policy-no-public-principal",),
    ),
    Case(
        "rp-ok-lambda-source",
        lambda_permission(source_arn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/*"),
        passes=("resource-policy-no-public-principal",),
    ),
    Case(
        "rp-queue-public",
        inline_policy("queue", PUBLIC_READ),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        "rp-topic-public",
        inline_policy("topic", PUBLIC_READ),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        "rp-secret-public",
        inline_policy("secret", {**PUBLIC_READ, "Principal": {"AWS": "*"}}),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        "rp-ecr-template-public",
        inline_policy("ecr-template", PUBLIC_READ),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        "rp-opensearch-public",
        inline_policy("opensearch", PUBLIC_READ),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        "rp-lambda-public",
        lambda_permission(),
        fails="resource-policy-no-public-principal",
    ),
    Case(
        # A source ARN in any account is no restriction.
        "rp-lambda-any-account",
        lambda_permission(source_arn="arn:aws:execute-api:us-east-1:*:abc123/*"),
        fails="resource-policy-no-public-principal",
    ),
]
