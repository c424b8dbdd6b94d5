# Two commands on a fresh machine: `make run` and `make test`.
# Everything installs into .venv from the hash-pinned lock; nothing on the machine is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/dev.lock
CHECKOV_LOCK := requirements/checkov.lock
CHECKOV := $(VENV)/checkov/bin/checkov

.PHONY: run demo test lint types check-template unit lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(LOCK) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The whole system on this machine (moto, no AWS account), round 3 of 2015 loaded through its
# HTTP API and walked to closed by the state machine, then serving on 127.0.0.1:$${PORT:-8080}.
run: $(STAMP)
	$(BIN)/programme serve --demo

demo: run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy domain events

$(CHECKOV): $(BIN)/python $(CHECKOV_LOCK)
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps -r $(CHECKOV_LOCK)
	touch $(CHECKOV)

# checkov: every finding is fixed or skipped in place in template.yaml with its reason.
check-template: $(STAMP) $(CHECKOV)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint infra/statemachines/*.asl.json
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation --file template.yaml

unit: $(STAMP)
	$(BIN)/pytest

test: lint types check-template unit

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

# ---- AWS SAM builds (BuildMethod: makefile): the project's packages plus the Lambda lock ----
# Lambda runs Python 3.13 on arm64; the wheels are fetched for that platform, not this one.
LAMBDA_FUNCTIONS := IntakeFunction CommandsFunction QueriesFunction ProjectorFunction \
	NextTransitionFunction ApplyTransitionFunction HandOverFunction RecordFailureFunction \
	LifecycleStarterFunction LifecycleReconcilerFunction
$(addprefix build-,$(LAMBDA_FUNCTIONS)):
	python3 -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--only-binary=:all: --platform manylinux2014_aarch64 --python-version 3.13 \
		--implementation cp -r requirements/lambda.lock --target "$(ARTIFACTS_DIR)"
	cp -r domain events infra functions "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
