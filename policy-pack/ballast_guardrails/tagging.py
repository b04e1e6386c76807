"""Tags on every taggable AWS resource: the provider's default tags count (they apply
to the resource in AWS even though they never appear in its own `tags` input)."""

from __future__ import annotations

from importlib import resources

from pulumi_policy import ResourceValidationArgs

from ballast_guardrails.contract import ALLOWED_TAG_VALUES, REQUIRED_TAG_KEYS
from ballast_guardrails.spec import MEDIUM, SECURITY, Report, Settings, resource_policy
from ballast_guardrails.values import effective_tags


def _load_taggable() -> frozenset[str]:
    text = resources.files(__package__).joinpath("aws_taggable_types.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


#: AWS types whose constructor accepts `tags` (generated from pulumi-aws; see the file).
TAGGABLE = _load_taggable()


@resource_policy(
    name="required-tags",
    types=TAGGABLE,
    description="Taggable AWS resources carry environment, owner, service and tier "
    "(own tags or the provider's default tags).",
    severity=MEDIUM,
    profile=SECURITY,
    remediation="Add the missing keys to the resource's tags (service, tier) or to "
    "the provider's defaultTags (environment, owner).",
    config={
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(REQUIRED_TAG_KEYS),
        }
    },
)
def _required(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    tags = effective_tags(args.props, args.provider)
    missing = [key for key in settings["requiredTags"] if not tags.get(key)]
    if missing:
        report(f"missing tags: {', '.join(missing)}")


@resource_policy(
    name="tag-values-allowed",
    types=TAGGABLE,
    description="Tags with a fixed vocabulary (environment, tier) use one of its values.",
    severity=MEDIUM,
    profile=SECURITY,
    remediation="Use one of the listed values, or extend allowedValues in the policy config.",
    config={
        "allowedValues": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {key: list(values) for key, values in ALLOWED_TAG_VALUES.items()},
        }
    },
)
def _allowed_values(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    tags = effective_tags(args.props, args.provider)
    for key, allowed in settings["allowedValues"].items():
        if key in tags and tags[key] not in allowed:
            report(f"tag {key}={tags[key]} is not one of {', '.join(allowed)}")
