"""The shim's AnalyzeStack: the resource list built once per request, shared read-only,
and responses identical to the SDK's own (pulumi-policy's servicer without the shim)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import grpc
import pytest
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ballast.policy.config import load_policy_config
from ballast.policy.harness import (
    AnalyzerInput,
    PolicyPackProcess,
    analyze_request,
    stack_resource,
)
from ballast.policy.inputs import analyzer_inputs
from tests.conftest import ROOT, stack_run

sys.path.insert(0, str(ROOT / "policy-pack"))

from ballast_guardrails import POLICIES, analyzer_speedups
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import deserialize as sdk_deserialize
from pulumi_policy import policy as sdk
from pulumi_policy import proxy as sdk_proxy
from pulumi_policy import version as sdk_version

PACK_DIR = ROOT / "policy-pack"
STACK_POLICIES = [p for p in POLICIES if isinstance(p, StackValidationPolicy)]


@pytest.fixture
def restorable(monkeypatch) -> Iterator[None]:
    """Whatever `install()` patches is put back after the test (it patches the SDK's
    module and class, process-wide)."""
    servicer = sdk._PolicyAnalyzerServicer
    for name in analyzer_speedups.PATCHED_MODULE_ATTRIBUTES:
        monkeypatch.setattr(sdk, name, getattr(sdk, name, False), raising=False)
    for name in analyzer_speedups.PATCHED_SERVICER_ATTRIBUTES:
        if name in vars(servicer):
            monkeypatch.setattr(servicer, name, vars(servicer)[name])
    monkeypatch.delenv(analyzer_speedups.SWITCH, raising=False)
    yield


@pytest.fixture
def installed(restorable) -> None:
    assert analyzer_speedups.install() is True


def _servicer(policies) -> sdk._PolicyAnalyzerServicer:
    servicer = sdk._PolicyAnalyzerServicer(
        "probe", "0.0.1", list(policies), EnforcementLevel.ADVISORY
    )
    mandatory = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
    servicer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={p.name: mandatory for p in policies}),
        None,
    )
    return servicer


def _prod_inputs() -> list[AnalyzerInput]:
    return analyzer_inputs(stack_run("prod"))


def _stack_request(resources: list[AnalyzerInput]) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r) for r in resources])


def test_analyze_stack_builds_the_resource_list_once_per_request(installed, monkeypatch):
    builds: list[object] = []
    constructed: list[object] = []
    build = analyzer_speedups._stack_resources

    def counting_build(servicer, request):
        builds.append(request)
        return build(servicer, request)

    class CountingResource(sdk.PolicyResource):
        def __init__(self, *args):
            constructed.append(args[2])
            super().__init__(*args)

    monkeypatch.setattr(analyzer_speedups, "_stack_resources", counting_build)
    monkeypatch.setattr(sdk, "PolicyResource", CountingResource)

    resources = _prod_inputs()
    assert len(STACK_POLICIES) > 1 and len(resources) > 100
    servicer = _servicer(STACK_POLICIES)
    request = _stack_request(resources)
    servicer.AnalyzeStack(request, None)
    assert len(builds) == 1
    assert sorted(constructed) == sorted(r.urn for r in resources)  # once each, not per policy
    servicer.AnalyzeStack(request, None)  # a new request builds again: nothing is kept
    assert len(builds) == 2 and len(constructed) == 2 * len(resources)


def test_every_stack_policy_gets_the_same_read_only_resources(installed):
    seen: list[list] = []

    def record(args, report):
        seen.append(args.resources)

    probes = [
        StackValidationPolicy(name=f"probe-{i}", description="probe", validate=record)
        for i in (1, 2)
    ]
    servicer = _servicer(probes)
    resources = _prod_inputs()
    servicer.AnalyzeStack(_stack_request(resources), None)
    first, second = seen
    assert first is not second  # each policy may reorder its own list
    assert all(a is b for a, b in zip(first, second, strict=True))
    child = next(r for r in first if r.parent is not None)
    dependent = next(r for r in first if r.dependencies)
    mutations = [
        lambda: setattr(child, "parent", None),
        lambda: setattr(child, "props", {}),
        lambda: dependent.dependencies.append(child),
        lambda: dependent.dependencies.clear(),
        lambda: dependent.property_dependencies.update({"x": []}),
        lambda: child.props.__setitem__("tags", {}),
        lambda: setattr(child.opts, "protect", True),
    ]
    if child.provider is not None:
        mutations.append(lambda: setattr(child.provider, "props", {}))
    for mutate in mutations:
        with pytest.raises(TypeError, match="shared by every policy"):
            mutate()


def _untagged(resources: list[AnalyzerInput]) -> list[AnalyzerInput]:
    """The resources that carry tags, without them and without their provider's default
    tags: the tag policies then report on each, so `Analyze`'s violations are compared
    too, not only its empty answers."""
    return [
        dataclasses.replace(
            r,
            inputs={k: v for k, v in r.inputs.items() if k not in ("tags", "tagsAll")},
            provider=None,
        )
        for r in resources
        if "tags" in r.inputs
    ]


def _odd(resources: list[AnalyzerInput]) -> list[AnalyzerInput]:
    """Tagged resources whose properties hold what a preview sends besides plain values,
    each kind on some of them: a tag value unknown during the preview (the tag policies
    are then skipped with a note naming its path), the tags as a secret (read through
    it), an asset (left to the SDK's own decode) and a nested unknown object."""
    unknown = sdk_proxy.UNKNOWN_STRING_VALUE
    secret = sdk_deserialize.SPECIAL_SECRET_SIG
    asset = {sdk_deserialize.SPECIAL_SIG_KEY: sdk_deserialize.SPECIAL_ASSET_SIG, "text": "x"}
    changes = [
        lambda p: {**p, "tags": {**p["tags"], "tier": unknown}},
        lambda p: {**p, "tags": {sdk_deserialize.SPECIAL_SIG_KEY: secret, "value": p["tags"]}},
        lambda p: {**p, "code": asset},
        lambda p: {**p, "tags": {**p["tags"], "owner": {"nested": [unknown]}}},
    ]
    tagged = [r for r in resources if isinstance(r.inputs.get("tags"), dict)]
    return [
        dataclasses.replace(
            r,
            urn=f"{r.urn}-odd",
            inputs=changes[i % len(changes)](r.inputs),
            outputs=changes[i % len(changes)](
                {**r.outputs, "tags": r.outputs.get("tags", r.inputs["tags"])}
            ),
        )
        for i, r in enumerate(tagged[:40])
    ]


def _responses(stacks: list[list[AnalyzerInput]]) -> list[bytes]:
    """Every Analyze and AnalyzeStack response of a pack process (which inherits the
    environment, and so the switch), serialized."""
    with PolicyPackProcess(PACK_DIR, project="ballast", stack="prod") as pack:
        pack.configure(load_policy_config(PACK_DIR / "config" / "prod.json"))
        with grpc.insecure_channel(f"127.0.0.1:{pack.port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            requests = stacks[0] + _untagged(stacks[0]) + _odd(stacks[0])
            found = [stub.Analyze(analyze_request(r)) for r in requests]
            found += [stub.AnalyzeStack(_stack_request(resources)) for resources in stacks]
    return [m.SerializeToString(deterministic=True) for m in found]


def test_responses_with_and_without_the_shim_are_identical(monkeypatch):
    resources = _prod_inputs()
    # The shipped stack passes; without its bucket settings and flow logs the stack
    # policies have something to say, so the comparison covers violations too.
    dropped = ("bucketPublicAccessBlock", "bucketVersioning", "flowLog", "PodDisruptionBudget")
    broken = [r for r in resources if not any(d in r.type for d in dropped)]
    assert len(broken) < len(resources)

    monkeypatch.delenv(analyzer_speedups.SWITCH, raising=False)
    # The odd resources (unknown values, secrets, assets) join the stack too.
    stacks = [resources, resources + _odd(resources), broken]
    with_shim = _responses(stacks)
    monkeypatch.setenv(analyzer_speedups.SWITCH, "off")
    without_shim = _responses(stacks)

    untagged, odd = _untagged(resources), _odd(resources)
    assert len(with_shim) == len(without_shim) == len(resources) + len(untagged) + len(odd) + 3
    stack_response = analyzer_pb2.AnalyzeResponse.FromString(without_shim[-1])
    assert stack_response.diagnostics, "the broken stack must produce stack diagnostics"
    analyzed = [analyzer_pb2.AnalyzeResponse.FromString(b) for b in without_shim[:-3]]
    after_untagged = len(resources) + len(untagged)
    assert sum(len(r.diagnostics) for r in analyzed[len(resources) : after_untagged]) >= len(
        untagged
    ), "the untagged resources must produce resource diagnostics"
    skipped = [
        d
        for r in analyzed[after_untagged:]
        for d in r.diagnostics
        if "can't be known during preview" in d.message
    ]
    assert skipped, "the unknown values must make the SDK skip policies with a note"
    assert with_shim == without_shim


def test_analyze_decodes_a_request_once_and_each_provider_once(installed, monkeypatch):
    """Every resource policy of a request gets the same read-only properties, options
    and provider; requests with byte-identical providers share one provider object."""
    seen: list = []
    builds: list = []
    build = sdk._PolicyAnalyzerServicer._get_provider_resource

    def counting_build(servicer, request):
        builds.append(request)
        return build(servicer, request)

    monkeypatch.setattr(sdk._PolicyAnalyzerServicer, "_get_provider_resource", counting_build)

    def record(args, report):
        seen.append(args)

    probes = [
        ResourceValidationPolicy(name=f"probe-{i}", description="probe", validate=record)
        for i in (1, 2)
    ]
    servicer = _servicer(probes)
    resources = [r for r in _prod_inputs() if r.provider is not None][:20]
    providers = {r.provider.urn for r in resources}
    for r in resources:
        servicer.Analyze(analyze_request(r), None)
    assert len(seen) == 2 * len(resources)
    for first, second in zip(seen[::2], seen[1::2], strict=True):
        assert first.props is second.props and first.opts is second.opts
        assert first.provider is second.provider
    assert len(builds) == len(providers) < len(resources)
    some = seen[0]
    mutations = [
        lambda: some.props.__setitem__("tags", {}),
        lambda: setattr(some.opts, "protect", True),
        lambda: setattr(some.provider, "props", {}),
    ]
    for mutate in mutations:
        with pytest.raises(TypeError, match="shared by every policy"):
            mutate()


def test_the_version_guard_leaves_the_sdk_analyze_stack_alone(restorable, monkeypatch):
    original = vars(sdk._PolicyAnalyzerServicer)["AnalyzeStack"]
    monkeypatch.setattr(sdk_version, "VERSION", "1.22.0")
    assert analyzer_speedups.install() is False
    assert vars(sdk._PolicyAnalyzerServicer)["AnalyzeStack"] is original
    assert not getattr(sdk, "_ballast_decode_once", False)
    # On the version it was written for, the same call does replace it.
    monkeypatch.setattr(sdk_version, "VERSION", analyzer_speedups.SUPPORTED_SDK_VERSION)
    assert analyzer_speedups.install() is True
    assert vars(sdk._PolicyAnalyzerServicer)["AnalyzeStack"] is not original


def test_the_switch_leaves_the_sdk_alone(restorable, monkeypatch):
    original = vars(sdk._PolicyAnalyzerServicer)["AnalyzeStack"]
    monkeypatch.setenv(analyzer_speedups.SWITCH, "off")
    assert analyzer_speedups.install() is False
    assert vars(sdk._PolicyAnalyzerServicer)["AnalyzeStack"] is original


def test_analyze_follows_each_configure(installed):
    """The levels decided per resource type are decided again after every `Configure`."""
    ran: list[str] = []
    probes = [
        ResourceValidationPolicy(
            name=f"probe-{i}",
            description="probe",
            validate=lambda args, report, i=i: ran.append(f"probe-{i}") or report("seen"),
        )
        for i in (1, 2)
    ]
    servicer = _servicer(probes)
    request = analyze_request(_prod_inputs()[0])

    def levels() -> list[tuple[str, int]]:
        response = servicer.Analyze(request, None)
        return [(d.policyName, d.enforcementLevel) for d in response.diagnostics]

    assert levels() == [("probe-1", analyzer_pb2.MANDATORY), ("probe-2", analyzer_pb2.MANDATORY)]
    servicer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                "probe-1": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.DISABLED),
                "probe-2": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY),
            }
        ),
        None,
    )
    ran.clear()
    assert levels() == [("probe-2", analyzer_pb2.ADVISORY)]
    assert ran == ["probe-2"]
