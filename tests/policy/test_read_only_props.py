"""The shim's one-walk decode (`read_only_props`) reads exactly as the SDK's three passes
(`MessageToDict`, `deserialize_properties`, `unknown_checking_proxy`) do: the same
values, the same `UnknownValueError` (message and path) at the same read."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "policy-pack"))

from ballast_guardrails import read_only_props
from pulumi_policy import deserialize as sdk_deserialize
from pulumi_policy import proxy as sdk_proxy

SIGNATURE = sdk_deserialize.SPECIAL_SIG_KEY
UNKNOWNS = sorted(read_only_props.UNKNOWN_VALUES)


def _sdk(struct: struct_pb2.Struct) -> Any:
    """What pulumi-policy 1.21 hands a policy for `struct`."""
    return sdk_proxy.unknown_checking_proxy(
        sdk_deserialize.deserialize_properties(json_format.MessageToDict(struct))
    )


def _attempt(read: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("value", read())
    except sdk_proxy.UnknownValueError as e:
        return ("unknown", e.message, e.props, e.unknown_type_sentinel)


def _observe(value: Any) -> Any:
    """Everything a policy can read from `value`, and what each read does."""
    if isinstance(value, Mapping):
        keys = list(value)
        return {
            "mapping": True,
            "sdk proxy": isinstance(value, sdk_proxy._DictProxy),
            "len": len(value),
            "keys": keys,
            "reads": [
                (
                    key,
                    _attempt(lambda k=key: _observe(value[k])),
                    _attempt(lambda k=key: k in value),
                    _attempt(lambda k=key: _observe(value.get(k))),
                )
                for key in keys
            ],
            "items": _attempt(lambda: [(k, _observe(v)) for k, v in value.items()]),
            "missing": (_attempt(lambda: "\0absent" in value), value.get("\0absent", 7)),
            "target": (
                sorted(value["__target"])
                if isinstance(value, sdk_proxy._DictProxy) and "__target" not in keys
                else None
            ),
        }
    if isinstance(value, Sequence) and not isinstance(value, str):
        return {
            "sequence": True,
            "sdk proxy": isinstance(value, sdk_proxy._ListProxy),
            "len": len(value),
            "by index": [_attempt(lambda i=i: _observe(value[i])) for i in range(len(value))],
            "last": _attempt(lambda: _observe(value[-1])) if len(value) else None,
            "iterated": _attempt(lambda: [_observe(v) for v in value]),
            "slice": [_observe(v) for v in value[1:3]],
        }
    return (type(value).__name__, value)


_keys = st.one_of(st.text(max_size=4), st.sampled_from(["tags", "__target", "value"]))
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
    st.text(max_size=6),
    st.sampled_from(UNKNOWNS),
)


def _secret(value: Any) -> dict[str, Any]:
    return {SIGNATURE: sdk_deserialize.SPECIAL_SECRET_SIG, "value": value}


_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_keys, children, max_size=4),
        children.map(_secret),
    ),
    max_leaves=25,
)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_every_read_matches_the_sdk(values):
    struct = _struct(values)
    ours = read_only_props.from_struct(struct)
    assert ours is not None
    assert _observe(ours) == _observe(_sdk(struct))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_from_values_reads_as_the_sdk_proxy(values):
    decoded = sdk_deserialize.deserialize_properties(json_format.MessageToDict(_struct(values)))
    assert _observe(read_only_props.from_values(decoded)) == _observe(
        sdk_proxy.unknown_checking_proxy(decoded)
    )


def test_an_unknown_value_raises_the_sdks_error_with_its_path():
    unknown = sdk_proxy.UNKNOWN_STRING_VALUE
    props = read_only_props.from_struct(
        _struct({"spec": {"containers": [{"image": unknown}]}, "tags": _secret({"a": unknown})})
    )
    assert props is not None
    container = props["spec"]["containers"][0]
    with pytest.raises(sdk_proxy.UnknownValueError) as raised:
        container["image"]
    assert (
        raised.value.message
        == "string value at .spec.containers.0.image can't be known during preview"
    )
    with pytest.raises(sdk_proxy.UnknownValueError) as raised:
        props["tags"].get("a")
    assert raised.value.props == ["tags", "a"]  # the secret's value sits at its path


def test_what_only_the_sdk_decodes_is_left_to_it():
    asset = {SIGNATURE: sdk_deserialize.SPECIAL_ASSET_SIG, "text": "hello"}
    unknown_signature = {SIGNATURE: "not-a-signature"}
    secret_without_value = {SIGNATURE: sdk_deserialize.SPECIAL_SECRET_SIG}
    for odd in (asset, unknown_signature, secret_without_value, math.inf, -math.inf, math.nan):
        assert read_only_props.from_struct(_struct({"a": {"b": [odd]}})) is None
    # At the top level a signature key is an ordinary key to the SDK, and so here.
    top = _struct({SIGNATURE: "not-a-signature", "x": 1})
    assert _observe(read_only_props.from_struct(top)) == _observe(_sdk(top))


def test_the_proxies_are_read_only():
    props = read_only_props.from_struct(_struct({"tags": {"a": "b"}, "list": [1]}))
    assert props is not None
    for mutate in (
        lambda: props.__setitem__("tags", {}),
        lambda: props["tags"].__setitem__("a", "c"),
        lambda: props["tags"].__delitem__("a"),
    ):
        with pytest.raises(TypeError, match="shared by every policy"):
            mutate()
    assert not hasattr(props["list"], "__setitem__")  # the SDK's list proxy has none


_steps = st.lists(st.one_of(_keys, st.integers(-3, 3)), max_size=4)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5), st.lists(_steps, max_size=6))
def test_the_policies_readers_answer_alike_on_both_proxies(values, paths):
    """`values.get` and `values.plain` read the shim's proxies through their contents:
    the same answers, and the same error, as through the SDK's proxies."""
    from ballast_guardrails.values import get, plain

    struct = _struct(values)
    ours, theirs = read_only_props.from_struct(struct), _sdk(struct)
    for path in paths:
        assert _attempt(lambda p=path: _observe(get(ours, *p, default="-"))) == _attempt(
            lambda p=path: _observe(get(theirs, *p, default="-"))
        )
    assert _attempt(lambda: plain(ours)) == _attempt(lambda: plain(theirs))
    for key in ours:
        assert _attempt(lambda k=key: plain(ours[k])) == _attempt(lambda k=key: plain(theirs[k]))
