"""`Identity`: the permission boundary, the role factory, and the roles people and CI use.

Every IAM role Ballast creates is made by one `RoleFactory`, which always attaches the
stack's permission boundary (`<namePrefix>-<stack>-permission-boundary`, e.g.
`ballast-dev-permission-boundary`) and names the role `<namePrefix>-<stack>-...`
(`components.names`). The boundary is the ceiling of what any platform role can ever
do, whatever policies are attached to it later:

- it allows only the AWS services the platform uses (`BOUNDARY_SERVICES`, widened per
  stack with `ballast:boundary.extraServices`, a reviewed change);
- it denies IAM user and access-key management, disabling or blinding CloudTrail,
  GuardDuty and Config, deleting the audit trail's evidence or opening its keys
  (`kms:CreateGrant`, `kms:PutKeyPolicy`, re-tagging), leaving the organisation,
  acting on (or tagging into) another environment's resources, creating a role without
  this boundary, removing or editing the boundary (only the CI apply role may edit it,
  i.e. only through the reviewed pipeline), passing roles that are not this
  stack's platform roles, and any regional action outside the platform's regions.

The security-audit role alone carries a second, read-only boundary
(`<namePrefix>-<stack>-audit-permission-boundary`): the read actions of `AUDIT_READ_SERVICES`
in every region (an intruder's Lambda in an unused region is what it must see), decrypting
only with the audit evidence keys, and no secret values, parameter values or object
contents outside the audit trail's buckets. The main boundary refuses that boundary to
any other role and lets no one but the pipeline edit either.

Trust policies are built only from `Trust` statements, which refuse `*` principals, scope
every service principal to this account (confused-deputy guard) and give every web
identity trust exact `sub` and `aud` conditions.

Keyless CI: a GitHub Actions OIDC provider and two roles per environment, trusted only for
`repo:<org>/<repo>:environment:<env>`: `ci-plan` (read-only, plus this stack's state and
lock) and `ci-apply` (the platform's services, IAM only under this stack's names). Neither
reads a secret value except those of the secrets the program writes
(`PhysicalNames.secret_prefix`), which the provider reads back after writing and on refresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import BoundaryConfig, CiConfig
from components.context import NO_REGION, AwsContext
from components.iam import (
    BOUNDARY_SERVICES,
    DEPLOY_SERVICES,
    GITHUB_OIDC_URL,
    INLINE_POLICY_MAX_CHARS,
    MANAGED_POLICY_MAX_CHARS,
    NAME_SCOPED_SERVICES,
    STS_AUDIENCE,
    BoundaryInputs,
    RoleFactory,
    StateAccess,
    Trust,
    apply_policy_document,
    audit_boundary_document,
    boundary_document,
    check_fits,
    github_subject,
    physical_role_name,
    plan_policy_document,
)


@dataclass(kw_only=True)
class IdentityArgs:
    """Inputs of `Identity`."""

    context: AwsContext
    """Environment, names, account, partition and tags (required): the stack's names
    (`context.names`) prefix every role and name the boundary."""

    regions: Sequence[str]
    """The platform's regions (required): the boundary denies regional actions elsewhere.
    A region added later must be added here first, or its deployment is refused."""

    boundary: BoundaryConfig
    """The validated `ballast:boundary` section: services allowed on top of
    `BOUNDARY_SERVICES`. Each one widens what every platform role could ever do."""

    ci: CiConfig | None
    """The validated `ballast:ci` section (None: no OIDC provider and no CI roles;
    pipelines would then need other credentials, which the boundary's user/key deny makes
    awkward on purpose)."""

    state_project: str
    """Pulumi project name in the DIY state paths the CI roles may reach (required)."""

    state_stack: str
    """Stack name in those paths (required): the CI roles reach this stack's state only."""

    security_principal_arns: Sequence[str] = ()
    """Who may assume the security-audit role, the only role that can read the audit
    trail (default: principals of this account signed in with MFA)."""


class Identity(pulumi.ComponentResource):
    """The boundary, the role factory, the security-audit role and the CI roles.

    Outputs: `boundary_arn`, `boundary_name`, `audit_boundary_arn`, `audit_boundary_name`,
    `roles` (the `RoleFactory` every later
    component takes), `security_role_arn`, `security_role_name`, `github_oidc_provider_arn`,
    `ci_plan_role_arn`, `ci_apply_role_arn` (None without `ci`), `audit_bucket_prefix`,
    `account_id`, `partition`.
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "permissionBoundaryArn": "boundary_arn",
        "securityAuditRoleArn": "security_role_arn",
        "githubOidcProviderArn": "github_oidc_provider_arn",
        "ciPlanRoleArn": "ci_plan_role_arn",
        "ciApplyRoleArn": "ci_apply_role_arn",
    }

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Identity", name, None, opts)
        self._name = name
        ctx = args.context
        env = ctx.environment
        tags = ctx.tags_for()
        self.account_id: pulumi.Output[str] = ctx.account_id
        self.partition: pulumi.Output[str] = ctx.partition
        names = ctx.names
        self.audit_bucket_prefix = names.audit_bucket_prefix
        self.boundary_name = names.boundary_policy
        self.audit_boundary_name = names.audit_boundary_policy

        apply_name = f"{name}-ci-apply"
        security_name = f"{name}-security-audit"
        extra_services = args.boundary.extra_services
        services = tuple(sorted({*BOUNDARY_SERVICES, *extra_services}))

        def arn_of(path: str) -> pulumi.Output[str]:
            return ctx.arn(service="iam", region=NO_REGION, resource=path)

        boundary_arn = arn_of(f"policy/{self.boundary_name}")
        audit_boundary_arn = arn_of(f"policy/{self.audit_boundary_name}")
        apply_arn = (
            arn_of(f"role/{physical_role_name(names.role_prefix, apply_name)}") if args.ci else None
        )
        security_arn = arn_of(f"role/{physical_role_name(names.role_prefix, security_name)}")

        def render_boundary(values: list[Any]) -> str:
            partition, account, own_arn, apply_role, security_role, audit_boundary = values
            document = boundary_document(
                BoundaryInputs(
                    environment=env,
                    role_prefix=names.role_prefix,
                    partition=partition,
                    account_id=account,
                    regions=tuple(args.regions),
                    services=services,
                    boundary_arn=own_arn,
                    apply_role_arn=apply_role,
                    security_role_arn=security_role,
                    audit_bucket_prefix=self.audit_bucket_prefix,
                    audit_boundary_arn=audit_boundary,
                )
            )
            check_fits(document, MANAGED_POLICY_MAX_CHARS, self.boundary_name)
            return json.dumps(document)

        boundary = aws.iam.Policy(
            f"{name}-permission-boundary",
            name=self.boundary_name,
            description=(
                f"Ballast {env}: the most any platform role may do. Widen it only through "
                "a reviewed change to ballast:boundary."
            ),
            policy=pulumi.Output.all(
                self.partition, self.account_id, boundary_arn, apply_arn, security_arn,
                audit_boundary_arn,
            ).apply(render_boundary),
            tags={**tags, "Name": self.boundary_name},
            opts=pulumi.ResourceOptions(parent=self),
        )  # fmt: skip
        self.boundary_arn: pulumi.Output[str] = boundary.arn
        self.roles = RoleFactory(
            role_prefix=names.role_prefix, boundary_arn=boundary.arn, tags=tags
        )

        def render_audit_boundary(partition: str) -> str:
            document = audit_boundary_document(
                partition=partition, audit_bucket_prefix=self.audit_bucket_prefix
            )
            check_fits(document, MANAGED_POLICY_MAX_CHARS, self.audit_boundary_name)
            return json.dumps(document)

        audit_boundary = aws.iam.Policy(
            f"{name}-audit-permission-boundary",
            name=self.audit_boundary_name,
            description=(
                f"Ballast {env}: the most the security-audit role may do: read configuration "
                "in every region, decrypt only the audit trail, read no secrets or data."
            ),
            policy=self.partition.apply(render_audit_boundary),
            tags={**tags, "Name": self.audit_boundary_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.audit_boundary_arn: pulumi.Output[str] = audit_boundary.arn

        # The only principal the audit trail's keys let decrypt to read (S3 replication
        # decrypts only to copy, through S3).
        root = arn_of("root")
        trusted = list(args.security_principal_arns)
        security = self.roles.role(
            security_name,
            parent=self,
            trust=[
                Trust.principals(trusted) if trusted else Trust.principals([root], require_mfa=True)
            ],
            description=f"Ballast {env}: security team's read-only audit role; decrypts the trail",
            # Every region, read only: its own boundary instead of the platform's.
            permissions_boundary=audit_boundary.arn,
            managed_policy_arns=[
                ctx.managed_policy_arn("SecurityAudit")
            ],
        )  # fmt: skip
        self.security_role_arn: pulumi.Output[str] = security.arn
        self.security_role_name: pulumi.Output[str] = security.name

        self.github_oidc_provider_arn: pulumi.Output[str] | None = None
        self.ci_plan_role_arn: pulumi.Output[str] | None = None
        self.ci_apply_role_arn: pulumi.Output[str] | None = None
        if args.ci:
            deploy = tuple(sorted({*DEPLOY_SERVICES, *NAME_SCOPED_SERVICES, *extra_services}))
            self._ci(args, args.ci, deploy, apply_name)

        self.register_outputs(
            {
                "boundaryArn": self.boundary_arn,
                "securityRoleArn": self.security_role_arn,
                "githubOidcProviderArn": self.github_oidc_provider_arn,
                "ciPlanRoleArn": self.ci_plan_role_arn,
                "ciApplyRoleArn": self.ci_apply_role_arn,
            }
        )

    def _ci(
        self,
        args: IdentityArgs,
        github: CiConfig,
        services: Sequence[str],
        apply_name: str,
    ) -> None:
        name, env = self._name, args.context.environment
        environment = github.environment or env
        plan_environment = github.plan_environment or environment
        if github.oidc_provider_arn:
            provider_arn: pulumi.Output[str] = pulumi.Output.from_input(github.oidc_provider_arn)
        else:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github",
                url=GITHUB_OIDC_URL,
                # AWS trusts GitHub's certificate through its own CA store: no thumbprint.
                client_id_lists=[STS_AUDIENCE],
                tags=args.context.tags_for(f"{name}-github"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            provider_arn = provider.arn
        self.github_oidc_provider_arn = provider_arn

        def state_of(partition: str) -> StateAccess | None:
            if not github.state_bucket:
                return None
            return StateAccess(partition, github.state_bucket, args.state_project, args.state_stack)

        def render(build: Callable[[str, str], dict[str, Any]], label: str):
            def run(values: list[Any]) -> str:
                document = build(*values)
                check_fits(document, INLINE_POLICY_MAX_CHARS, label)
                return json.dumps(document)

            return pulumi.Output.all(self.partition, self.account_id).apply(run)

        plan = self.roles.role(
            f"{name}-ci-plan",
            parent=self,
            trust=[
                Trust.web_identity(
                    provider_arn=provider_arn,
                    issuer=GITHUB_OIDC_URL,
                    subject=github_subject(github.repository, plan_environment),
                )
            ],
            description=f"Ballast {env}: pulumi preview and drift checks from GitHub Actions",
            managed_policy_arns=[args.context.managed_policy_arn("ReadOnlyAccess")],
            inline_policies={
                "state-and-no-data": render(
                    lambda p, a: plan_policy_document(
                        partition=p,
                        account_id=a,
                        secret_prefix=args.context.names.secret_prefix,
                        state=state_of(p),
                        secrets_key_arn=github.secrets_key_arn,
                    ),
                    f"{name}-ci-plan",
                )
            },
        )
        apply = self.roles.role(
            apply_name,
            parent=self,
            trust=[
                Trust.web_identity(
                    provider_arn=provider_arn,
                    issuer=GITHUB_OIDC_URL,
                    subject=github_subject(github.repository, environment),
                )
            ],
            description=f"Ballast {env}: pulumi up from GitHub Actions (the reviewed pipeline)",
            # Creating a cluster and a database in one run can pass an hour.
            max_session_duration=7200,
            inline_policies={
                "deploy": render(
                    lambda p, a: apply_policy_document(
                        role_prefix=args.context.names.role_prefix,
                        secret_prefix=args.context.names.secret_prefix,
                        partition=p,
                        account_id=a,
                        services=services,
                        state=state_of(p),
                        secrets_key_arn=github.secrets_key_arn,
                    ),
                    apply_name,
                )
            },
        )
        self.ci_plan_role_arn = plan.arn
        self.ci_apply_role_arn = apply.arn
