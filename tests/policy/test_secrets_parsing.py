"""The secrets concern's parsers, in-process and with Hypothesis: a Vault policy reads the
same whether written in HCL or JSON, whatever nested blocks a path carries; credential
shapes are found inside files and never in ordinary settings."""

from __future__ import annotations

import json

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.policy.conftest import PACK_DIR  # noqa: F401  (puts the pack on sys.path)

from ballast_guardrails import secrets  # isort: skip

CAPABILITIES = st.lists(
    st.sampled_from(["create", "read", "update", "patch", "delete", "list", "sudo", "deny"]),
    min_size=1,
    max_size=4,
    unique=True,
)
SEGMENT = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
GLOB = st.one_of(
    st.just("*"),
    st.just("+/*"),
    st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
    st.lists(SEGMENT, min_size=1, max_size=3).map(lambda s: "/".join(s) + "/*"),
)
POLICY = st.lists(st.tuples(GLOB, CAPABILITIES, st.booleans()), min_size=1, max_size=5)


def as_hcl(paths) -> str:
    blocks = []
    for glob, capabilities, nested in paths:
        extra = '  allowed_parameters = { "version" = [], "x" = ["}"] }\n' if nested else ""
        listed = ", ".join(f'"{c}"' for c in capabilities)
        blocks.append(f'path "{glob}" {{\n{extra}  capabilities = [{listed}]\n}}')
    return "\n".join(blocks)


def as_json(paths) -> str:
    return json.dumps({"path": [{g: {"capabilities": c}} for g, c, _ in paths]})


@given(POLICY)
def test_hcl_and_json_read_the_same(paths):
    expected = [(g, c) for g, c, _ in paths]
    assert secrets.policy_paths(as_hcl(paths)) == expected
    assert secrets.policy_paths(as_json(paths)) == expected


def test_an_unclosed_block_still_counts():
    assert secrets.policy_paths('path "*" { capabilities = ["read"]') == [("*", ["read"])]


def test_what_matches_everything_or_the_system_paths():
    assert secrets.is_everything("*") and secrets.is_everything("/+/+/*")
    assert not secrets.is_everything("kv/data/checkout/*")
    assert secrets.is_system_wildcard("sys/mounts/*") and secrets.is_system_wildcard("sys/+/x")
    assert not secrets.is_system_wildcard("sys/leases/renew")
    assert not secrets.is_system_wildcard("kv/data/sys/*")


SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def test_a_secret_key_is_found_inside_files_of_every_usual_shape():
    for text in (
        f"aws_secret_access_key = {SECRET}",
        f"AWS_SECRET_ACCESS_KEY={SECRET}\n",
        json.dumps({"secretAccessKey": SECRET}),
        f"secret_key: '{SECRET}'",
    ):
        assert secrets.credential_kind("file", text) == "an AWS secret access key", text


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 =:\n-_.", max_size=200))
def test_ordinary_settings_are_not_credentials(text):
    # A 40-character value under a name that says "secret key" is one by design.
    assume("secret" not in text)
    assert secrets.credential_kind("settings", text) is None
