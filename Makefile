# The two commands a newcomer needs:
#   make preview   offline preview of the dev stack (no AWS account, no Pulumi CLI)
#   make test      the whole test suite
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= dev

.PHONY: preview test lint typecheck docs bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

preview: $(STAMP)
	$(VENV)/bin/ballast preview $(STACK)

test: $(STAMP)
	$(PY) -m pytest

# Contributors (and CI, .ci/run): ruff, then the type checker.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) --no-print-directory typecheck

# mypy, configured in pyproject.toml [tool.mypy]. The pack's __main__.py is checked on its
# own: one mypy run cannot hold two top-level modules named __main__.
typecheck: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy policy-pack/__main__.py

# The generated documents: the policy table of policy-pack/README.md and
# docs/configuration.md (tests fail while either is stale).
docs: $(STAMP)
	$(PY) -m ballast.policy.docs
	$(PY) -m ballast.config_docs

bench: $(STAMP)
	$(PY) bench/preview.py
	$(PY) bench/policy.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
