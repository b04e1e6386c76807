"""The pass/fail cases of the policy pack, one module per concern, named like the pack's
concern modules (`policy-pack/ballast_guardrails/<concern>.py`).

Each module is data: a `CASES` list of `casebook.Case` and the builders they use (and,
where a case needs one, an `EXTRA_CONFIGS` entry). `tests/policy/test_policy_cases.py`
runs them all; it fails when a policy has no passing or no failing case.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.policy.casebook import Case

#: Concern -> its cases, for every module in this package.
CASEBOOK: dict[str, list[Case]] = {
    module.name: importlib.import_module(f"{__name__}.{module.name}").CASES
    for module in pkgutil.iter_modules(__path__)
}
