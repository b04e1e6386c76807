"""Every policy's passing and failing cases (`cases/<concern>.py`), through the analyzer
protocol: one parametrised test over all of them. See `casebook` for how a case is built
and judged; the cases of one concern and one policy config run as one program."""

from __future__ import annotations

import pytest

from ballast.policy.harness import PolicyPackProcess
from tests.policy.casebook import Case, Outcome, check_case, evaluate_cases
from tests.policy.cases import CASEBOOK

ALL_CASES = [(concern, case) for concern, cases in CASEBOOK.items() for case in cases]
GROUPS = sorted({(concern, case.config) for concern, case in ALL_CASES})


class Outcomes:
    """Each (concern, config) program, evaluated the first time a test needs it."""

    def __init__(self, pack: PolicyPackProcess) -> None:
        self._pack = pack
        self._done: dict[tuple[str, str], Outcome] = {}

    def of(self, concern: str, config: str) -> Outcome:
        key = (concern, config)
        if key not in self._done:
            group = [case for case in CASEBOOK[concern] if case.config == config]
            self._done[key] = evaluate_cases(self._pack, group, config)
        return self._done[key]


@pytest.fixture(scope="module")
def outcomes(pack) -> Outcomes:
    return Outcomes(pack)


@pytest.mark.parametrize(
    ("concern", "case"), ALL_CASES, ids=[f"{c}/{case.name}" for c, case in ALL_CASES]
)
def test_case(concern: str, case: Case, outcomes: Outcomes) -> None:
    check_case(case, outcomes.of(concern, case.config))


@pytest.mark.parametrize(("concern", "config"), GROUPS, ids=[f"{c}/{k}" for c, k in GROUPS])
def test_environment_is_compliant(concern: str, config: str, outcomes: Outcomes) -> None:
    outcome = outcomes.of(concern, config)
    stray = outcome.by_case.get("env", []) + outcome.by_case.get(None, [])
    assert not stray, "; ".join(f"{d.policy} on {d.urn}: {d.message}" for d in stray)


def test_every_policy_has_a_failing_and_a_passing_case_in_its_concern(pack):
    """The failing case and a passing case of each policy sit in the case module of the
    policy's concern (`cases/<concern>.py`)."""
    concern_of = {name: policy.tags[0] for name, policy in pack.info.policies.items()}
    failing = {(concern, case.fails) for concern, case in ALL_CASES if case.fails}
    passing = {
        (concern, name) for concern, case in ALL_CASES if case.fails is None for name in case.passes
    }
    expected = {(concern, name) for name, concern in concern_of.items()}
    assert sorted(expected - failing) == [], "policies without a failing case in their concern"
    assert sorted(expected - passing) == [], "policies without a passing case in their concern"
    named = {name for _, name in failing | passing}
    assert sorted(named - set(concern_of)) == [], "cases name policies the pack lacks"


def test_one_case_module_per_concern(pack):
    assert set(CASEBOOK) == {policy.tags[0] for policy in pack.info.policies.values()}


def test_case_names_are_unique_across_modules():
    names = [case.name for _, case in ALL_CASES]
    assert len(names) == len(set(names))
