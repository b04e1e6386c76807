# The two commands a newcomer needs:
#   make preview   offline preview of the dev stack (no AWS account, no Pulumi CLI)
#   make test      the whole test suite
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= dev

.PHONY: preview test lint typecheck workflows secret-scan stack-yaml docs bench clean

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

# Contributors (and CI, .ci/run): ruff, the type checker, actionlint on the workflows, the
# secrets scan and the stack files' YAML (the pre-commit hooks run the same commands).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) --no-print-directory typecheck
	@$(MAKE) --no-print-directory workflows
	@$(MAKE) --no-print-directory secret-scan
	@$(MAKE) --no-print-directory stack-yaml

# mypy, configured in pyproject.toml [tool.mypy]. The pack's __main__.py is checked on its
# own: one mypy run cannot hold two top-level modules named __main__.
typecheck: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy policy-pack/__main__.py

# actionlint on .github/workflows (with shellcheck on PATH it checks every `run:` script).
workflows: $(STAMP)
	$(VENV)/bin/actionlint

# detect-secrets over every tracked file; known false positives are in .secrets.baseline
# (add one with `.venv/bin/detect-secrets scan --baseline .secrets.baseline`, then audit).
secret-scan: $(STAMP)
	git ls-files -z | xargs -0 $(VENV)/bin/detect-secrets-hook --baseline .secrets.baseline

# The stack files parse as plain YAML (.yamllint.yaml).
stack-yaml: $(STAMP)
	$(VENV)/bin/yamllint -s -c .yamllint.yaml stacks/

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
