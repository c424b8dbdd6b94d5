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

# ---- AWS SAM builds (BuildMethod: makefile): the project's packages plus the Lambda lock ----
# Lambda runs Python 3.13 on arm64; the wheels are fetched for that platform, not this one.
LAMBDA_FUNCTIONS := IntakeFunction CommandsFunction QueriesFunction ProjectorFunction \
	NextTransitionFunction ApplyTransitionFunction HandOverFunction RecordFailureFunction \
	LifecycleStarterFunction LifecycleReconcilerFunction
# The floors a Lambda may import: events, domain, infra (the adapters) and functions; never
# programme/ (the local stack, the CLI, the template reader: moto, yaml and rich are not in the
# Lambda lock), nor the state machine definitions, which the template reads at deploy time.
# tests/infra/test_lambda_package.py fails when a handler imports, even lazily, a module missing
# here, or anything outside requirements/lambda.lock.
LAMBDA_SOURCES := domain events functions infra
# boto3, botocore and s3transfer stay in the artifact although the Python runtime has its own
# (left out, the artifact would go from about 25 to 9 MB zipped: bench/cold_start.py). The
# runtime's are whatever version AWS last put in it, and change under a deployed function; the
# lock pins the versions the tests and the local stack (moto) run against, and those are the
# ones that should answer on AWS. Size is no constraint (Lambda takes 250 MB unzipped, and only
# the modules a handler imports are ever read). The bytecode pip compiles here is for this
# machine's Python, not 3.13, so it is removed: /var/task is read-only, and Lambda compiles
# each imported module at every cold start.
define copy-lambda-sources
	for source in $(LAMBDA_SOURCES); do \
		mkdir -p "$(ARTIFACTS_DIR)/$$(dirname "$$source")" && \
		cp -R "$$source" "$(ARTIFACTS_DIR)/$$(dirname "$$source")/" || exit 1; \
	done
	rm -rf "$(ARTIFACTS_DIR)/infra/statemachines"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
endef

$(addprefix build-,$(LAMBDA_FUNCTIONS)):
	python3 -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--only-binary=:all: --platform manylinux2014_aarch64 --python-version 3.13 \
		--implementation cp -r requirements/lambda.lock --target "$(ARTIFACTS_DIR)"
	$(copy-lambda-sources)

# The project's part of the artifact alone, without fetching wheels (the package test builds it).
.PHONY: lambda-sources
lambda-sources:
	test -n "$(ARTIFACTS_DIR)"
	$(copy-lambda-sources)
