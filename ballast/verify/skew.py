"""Provider version skew: arguments pulumi-aws 7.x has (it is generated from the
Terraform AWS provider 6.x) that the 5.x provider in the local mirror does not.

The converter drops exactly these, each with a note in the report; any other argument
the schema does not know is passed through, so `terraform validate` names it.
"""

from __future__ import annotations

#: The provider major version the table describes the difference from.
MIRROR_MAJOR = 5
#: (Terraform resource type or "*", argument) -> why it is dropped.
V6_ONLY: dict[tuple[str, str], str] = {
    ("aws_eks_cluster", "deletion_protection"): (
        "EKS cluster deletion protection was added to aws_eks_cluster in the 6.x line"
    ),
}
#: (Terraform resource type, argument) -> values the 5.x provider's validator rejects
#: though the AWS API accepts them (its AWS SDK predates them). A resource with such a
#: value is left out of the configuration, with a note.
V6_VALUES: dict[tuple[str, str], frozenset[str]] = {
    # GuardDuty's DetectorFeature enum gained AI_PROTECTION and AI_ANALYST after the AWS
    # SDK the 5.100 provider was built with (botocore 1.44 lists both).
    ("aws_guardduty_detector_feature", "name"): frozenset({"AI_PROTECTION", "AI_ANALYST"}),
}


def dropped_argument(tf_type: str, argument: str) -> str | None:
    """The reason `argument` of `tf_type` is dropped, or None when it is not v6-only."""
    reason = V6_ONLY.get((tf_type, argument)) or V6_ONLY.get(("*", argument))
    if reason is None:
        return None
    return f"exists only in the AWS provider 6.x (pulumi-aws 7.x): {reason}"


def skewed_value(tf_type: str, arguments: dict[str, object]) -> str | None:
    """Why a resource with these (converted, top-level) arguments cannot be checked by the
    5.x provider, or None."""
    for (skew_type, argument), values in V6_VALUES.items():
        value = arguments.get(argument)
        if skew_type == tf_type and isinstance(value, str) and value in values:
            return (
                f"{argument} = {value!r} is accepted by the AWS API and the 6.x provider, "
                f"but not by the {MIRROR_MAJOR}.x provider's validator"
            )
    return None
