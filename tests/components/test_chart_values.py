"""Every Helm value the platform sets exists in the pinned chart's own values (with its
subcharts), checked against the chart's reference data; the charts' schemas, where they
ship one, rarely forbid unknown keys, so a misspelt key would otherwise be ignored."""

from __future__ import annotations

import pytest

from components import versions
from components.cluster.addons import autoscaler
from components.cluster.addons import load_balancer_controller as lb_controller
from tests.conftest import CLUSTER_STACKS, stack_run
from tests.tokens import HELM_RELEASE

#: Each chart the platform installs: (chart, pinned version, key paths whose children are
#: free-form). cluster-autoscaler renders every `extraArgs` key as a `--<key>` flag; its
#: values.yaml lists most flags only in comments.
CHARTS = {
    versions.CLUSTER_AUTOSCALER_CHART: (versions.CLUSTER_AUTOSCALER_CHART_VERSION, ("extraArgs",)),
    versions.LOAD_BALANCER_CONTROLLER_CHART: (
        versions.LOAD_BALANCER_CONTROLLER_CHART_VERSION,
        (),
    ),
    versions.VAULT_CHART: (versions.VAULT_CHART_VERSION, ()),
    versions.SECRETS_STORE_CSI_DRIVER_CHART: (versions.SECRETS_STORE_CSI_DRIVER_CHART_VERSION, ()),
    # argo-cd writes every key under configs.cm, configs.params and configs.rbac into
    # its ConfigMaps as given; values.yaml lists only a few of Argo CD's settings.
    versions.ARGO_CD_CHART: (
        versions.ARGO_CD_CHART_VERSION,
        ("configs.cm", "configs.params", "configs.rbac"),
    ),
    # webhook.configData is the config-policy-controller ConfigMap's data, as given.
    versions.POLICY_CONTROLLER_CHART: (
        versions.POLICY_CONTROLLER_CHART_VERSION,
        ("webhook.configData",),
    ),
}


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_every_release_sets_only_keys_its_chart_has(stack):
    from tests.reference import validate_chart_values

    releases = stack_run(stack).of_type(HELM_RELEASE)
    assert {r.inputs["chart"] for r in releases} <= set(CHARTS), "a chart without a check"
    for release in releases:
        version, free_form = CHARTS[release.inputs["chart"]]
        assert release.inputs["version"] == version
        unknown = validate_chart_values(
            release.inputs["values"], release.inputs["chart"], version, free_form=free_form
        )
        assert unknown == [], f"{release.inputs['chart']}: {unknown}"


def test_the_walker_catches_misspelt_keys_at_any_depth():
    from tests.reference import unknown_value_keys

    chart, (version, _) = (
        versions.LOAD_BALANCER_CONTROLLER_CHART,
        CHARTS[versions.LOAD_BALANCER_CONTROLLER_CHART],
    )
    values = lb_controller.helm_values(
        cluster_name="c", region="eu-west-1", vpc_id="vpc-1", role_arn="arn:aws:iam::1:role/r"
    )
    assert unknown_value_keys(values, chart, version) == []
    typo = {**values, "replicaCont": 2, "serviceAccount": {**values["serviceAccount"], "nmae": "x"}}
    assert unknown_value_keys(typo, chart, version) == ["replicaCont", "serviceAccount.nmae"]
    # Free-form maps (empty defaults) take any key: annotations, node selectors.
    assert unknown_value_keys({"podAnnotations": {"anything": "goes"}}, chart, version) == []


def test_the_autoscalers_flags_are_free_form_but_nothing_else_is():
    from tests.reference import unknown_value_keys

    version, free_form = CHARTS[versions.CLUSTER_AUTOSCALER_CHART]
    values = autoscaler.helm_values(
        region="eu-west-1",
        cluster_name="c",
        kubernetes_version=versions.KUBERNETES_VERSION,
        replica_count=2,
        role_arn="arn:aws:iam::1:role/r",
    )
    chart = versions.CLUSTER_AUTOSCALER_CHART
    assert unknown_value_keys(values, chart, version, free_form=free_form) == []
    assert unknown_value_keys({"autoDiscovery": {"clustrName": "c"}}, chart, version) == [
        "autoDiscovery.clustrName"
    ]


def test_subchart_values_are_merged_under_their_alias():
    from tests.reference import chart_values, reference_dir, unknown_value_keys

    (parent,) = [p for p in (reference_dir() / "charts").glob("argo-cd-*") if p.is_dir()]
    version = parent.name.removeprefix("argo-cd-")
    aliases = [p.name for p in (parent / "subcharts").iterdir() if p.is_dir()]
    assert aliases
    merged = chart_values("argo-cd", version)
    for alias in aliases:
        assert isinstance(merged[alias], dict) and merged[alias]
        key = next(iter(merged[alias]))
        assert unknown_value_keys({alias: {key: merged[alias][key]}}, "argo-cd", version) == []
        assert unknown_value_keys({alias: {"notAKey": 1}}, "argo-cd", version) == [
            f"{alias}.notAKey"
        ]


def test_a_chart_schema_is_enforced_where_one_ships():
    import jsonschema

    from tests.reference import chart_dir, validate_chart_values

    assert (chart_dir("external-dns", "1.21.1") / "values.schema.json").is_file()
    assert validate_chart_values({"logLevel": "debug"}, "external-dns", "1.21.1") == []
    with pytest.raises(jsonschema.ValidationError):
        validate_chart_values({"logLevel": "chatty"}, "external-dns", "1.21.1")
