"""Indexes inside stack policies answer as the scans they replace: the same answer, and
the same `UnknownValueError` at the same point when a value is unknown in a preview."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "policy-pack"))

from ballast_guardrails import kubernetes, read_only_props
from pulumi_policy import proxy as sdk_proxy

UNKNOWN = sdk_proxy.UNKNOWN_STRING_VALUE


@dataclass
class Resource:
    """What a stack policy reads of a `PolicyResource`: its proxied properties."""

    props: Any


def _budget(namespace: str | None, selector: Any) -> Resource:
    metadata = {"namespace": namespace} if namespace is not None else {}
    spec = {"selector": selector} if selector is not None else {}
    return Resource(read_only_props.from_values({"metadata": metadata, "spec": spec}))


def _scan(budgets: list[Resource], namespace: str, labels: dict[str, str]) -> bool:
    """The policy's answer before the index: every budget in order."""
    return any(kubernetes._Budget(b).covers(namespace, labels) for b in budgets)


def _outcome(answer: Any) -> Any:
    try:
        return answer()
    except sdk_proxy.UnknownValueError as e:
        return ("unknown", e.message)


_names = st.sampled_from(["app", "tier", "team"])
_values = st.sampled_from(["a", "b", "c"])
_labels = st.dictionaries(_names, _values, max_size=3)
_expression = st.fixed_dictionaries(
    {
        "key": _names,
        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Bogus"]),
        "values": st.lists(_values, max_size=2),
    }
)
_selector = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.dictionaries(
                _names, st.one_of(_values, st.just(UNKNOWN)), max_size=2
            ),
            "matchExpressions": st.lists(_expression, max_size=2),
        },
    ),
)
_budgets = st.lists(
    st.builds(_budget, st.sampled_from([None, "apps", "web", UNKNOWN]), _selector), max_size=8
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    _budgets, st.lists(st.tuples(st.sampled_from(["default", "apps", "web"]), _labels), max_size=5)
)
def test_the_budget_index_answers_as_the_scan(budgets, workloads):
    indexed = kubernetes._Budgets(budgets)
    for namespace, labels in workloads:
        assert _outcome(lambda n=namespace, ls=labels: indexed.cover(n, ls)) == _outcome(
            lambda n=namespace, ls=labels: _scan(budgets, n, ls)
        )


def test_an_unknown_budget_after_a_covering_one_is_never_read():
    covering = _budget("apps", {"matchLabels": {"app": "a"}})
    unknown = _budget("apps", {"matchLabels": {"app": UNKNOWN}})
    assert kubernetes._Budgets([covering, unknown]).cover("apps", {"app": "a"}) is True
    with pytest.raises(sdk_proxy.UnknownValueError) as raised:
        kubernetes._Budgets([unknown, covering]).cover("apps", {"app": "a"})
    assert raised.value.props == ["spec", "selector", "matchLabels", "app"]


def test_the_index_skips_budgets_whose_labels_cannot_match():
    budgets = [_budget("apps", {"matchLabels": {"app": f"svc{i}"}}) for i in range(200)]
    indexed = kubernetes._Budgets(budgets)
    reads = []
    covers = kubernetes._Budget.covers

    def counting(self, namespace, labels):
        reads.append(self)
        return covers(self, namespace, labels)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kubernetes._Budget, "covers", counting)
        assert indexed.cover("apps", {"app": "svc150"}) is True
        assert indexed.cover("apps", {"app": "nope"}) is False
        assert indexed.cover("web", {"app": "svc1"}) is False
    assert len(reads) == 1
