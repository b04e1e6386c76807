"""What `gitops/` renders per environment, declared as custom resources and analysed by
the pack under that environment's policy config: no mandatory violation, and a prod
child with an automated sync (what a careless edit of the prod overlay makes) is
refused."""

from __future__ import annotations

import copy

import pulumi
import pulumi_kubernetes as k8s
import pytest

from ballast.offline import run_component
from ballast.policy.inputs import analyzer_inputs
from components.config import ENVIRONMENTS
from tests.gitops.test_overlays import render
from tests.policy.casebook import config_entries


def evaluate(pack, objects: list[dict], environment: str):
    def program() -> None:
        provider = k8s.Provider("gitops-k8s", kubeconfig="{}")
        for obj in objects:
            k8s.apiextensions.CustomResource(
                f"{obj['kind'].lower()}-{obj['metadata']['name']}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=pulumi.ResourceOptions(provider=provider),
            )

    run = run_component(program, stack="test")
    pack.configure(config_entries(environment), source=environment)
    return [
        d for d in pack.evaluate(analyzer_inputs(run)) if "argocd" in d.policy or "k8s" in d.policy
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_renders_clean_under_its_policies(pack, environment):
    diagnostics = evaluate(pack, render(environment), environment)
    assert [d for d in diagnostics if d.level == "mandatory"] == []


def test_an_automated_prod_child_is_refused(pack):
    objects = copy.deepcopy(render("prod"))
    objects[0]["spec"]["syncPolicy"]["automated"] = {"prune": True, "selfHeal": True}
    diagnostics = evaluate(pack, objects, "prod")
    assert {(d.policy, d.level) for d in diagnostics} == {
        ("argocd-manual-sync-in-prod", "mandatory")
    }
