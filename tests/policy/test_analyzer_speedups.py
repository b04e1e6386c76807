"""The pack's decode-once shim: memoises only inside one analyzer call, per object."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "policy-pack"))

from ballast_guardrails import analyzer_speedups
from pulumi_policy import StackValidationPolicy


class Servicer:
    def __init__(self):
        self.decoded = 0

    def decode(self, message):
        self.decoded += 1
        return {"decoded": message}


def test_each_object_is_decoded_once_per_call_and_never_across_calls():
    calls = []

    def decode(value, *args):
        calls.append(value)
        return [value, args]

    once = analyzer_speedups._memoised(decode)
    first, second = object(), object()

    @analyzer_speedups._scoped
    def analyze(self, request, context):
        results = [once(first), once(first), once(second), once(first, True)]
        assert results[0] is results[1]
        return results

    analyze(None, None, None)
    assert calls == [first, second, first]
    analyze(None, None, None)  # a new call decodes again: nothing crosses requests
    assert calls == [first, second, first, first, second, first]


def test_outside_an_analyzer_call_nothing_is_memoised():
    calls = []
    once = analyzer_speedups._memoised(lambda value: calls.append(value) or value)
    value = object()
    once(value)
    once(value)
    assert calls == [value, value]


def test_methods_are_memoised_per_request_and_name():
    servicer = Servicer()
    memo_decode = analyzer_speedups._memoised_method(Servicer.decode)

    @analyzer_speedups._scoped
    def analyze(self, request, context):
        return memo_decode(servicer, request), memo_decode(servicer, request)

    request = object()
    a, b = analyze(None, request, None)
    assert a is b and servicer.decoded == 1


def test_install_only_patches_the_sdk_version_it_was_written_for(monkeypatch):
    from pulumi_policy import version

    monkeypatch.setattr(version, "VERSION", "9.9.9")
    assert analyzer_speedups.install() is False


class Policy:
    def __init__(self, name, types=None):
        self.name = name
        if types is not None:
            self.applies_to_type = frozenset(types).__contains__


def test_analyze_sees_only_the_policies_for_its_type():
    vpc = Policy("vpc-only", ["aws:ec2/vpc:Vpc"])
    bucket = Policy("bucket-only", ["aws:s3/bucket:Bucket"])
    anything = Policy("undeclared")  # says nothing: always included
    stack = StackValidationPolicy(name="stack", description="never run by Analyze", validate=print)
    servicer = type("Servicer", (), {})()
    servicer._PolicyAnalyzerServicer__policies = [vpc, bucket, anything, stack]
    seen = []

    def analyze(self, request, context):
        seen.append([p.name for p in self._PolicyAnalyzerServicer__policies])

    routed = analyzer_speedups._routed_by_type(analyze)
    routed(servicer, type("Request", (), {"type": "aws:ec2/vpc:Vpc"})(), None)
    routed(servicer, type("Request", (), {"type": "aws:iam/role:Role"})(), None)
    assert seen == [["vpc-only", "undeclared"], ["undeclared"]]
    # Outside Analyze (Configure, AnalyzeStack, GetAnalyzerInfo) the list is whole.
    assert [p.name for p in servicer._PolicyAnalyzerServicer__policies] == [
        "vpc-only",
        "bucket-only",
        "undeclared",
        "stack",
    ]


def test_every_resource_policy_of_the_pack_declares_its_types():
    from ballast_guardrails import POLICIES
    from pulumi_policy import ResourceValidationPolicy

    resource_policies = [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]
    assert resource_policies
    assert all(callable(getattr(p, "applies_to_type", None)) for p in resource_policies)


def test_the_validation_the_shim_calls_directly_is_the_one_the_sdk_runs():
    """`_validate` calls a pack policy's `synchronous_validate` instead of the SDK's
    `validate`: only right while that is the policy's one validation, unwrapped, and
    the SDK's `validate` is not overridden."""
    from ballast_guardrails import POLICIES
    from pulumi_policy import ResourceValidationPolicy

    direct = [p for p in POLICIES if getattr(p, "synchronous_validate", None) is not None]
    assert direct == [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]
    for policy in direct:
        assert policy._ResourceValidationPolicy__validate is policy.synchronous_validate
        assert type(policy).validate is ResourceValidationPolicy.validate
        # Declared (and type-checked) to return None: nothing for the SDK to await.
        assert policy.synchronous_validate.__annotations__["return"] in (None, "None")
