"""The levels in `policy-pack/config/<env>.json` are generated from the policies'
profiles (`python -m ballast.policy.docs`); the settings and exemptions beside them are
hand-edited and survive regeneration."""

from __future__ import annotations

import json

import pytest

from ballast.policy.config import PolicyConfigError, load_policy_config
from ballast.policy.levels import profile_levels, render_config
from tests.policy.conftest import PACK_DIR, stack_config_file

REGENERATE = "regenerate with: .venv/bin/python -m ballast.policy.docs"


@pytest.fixture(scope="module")
def levels() -> dict[str, dict[str, str]]:
    return profile_levels(PACK_DIR)


def test_every_environment_has_a_generated_config(levels):
    assert set(levels) == {"dev", "staging", "prod"}
    for env, text in ((env, stack_config_file(env).read_text()) for env in levels):
        assert render_config(text, levels[env], env) == text, f"config/{env}.json: {REGENERATE}"


def test_the_pack_applies_exactly_the_profile_levels(pack, levels):
    """What the CLI would enforce with each file is what the profiles say."""
    for env, expected in levels.items():
        effective = pack.configure(load_policy_config(stack_config_file(env)), source=env)
        assert {name: config.level for name, config in effective.items()} == expected, env


def test_the_three_profiles(levels):
    """security: mandatory everywhere; hygiene: advisory in dev; production-only: off in
    dev, advisory in staging. Every policy follows one of them."""
    profiles = {
        ("mandatory", "mandatory", "mandatory"),
        ("advisory", "mandatory", "mandatory"),
        ("disabled", "advisory", "mandatory"),
    }
    per_policy = {
        name: tuple(levels[env][name] for env in ("dev", "staging", "prod"))
        for name in levels["dev"]
    }
    assert set(per_policy.values()) == profiles


EXEMPTION = {"type": "aws:s3/bucket:Bucket", "name": "{stack}-logs", "reason": "SEC-1: reviewed"}


def test_regeneration_keeps_settings_and_replaces_levels():
    text = json.dumps(
        {
            "all": "advisory",
            "a-policy": {"exemptions": [EXEMPTION], "enforcementLevel": "disabled"},
            "b-policy": "disabled",
            "removed-policy": "mandatory",
        }
    )
    rendered = json.loads(
        render_config(text, {"a-policy": "mandatory", "b-policy": "advisory", "c-policy": "x"})
    )
    assert rendered == {
        "a-policy": {"enforcementLevel": "mandatory", "exemptions": [EXEMPTION]},
        "b-policy": "advisory",
        "c-policy": "x",
    }
    assert list(rendered["a-policy"]) == ["enforcementLevel", "exemptions"]


def test_a_hand_edited_level_is_stale(levels):
    text = stack_config_file("dev").read_text()
    data = json.loads(text)
    data["rds-multi-az"] = "mandatory"  # production-only: off in dev
    edited = json.dumps(data, indent=2) + "\n"
    assert render_config(edited, levels["dev"]) != edited
    assert render_config(edited, levels["dev"]) == text


def test_a_hand_edited_exemption_survives(levels):
    data = json.loads(stack_config_file("prod").read_text())
    data["rds-multi-az"] = {"enforcementLevel": "mandatory", "exemptions": [EXEMPTION]}
    edited = json.dumps(data, indent=2) + "\n"
    assert render_config(edited, levels["prod"]) == edited


def test_settings_of_an_unknown_policy_are_not_dropped_silently():
    text = json.dumps({"renamed-policy": {"exemptions": [EXEMPTION]}})
    with pytest.raises(PolicyConfigError, match="renamed-policy"):
        render_config(text, {"a-policy": "mandatory"})
