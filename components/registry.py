"""`Registry`: the ECR repositories an environment's images are pushed to, and the role
that pushes to each (docs/delivery.md).

Per service in the settings:

- an ECR repository `<namePrefix>-<stack>/<service>` with immutable tags (a Git SHA tag
  names one image for ever: what was reviewed and signed is what runs), scan on push,
  encryption with the registry's KMS key, and a lifecycle policy (untagged images expire
  after `untaggedExpireDays`; of the tagged, the newest `keepImages` stay). Repositories
  hold state: protected where the context protects (prod), and never force-deleted;
- a push role from the platform's `RoleFactory` (so it carries the permission boundary),
  trusted only by GitHub OIDC tokens of `repo:<org>/<repo>:environment:<pushEnvironment>`,
  allowed to push to and read its own repository and nothing else (plus
  `ecr:GetAuthorizationToken`, which has no resource-level permissions).

One rotating KMS key encrypts every repository of the registry (ECR uses it through a
grant it creates with the repository); the account administers it through IAM, as every
platform key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.config import RegistryConfig
from components.context import AwsContext
from components.iam import RoleFactory, Trust
from components.iam.actions import GITHUB_OIDC_URL
from components.iam.trusts import github_subject
from components.kms import rotating_key

#: What pushing an image (and cosign's signature and attestation, which are images too)
#: needs on the repository: the layer upload API, PutImage, and the reads that a push
#: and `cosign sign`/`attest` make of existing manifests.
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
#: The registry login: account-wide, no resource-level permissions.
LOGIN_ACTION = "ecr:GetAuthorizationToken"


def lifecycle_policy(*, untagged_expire_days: int, keep_images: int) -> str:
    """The lifecycle policy: untagged images expire after `untagged_expire_days`; of the
    rest, the newest `keep_images` are kept (rule priority: untagged first)."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Untagged images expire after {untagged_expire_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expire_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the newest {keep_images} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        indent=None,
        sort_keys=True,
    )


@dataclass(kw_only=True)
class RegistryArgs:
    """Inputs of `Registry`."""

    context: AwsContext
    """Region, account, tags and protection (required): the repositories live in the
    context's region, and `protect` covers them and their key."""

    roles: RoleFactory
    """The platform's role factory (required): the push roles carry the boundary."""

    settings: RegistryConfig
    """The validated `ballast:registry` section (docs/configuration.md)."""

    services: Sequence[str]
    """The services that get a repository (required, non-empty): `settings.repositories`,
    or every service of the stack."""

    repository: str
    """The GitHub repository whose workflows push, as 'org/repo' (required;
    `ballast:ci.repository`)."""

    push_environment: str
    """The GitHub environment whose jobs may assume the push roles (required)."""

    github_oidc_provider_arn: pulumi.Input[str]
    """The account's GitHub Actions OIDC provider (required; `Identity` creates it)."""


class Registry(pulumi.ComponentResource):
    """ECR repositories and their push roles; see the module docstring.

    Outputs: `repository_urls` and `push_role_arns`, each service -> value.
    """

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {
        "registryRepositoryUrls": "repository_urls",
        "registryPushRoleArns": "push_role_arns",
    }

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ballast:components:Registry", name, None, opts)
        if not args.services:
            raise ValueError("a registry needs at least one service")
        ctx, settings = args.context, args.settings
        key = rotating_key(
            name,
            parent=self,
            description=f"Encrypts the images of the {name} ECR repositories",
            partition=ctx.partition,
            account_id=ctx.account_id,
            tags=ctx.tags_for(name),
            protect=ctx.protect,
        )
        policy = lifecycle_policy(
            untagged_expire_days=settings.untagged_expire_days,
            keep_images=settings.keep_images,
        )
        urls: dict[str, pulumi.Output[str]] = {}
        role_arns: dict[str, pulumi.Output[str]] = {}
        for service in args.services:
            resource = f"{name}-{service}"
            repository = aws.ecr.Repository(
                resource,
                name=f"{ctx.names.base}/{service}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=key.arn
                    )
                ],
                force_delete=False,
                tags=ctx.tags_for(resource, service=service),
                opts=ctx.opts(self, stateful=True),
            )
            aws.ecr.LifecyclePolicy(
                resource, repository=repository.name, policy=policy, opts=ctx.opts(self)
            )
            role = args.roles.role(
                f"{resource}-push",
                parent=self,
                description=f"Pushes and signs the images of {service} (GitHub OIDC)",
                trust=[
                    Trust.web_identity(
                        provider_arn=args.github_oidc_provider_arn,
                        issuer=GITHUB_OIDC_URL,
                        subject=github_subject(args.repository, args.push_environment),
                    )
                ],
                inline_policies={"push": push_policy(repository.arn)},
                tags=ctx.tags_for(service=service),
            )
            urls[service] = repository.repository_url
            role_arns[service] = role.arn

        self.repository_urls: pulumi.Output[dict[str, str]] = pulumi.Output.all(**urls)
        self.push_role_arns: pulumi.Output[dict[str, str]] = pulumi.Output.all(**role_arns)
        self.register_outputs(
            {"repositoryUrls": self.repository_urls, "pushRoleArns": self.push_role_arns}
        )


def push_policy(repository_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """The push role's only policy: log in, then push to and read one repository."""
    document: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LogInToTheRegistry",
                "Effect": "Allow",
                "Action": LOGIN_ACTION,
                "Resource": "*",
            },
            {
                "Sid": "PushToThisRepositoryOnly",
                "Effect": "Allow",
                "Action": list(PUSH_ACTIONS),
                "Resource": repository_arn,
            },
        ],
    }
    return pulumi.Output.json_dumps(document)
