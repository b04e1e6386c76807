"""`CiRunner`: the in-VPC CI runner, a CodeBuild-hosted GitHub Actions runner in the
private subnets (docs/runner.md: why CodeBuild rather than a runner on the cluster).

What it creates:

- a security group with no ingress and one egress rule, HTTPS anywhere (GitHub, the AWS
  APIs and the cluster's private endpoint are all HTTPS);
- the CodeConnections connection to GitHub, unless an existing one is named
  (`connection_arn`); a new connection is PENDING until someone completes the GitHub App
  handshake in the console, once;
- a KMS-encrypted CloudWatch log group for the jobs' logs, with its own rotating key;
- the job role, from the platform's `RoleFactory` (so it carries the permission
  boundary), trusted only by CodeBuild for this project of this account; it may write its
  log group, manage the network interfaces CodeBuild documents for a VPC build (in the
  given subnets only) and read the connection's token. Nothing else: no IAM, no
  `sts:AssumeRole`. A job gets its deploy rights by assuming the environment's CI role
  through GitHub OIDC, exactly as on a GitHub-hosted runner;
- the CodeBuild project (source: the repository through the connection; no artifacts;
  the pinned curated image; the VPC config) and its webhook, which starts one ephemeral
  build for each queued workflow job (`WORKFLOW_JOB_QUEUED`).

No `aws.codebuild.SourceCredential`: that is one credential per server type for the whole
account and region, and would replace the GitHub credential of every other project; the
connection is named on the project's source instead (a source-level credential).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import RunnerConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust
from components.log_groups import encrypted_log_group
from components.versions import RUNNER_IMAGE

#: CodeBuild's service principal: the only principal the job role trusts.
CODEBUILD_SERVICE = "codebuild.amazonaws.com"
#: The webhook event of a queued GitHub Actions job (GitHub and GitHub Enterprise only).
WORKFLOW_JOB_QUEUED = "WORKFLOW_JOB_QUEUED"
HTTPS_PORT = 443
#: Days the jobs' logs are kept: long enough to read back a failed deploy after a
#: holiday, short enough that logs of old runs (which may echo plan output) expire.
LOG_RETENTION_DAYS = 90
#: A CodeConnections connection name is at most 32 characters.
CONNECTION_NAME_MAX = 32
#: CodeBuild project names: letters, digits, '-' and '_', 2 to 150 characters.
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,149}$")
#: The service prefix of a connection ARN (`codeconnections` or `codestar-connections`):
#: IAM matches an action's prefix to the ARN's.
_CONNECTION_PREFIX = re.compile(r"^arn:[^:]+:(codeconnections|codestar-connections):")


def runner_label(project_name: str) -> str:
    """The `runs-on` prefix of a job for this runner; a workflow appends
    `-${{ github.run_id }}-${{ github.run_attempt }}` so each job gets its own build."""
    return f"codebuild-{project_name}"


def connection_service(connection_arn: str) -> str:
    """`codeconnections` or `codestar-connections`: the prefix of the connection's ARN."""
    match = _CONNECTION_PREFIX.match(connection_arn)
    if match is None:
        raise ValueError(f"{connection_arn!r} is not a CodeConnections connection ARN")
    return match.group(1)


@dataclass(kw_only=True)
class CiRunnerArgs:
    """Inputs of `CiRunner`."""

    context: AwsContext
    """Region, account, tags and protection (required): every child is created in the
    context's region, and `protect` covers the log group and its key."""

    roles: RoleFactory
    """The platform's role factory (required): the job role is created through it, so it
    carries the environment's permission boundary."""

    settings: RunnerConfig
    """The validated `ballast:runner` section: compute type, an existing connection, the
    build timeout and concurrency. Defaults and trade-offs are documented there
    (docs/configuration.md)."""

    repository: str
    """The GitHub repository whose workflow jobs run here, as 'org/repo' (required; the
    `ballast:ci.repository` the CI roles trust). The webhook fires only for its jobs."""

    vpc_id: pulumi.Input[str]
    """The VPC the jobs run in (required)."""

    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The private subnets the jobs run in (required; CodeBuild accepts at most 16).
    Private subnets with a NAT route, so jobs reach GitHub; the job role may create network
    interfaces in these subnets and no others."""


class CiRunner(pulumi.ComponentResource):
    """A CodeBuild-hosted GitHub Actions runner inside the VPC; see the module docstring.

    Outputs: `project_name`, `label` (the `runs-on` prefix), `role_arn`, `connection_arn`,
    `security_group_id` (for the cluster's endpoint ingress), `log_group_name`.
    """

    #: Stack outputs (export name -> attribute); `__main__.py` exports them.
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "runnerProjectName": "project_name",
        "runnerLabel": "label",
        "runnerRoleArn": "role_arn",
        "runnerConnectionArn": "connection_arn",
        "runnerSecurityGroupId": "security_group_id",
    }

    def __init__(
        self, name: str, args: CiRunnerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:CiRunner", name, None, opts)
        if not _PROJECT_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} cannot name a CodeBuild project: 2-150 letters, digits, '-' or '_'"
            )
        if len(name) > CONNECTION_NAME_MAX:
            raise ValueError(
                f"{name!r} cannot name a CodeConnections connection: at most "
                f"{CONNECTION_NAME_MAX} characters"
            )
        self._name, self._args, self._ctx = name, args, args.context
        ctx, settings = args.context, args.settings
        child = ctx.opts(self)

        group = aws.ec2.SecurityGroup(
            name,
            vpc_id=args.vpc_id,
            description=f"CI jobs of {name}: no ingress, HTTPS out",
            tags=ctx.tags_for(name),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https",
            security_group_id=group.id,
            description="HTTPS to GitHub, the AWS APIs and the cluster endpoint",
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            tags=ctx.tags_for(f"{name}-https"),
            opts=child,
        )

        connection_arn: pulumi.Output[str]
        if settings.connection_arn:
            connection_arn = pulumi.Output.from_input(settings.connection_arn)
            service = connection_service(settings.connection_arn)
        else:
            connection = aws.codeconnections.Connection(
                name,
                name=name,
                provider_type="GitHub",
                tags=ctx.tags_for(name),
                opts=child,
            )
            connection_arn, service = connection.arn, "codeconnections"

        log_group = self._log_group()
        project_arn = ctx.arn(service="codebuild", resource=f"project/{name}")
        role = args.roles.role(
            f"{name}-codebuild",
            parent=self,
            description=f"Runs the CI jobs of {name} (CodeBuild); deploys nothing itself",
            # Confused-deputy guard: CodeBuild, for this project of this account only.
            trust=[
                Trust.service(
                    CODEBUILD_SERVICE, source_account=ctx.account_id, source_arn=project_arn
                )
            ],
            inline_policies={
                "run-jobs": self._job_policy(group.id, log_group.arn, connection_arn, service)
            },
            tags=ctx.tags_for(),
        )

        project = aws.codebuild.Project(
            name,
            name=name,
            description=f"GitHub Actions runner in the VPC for {args.repository}",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{args.repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(
                    type="CODECONNECTIONS", resource=connection_arn
                ),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                compute_type=settings.compute_type,
                image=RUNNER_IMAGE,
                type="LINUX_CONTAINER",
                # Curated images are pulled with CodeBuild's own credentials.
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=[group.id]
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            build_timeout=settings.build_timeout_minutes,
            concurrent_build_limit=settings.concurrent_build_limit,
            tags=ctx.tags_for(name),
            opts=child,
        )
        aws.codebuild.Webhook(
            name,
            project_name=project.name,
            build_type="BUILD",
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[
                        aws.codebuild.WebhookFilterGroupFilterArgs(
                            type="EVENT", pattern=WORKFLOW_JOB_QUEUED
                        )
                    ]
                )
            ],
            opts=child,
        )

        self.project_name: pulumi.Output[str] = project.name
        self.label: pulumi.Output[str] = project.name.apply(runner_label)
        self.role_arn: pulumi.Output[str] = role.arn
        self.connection_arn: pulumi.Output[str] = connection_arn
        self.security_group_id: pulumi.Output[str] = group.id
        self.log_group_name: pulumi.Output[str] = log_group.name
        self.register_outputs(
            {
                "projectName": self.project_name,
                "label": self.label,
                "roleArn": self.role_arn,
                "connectionArn": self.connection_arn,
                "securityGroupId": self.security_group_id,
                "logGroupName": self.log_group_name,
            }
        )

    # --- pieces ---------------------------------------------------------------------

    def _log_group(self) -> aws.cloudwatch.LogGroup:
        """The jobs' log group, encrypted with a key only CloudWatch Logs may use for it."""
        name = self._name
        _, group = encrypted_log_group(
            self._ctx,
            self,
            key_resource=f"{name}-logs",
            key_description=f"Encrypts the CI job logs of {name}",
            group_resource=f"{name}-logs",
            group_name=self._ctx.names.log_group(name, "jobs"),
            retention_days=LOG_RETENTION_DAYS,
        )
        return group

    def _job_policy(
        self,
        security_group_id: pulumi.Output[str],
        log_group_arn: pulumi.Output[str],
        connection_arn: pulumi.Output[str],
        service: str,
    ) -> pulumi.Output[str]:
        """The job role's only policy: the log group, the VPC network interfaces CodeBuild
        documents for a VPC build (scoped to the given subnets and CodeBuild), and the
        connection's token."""
        ctx = self._ctx

        def ec2_arns(values: list[Any]) -> dict[str, Any]:
            partition, account, subnet_ids, group_id = values
            base = f"arn:{partition}:ec2:{ctx.region}:{account}"
            return {
                "interfaces": f"{base}:network-interface/*",
                "subnets": [f"{base}:subnet/{subnet}" for subnet in subnet_ids],
                "group": f"{base}:security-group/{group_id}",
            }

        ec2 = pulumi.Output.all(
            ctx.partition, ctx.account_id, self._args.subnet_ids, security_group_id
        ).apply(ec2_arns)
        return pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WriteThisLogGroupOnly",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": [log_group_arn, pulumi.Output.format("{0}:*", log_group_arn)],
                    },
                    {
                        # Each resource of CreateNetworkInterface is authorised: the
                        # interface, its subnet and its security group. Naming the subnets
                        # keeps the job's interfaces in them.
                        "Sid": "CreateInterfacesInTheRunnerSubnetsOnly",
                        "Effect": "Allow",
                        "Action": "ec2:CreateNetworkInterface",
                        "Resource": ec2.apply(
                            lambda a: [a["interfaces"], *a["subnets"], a["group"]]
                        ),
                    },
                    {
                        "Sid": "LetCodeBuildAttachThemInTheRunnerSubnetsOnly",
                        "Effect": "Allow",
                        "Action": "ec2:CreateNetworkInterfacePermission",
                        "Resource": ec2.apply(lambda a: a["interfaces"]),
                        "Condition": {
                            "ArnEquals": {"ec2:Subnet": ec2.apply(lambda a: a["subnets"])},
                            "StringEquals": {"ec2:AuthorizedService": CODEBUILD_SERVICE},
                        },
                    },
                    {
                        "Sid": "RemoveTheInterfacesAfterTheJob",
                        "Effect": "Allow",
                        "Action": "ec2:DeleteNetworkInterface",
                        "Resource": ec2.apply(lambda a: a["interfaces"]),
                    },
                    {
                        # Describe calls support no resource ARNs.
                        "Sid": "DescribeTheNetwork",
                        "Effect": "Allow",
                        "Action": [
                            "ec2:DescribeDhcpOptions",
                            "ec2:DescribeNetworkInterfaces",
                            "ec2:DescribeSecurityGroups",
                            "ec2:DescribeSubnets",
                            "ec2:DescribeVpcs",
                        ],
                        "Resource": "*",
                    },
                    {
                        "Sid": "ReadTheGitHubConnectionToken",
                        "Effect": "Allow",
                        "Action": [f"{service}:GetConnection", f"{service}:GetConnectionToken"],
                        "Resource": connection_arn,
                    },
                ],
            }
        )
