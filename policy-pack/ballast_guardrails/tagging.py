"""Tags on every taggable AWS resource: the provider's default tags count (they apply
to the resource in AWS even though they never appear in its own `tags` input)."""

from __future__ import annotations

from importlib import resources

from ballast_guardrails.spec import MEDIUM, Meta, resource_policy
from ballast_guardrails.values import effective_tags


def _load_taggable() -> frozenset[str]:
    text = resources.files(__package__).joinpath("aws_taggable_types.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


#: AWS types whose constructor accepts `tags` (generated from pulumi-aws; see the file).
TAGGABLE = _load_taggable()


def _required(args, report, settings) -> None:
    tags = effective_tags(args.props, args.provider)
    missing = [key for key in settings["requiredTags"] if not tags.get(key)]
    if missing:
        report(f"missing tags: {', '.join(missing)}")


def _allowed_values(args, report, settings) -> None:
    tags = effective_tags(args.props, args.provider)
    for key, allowed in settings["allowedValues"].items():
        if key in tags and tags[key] not in allowed:
            report(f"tag {key}={tags[key]} is not one of {', '.join(allowed)}")


POLICIES = [
    resource_policy(
        Meta(
            name="required-tags",
            concern="tagging",
            description="Taggable AWS resources carry environment, owner, service and tier "
            "(own tags or the provider's default tags).",
            severity=MEDIUM,
            remediation="Add the missing keys to the resource's tags (service, tier) or to "
            "the provider's defaultTags (environment, owner).",
            config={
                "requiredTags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": ["environment", "owner", "service", "tier"],
                }
            },
        ),
        TAGGABLE,
        _required,
    ),
    resource_policy(
        Meta(
            name="tag-values-allowed",
            concern="tagging",
            description="Tags with a fixed vocabulary (environment, tier) use one of its values.",
            severity=MEDIUM,
            remediation="Use one of the listed values, or extend allowedValues in the policy config.",
            config={
                "allowedValues": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "default": {
                        "environment": ["dev", "staging", "prod"],
                        "tier": ["tier-1", "tier-2", "tier-3"],
                    },
                }
            },
        ),
        TAGGABLE,
        _allowed_values,
    ),
]
