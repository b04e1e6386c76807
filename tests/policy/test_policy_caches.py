"""What the pack's policies keep between calls: only answers that cannot change, and
each caller still gets its own copy."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "policy-pack"))

from ballast_guardrails import network, read_only_props, values


def test_effective_tags_are_kept_only_for_read_only_properties():
    provider = type("Provider", (), {"props": {"defaultTags": '{"tags": {"owner": "team"}}'}})()
    shared = read_only_props.from_values({"tags": {"tier": "tier-1"}})
    first = values.effective_tags(shared, provider)
    assert first == {"owner": "team", "tier": "tier-1"}
    first["tier"] = "changed by a policy"  # each caller gets its own dict
    assert values.effective_tags(shared, provider) == {"owner": "team", "tier": "tier-1"}
    # A mutable mapping (the SDK's own proxy, or a plain dict) is read again every time.
    plain = {"tags": {"tier": "tier-1"}}
    assert values.effective_tags(plain, provider)["tier"] == "tier-1"
    plain["tags"]["tier"] = "tier-2"
    assert values.effective_tags(plain, provider)["tier"] == "tier-2"
    # Another properties object, or another provider, is another question.
    other = read_only_props.from_values({"tags": {"tier": "tier-3"}})
    assert values.effective_tags(other, provider)["tier"] == "tier-3"
    assert values.effective_tags(other, None) == {"tier": "tier-3"}


def test_added_up_cidrs_are_computed_once_and_handed_out_as_copies():
    split = ["0.0.0.0/1", " 128.0.0.0/1"]
    first = network.wide_openings(split)
    assert [(str(n), parts) for n, parts in first] == [("0.0.0.0/0", ["0.0.0.0/1", "128.0.0.0/1"])]
    first[0][1].append("changed by a caller")
    again = network.wide_openings(list(split))
    assert again == [(first[0][0], ["0.0.0.0/1", "128.0.0.0/1"])]
    # Values that are not strings are read as their text, as before.
    assert network.wide_openings([None, 7.0, "::/0"])[0][1] == ["::/0"]
    assert network.wide_openings(["10.0.0.0/16"]) == []
