"""The pack's copies of the names other Ballast code also spells: tag keys, their fixed
vocabularies, the environments, the config key of the name prefix and how the permission
boundary's name ends.

The pack cannot import `components` (the CLI runs it from `policy-pack/` with only
pulumi-policy installed), so it keeps these copies in this one module, and
`tests/policy/test_tag_contract.py` ties each one to `components/tags.py` or
`components/config/`. Policies spell none of these strings themselves.
"""

from __future__ import annotations

from typing import Final

#: The environments a stack can be, from least to most strict; each has a generated
#: `config/<env>.json`. (components/config/base.py ENVIRONMENTS)
ENVIRONMENTS: Final = ("dev", "staging", "prod")
#: Recovery tiers, the vocabulary of the `tier` tag. (components/config/base.py TIERS)
TIERS: Final = ("tier-1", "tier-2", "tier-3")

# --- Tag keys (components/tags.py) ------------------------------------------------------

ENVIRONMENT_TAG: Final = "environment"
OWNER_TAG: Final = "owner"
SERVICE_TAG: Final = "service"
TIER_TAG: Final = "tier"
#: What `required-tags` asks of every taggable resource by default.
REQUIRED_TAG_KEYS: Final = (ENVIRONMENT_TAG, OWNER_TAG, SERVICE_TAG, TIER_TAG)
#: Tags with a fixed vocabulary: what `tag-values-allowed` accepts by default.
ALLOWED_TAG_VALUES: Final = {ENVIRONMENT_TAG: ENVIRONMENTS, TIER_TAG: TIERS}
#: The node-group tag that makes per-zone groups (components/cluster/nodes.py `perAz`) one set
#: for `eks-nodegroup-multi-az`; its value names the set (unique per cluster).
NODE_GROUP_SET_TAG: Final = "ballast.io/node-group-set"
#: The workload tier label of namespaces and pods (components/tags.py TIER_LABEL);
#: `tier1-slo-burn-alerts` finds the tier-1 namespaces by it.
TIER_LABEL: Final = "ballast.io/tier"

# --- Resource names -------------------------------------------------------------------

#: The stack setting every physical name starts with (then `-<stack>`); unset, the
#: project name stands in (components/config/platform.py `name_prefix`). `naming` reads it.
NAME_PREFIX_KEY: Final = "ballast:namePrefix"
#: How a stack's permission boundary policy names end, after `<namePrefix>-<stack>`
#: (components/names.py `PhysicalNames.boundary_policy`).
BOUNDARY_SUFFIX: Final = "-permission-boundary"

# --- IAM action catalogues -------------------------------------------------------------

#: Actions that read or hand out data without changing any resource: secret values and
#: parameters, sharing snapshots with other accounts, commands and sessions on nodes.
#: `iam-no-data-exposure` refuses them on every resource; the CI apply role's deploy
#: policy denies them (GetSecretValue except on the secrets the program writes).
#: (components/iam/actions.py DATA_EXPOSURE_ACTIONS)
DATA_EXPOSURE_ACTIONS: Final = (
    "ec2:ModifySnapshotAttribute",
    "rds:ModifyDBClusterSnapshotAttribute",
    "rds:ModifyDBSnapshotAttribute",
    "secretsmanager:BatchGetSecretValue",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameterHistory",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:SendCommand",
    "ssm:StartSession",
)

# --- Pack-only names (no Ballast component sets them) -----------------------------------

#: The one public bucket allowed: tagged `public-access=testing`, and only where the stack's
#: config allows testing buckets (`s3-public-bucket-exception`).
PUBLIC_ACCESS_TAG: Final = "public-access"
PUBLIC_ACCESS_TESTING: Final = "testing"
