# StreamVault: `make run` starts the local stack, `make test` runs every test.
# Both install what they need on first use (virtualenv + pip, npm) and skip it afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test test-integration lint synth install clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,cdk]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(BIN)/streamvault dev --port $(PORT)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The integration suite alone, e.g. against another server:
#   STREAMVAULT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make test-integration
test-integration: install
	$(BIN)/pytest -n 2 tests/integration $(PYTEST_ARGS)

synth: install
	$(BIN)/python infra/app.py

clean:
	rm -rf $(VENV) node_modules .streamvault cdk.out .pytest_cache .ruff_cache
