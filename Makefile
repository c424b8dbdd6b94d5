# Two commands on a fresh machine: `make run` and `make test`.
# Everything installs into .venv from the hash-pinned lock; nothing on the machine is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/dev.lock
CHECKOV_LOCK := requirements/checkov.lock
CHECKOV := $(VENV)/checkov/bin/checkov

.PHONY: run run-fresh demo test lint types check-template unit bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(LOCK) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The whole system on this machine (moto, no AWS account), round 3 of 2015 loaded through its
# HTTP API and walked to closed by the state machine, then serving on 127.0.0.1:$${PORT:-8080}.
# What it acknowledges is kept in $(DATA) (ignored by git) and restored at the next `make run`;
# `make run-fresh` starts afresh.
DATA ?= .programme-data
run: $(STAMP)
	$(BIN)/programme serve --demo --data $(DATA)

run-fresh: $(STAMP)
	$(BIN)/programme serve --demo --data $(DATA) --fresh

demo: run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy --strict (pyproject.toml) on every package and the tests; the benches apart (scripts
# that import each other by their own directory, as `python bench/x.py` runs them).
types: $(STAMP)
	$(BIN)/mypy domain events infra functions programme tests
	$(BIN)/mypy bench

$(CHECKOV): $(BIN)/python $(CHECKOV_LOCK)
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps -r $(CHECKOV_LOCK)
	touch $(CHECKOV)

# checkov: every finding is fixed or skipped in place in template.yaml with its reason. The SAM
# transform (what `sam validate` runs) in the same venv: it pins an older pydantic.
check-template: $(STAMP) $(CHECKOV)
	$(VENV)/checkov/bin/python -m programme.sam_transform template.yaml
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint infra/statemachines/*.asl.json
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation --file template.yaml

# Every test, on as many workers as the machine has cores (pytest-xdist); the slowest are
# listed at the end. pytest's own exit codes stand: 5 (no tests collected) fails the target.
unit: $(STAMP)
	$(BIN)/pytest -n auto --durations=15

test: lint types check-template unit

# Every benchmark at the sizes the performance targets name (about 15 minutes); each one's
# output goes to bench/results/ (bench/README.md: how to read them, the last results).
bench: $(STAMP)
	$(BIN)/python bench/all.py

# Re-resolve both locks (needs `uv` on PATH); commit the result.
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--no-emit-package programme-engine -o $(LOCK)
	uv pip compile pyproject.toml --generate-hashes --python-version 3.13 \
		--python-platform aarch64-manylinux2014 --no-emit-package programme-engine \
		-o requirements/lambda.lock
	uv pip compile $(CHECKOV_LOCK:.lock=.in) --generate-hashes --python-version 3.11 -o $(CHECKOV_LOCK)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis

# ---- AWS SAM builds (BuildMethod: makefile; samconfig.toml: in source, in parallel) ----
# Each function's artifact holds its own code only: the project modules its handler can import,
# found by programme/lambda_artifact.py (stdlib only, run by path) from the handler's module over
# domain, events, functions and infra, lazy imports included, never programme/ (the local stack,
# the CLI, the template reader: moto, yaml and rich are not in the Lambda lock) nor the state
# machine definitions, which the template reads at deploy time. The third-party packages, the
# same for every function, are one layer, DependenciesLayer (requirements/Makefile installs
# requirements/lambda.lock for Lambda's Python 3.13 on arm64 into it).
# tests/infra/test_lambda_artifacts.py builds every function's artifact and checks its file list
# against what the handler loads; tests/infra/test_lambda_package.py imports every handler from
# its artifact with nothing outside the Lambda lock.
# Each function's handler module, as its `Handler` in template.yaml (the artifact test checks).
handler.IntakeFunction := functions.intake.app
handler.CommandsFunction := functions.commands.app
handler.QueriesFunction := functions.queries.app
handler.ProjectorFunction := functions.projector.app
handler.NextTransitionFunction := functions.lifecycle.next_transition
handler.ApplyTransitionFunction := functions.lifecycle.apply_transition
handler.HandOverFunction := functions.lifecycle.hand_over
handler.RecordFailureFunction := functions.lifecycle.record_failure
handler.LifecycleStarterFunction := functions.lifecycle.starter
handler.LifecycleReconcilerFunction := functions.lifecycle.reconciler
LAMBDA_FUNCTIONS := $(patsubst handler.%,%,$(filter handler.%,$(.VARIABLES)))

# `python3`, not $(BIN)/python: sam build runs from a clone without .venv as well.
.PHONY: $(addprefix build-,$(LAMBDA_FUNCTIONS)) lambda-bundle
$(addprefix build-,$(LAMBDA_FUNCTIONS)): build-%:
	test -n "$(ARTIFACTS_DIR)"
	python3 programme/lambda_artifact.py $(handler.$*) "$(ARTIFACTS_DIR)"

# What one function sees on Lambda in one folder, as the function's artifact (/var/task) plus
# the layer's python/ (/opt/python): `make lambda-bundle FUNCTION=IntakeFunction ARTIFACTS_DIR=dir`
# (to weigh a function, or import it, as Lambda loads it; the wheels are downloaded).
lambda-bundle:
	test -n "$(ARTIFACTS_DIR)" -a -n "$(handler.$(FUNCTION))"
	$(MAKE) --no-print-directory -C requirements build-DependenciesLayer \
		LAYER_PYTHON="$(abspath $(ARTIFACTS_DIR))"
	python3 programme/lambda_artifact.py $(handler.$(FUNCTION)) "$(ARTIFACTS_DIR)"
