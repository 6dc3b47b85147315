# Two entry points for a new machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/govchain demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/pytest

# The console tests drive Debian's Chromium through Playwright, whose own browser
# download cannot be used here. CI runs as root on a fresh Debian machine. The
# font draws Chinese text in the screenshots the tests save.
CHROMIUM := /usr/bin/chromium
system-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; \
	  else \
	    echo "$(CHROMIUM) is missing: install Debian's chromium package as root" >&2; \
	    exit 1; \
	  fi; \
	fi

test: lint typecheck pytest

# Every benchmark, each appending its figures to docs/benchmarks.md except the
# archive's, which prints its table only. frictionless-py is the governance
# baseline, so the bench extra is installed first.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/ledger.py --record docs/benchmarks.md
	$(BIN)/python bench/governance.py --record docs/benchmarks.md
	$(BIN)/python bench/certificates.py --record docs/benchmarks.md
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/console.py --record docs/benchmarks.md

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
