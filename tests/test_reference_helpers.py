"""The shared reference-data helpers (tests/reference.py) fail when they should: a
custom resource that breaks its CRD, and a missing reference folder."""

from __future__ import annotations

import copy
import subprocess
import sys

import jsonschema
import pytest

from components.cluster.addons import load_balancer_controller as lb_controller
from tests.conftest import ROOT
from tests.reference import strict_schema, validate_custom_resource

ROUTE = {
    "name": "web",
    "namespace": "web",
    "service": "web",
    "port": 8080,
    "host": "www.example.com",
    "internal": False,
    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef",
}


def test_a_binding_validates_against_the_crd():
    validate_custom_resource(lb_controller.binding(ROUTE))


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["spec"].update(targetGroupArn=m["spec"].pop("targetGroupARN")),  # misspelt
        lambda m: m["spec"]["serviceRef"].update(prot=1),  # unknown nested key
        lambda m: m["spec"].update(targetType="instances"),  # not in the enum
        lambda m: m["spec"].pop("serviceRef"),  # required
        lambda m: m["metadata"].update(lables={"a": "b"}),  # strict ObjectMeta
        lambda m: m.update(apiVersion="elbv2.k8s.aws/v1"),  # not a served version
    ],
)
def test_a_broken_binding_is_refused(change):
    manifest = copy.deepcopy(lb_controller.binding(ROUTE))
    change(manifest)
    with pytest.raises((jsonschema.ValidationError, pytest.fail.Exception)):
        validate_custom_resource(manifest)


def test_strict_schema_translates_kubernetes_extensions():
    schema = strict_schema(
        {
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": True},
                "free": {
                    "type": "object",
                    "properties": {},
                    "x-kubernetes-preserve-unknown-fields": True,
                },
                "maybe": {"type": "string", "nullable": True},
            },
        }
    )
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"port": 80, "free": {"x": 1}, "maybe": None})
    assert validator.is_valid({"port": "http"})
    assert not validator.is_valid({"port": 1.5})
    assert not validator.is_valid({"other": 1})


@pytest.mark.parametrize(("require", "outcome"), [("0", "skipped"), ("1", "failed")])
def test_a_missing_reference_folder_skips_or_fails_under_require_tools(tmp_path, require, outcome):
    import os

    test_file = tmp_path / "test_probe.py"
    test_file.write_text(
        "from tests.reference import reference_dir\n\n\ndef test_it():\n    reference_dir()\n"
    )
    env = {
        **os.environ,
        "BALLAST_REFERENCE_DIR": str(tmp_path / "nowhere"),
        "BALLAST_REQUIRE_TOOLS": require,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert f"1 {outcome}" in result.stdout, result.stdout + result.stderr
