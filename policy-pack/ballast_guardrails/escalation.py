"""The IAM actions that let a principal raise its own privileges, for
`iam-no-privilege-escalation` and for `ballast audit` (`ballast/audit/checks.py`), which
loads this module by its path: it imports nothing but the standard library, so reading
it costs neither pulumi-policy nor the rest of the pack.
"""

from __future__ import annotations

from typing import Final

#: Single actions that let a principal raise its own privileges (Rhino Security Labs'
#: IAM escalation methods; Checkov CKV_AWS_110).
ESCALATION_ACTIONS: Final = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
)
PASS_ROLE: Final = "iam:PassRole"
#: With PassRole, these launch compute that runs as the passed role.
PASS_ROLE_LAUNCHERS: Final = ("ec2:RunInstances", "lambda:CreateFunction")
