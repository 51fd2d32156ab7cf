# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo run test setup lint clean

$(BIN)/siyu: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Siyu needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(BIN)/siyu node_modules/.package-lock.json
	@$(BIN)/python -c 'from siyu.cli import compile_translations; compile_translations()'

demo: setup
	$(BIN)/siyu demo

run: setup
	$(BIN)/siyu run

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules data
