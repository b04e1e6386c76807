"""Cases for the tagging policies: required keys and fixed vocabularies."""

from __future__ import annotations

import pulumi_aws as aws

from tests.policy.casebook import Case, tags


def group(group_tags):
    def build(env, name):
        aws.ec2.SecurityGroup(
            name, vpc_id=env.vpc.id, description="app", tags=group_tags, opts=env.opts()
        )

    return build


CASES = [
    Case("tagged", group(tags()), passes=("required-tags", "tag-values-allowed")),
    Case("group-untagged", group({"Name": "untagged"}), fails="required-tags"),
    Case("tier-gold", group(tags(tier="gold")), fails="tag-values-allowed"),
]
