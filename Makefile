# citylead — the two commands: `make up` runs the platform, `make test` runs every test.
# Each creates .venv if missing and installs what it needs (again only when pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: up test bench lint clean-home help

help:
	@echo "make up     run citylead on http://127.0.0.1:8000 (embedded PostgreSQL, demo province)"
	@echo "make test   run every test (real PostgreSQL: CITYLEAD_TEST_DATABASE_URL or embedded)"
	@echo "make bench  run the benchmarks under tests/benchmarks and print their figures"
	@echo "make lint   ruff and mypy"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "citylead needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[test,dev]"
	@touch $@ $(VENV)/.installed-runtime

up: $(VENV)/.installed-runtime
	$(BIN)/citylead up

# The browser tests drive Debian's Chromium (never a downloaded browser) with a Chinese font:
# installed once if missing.
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Chromium at $(CHROMIUM) (Debian: apt-get install chromium) for the browser tests"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null

test: $(VENV)/.installed-test $(CHROMIUM)
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/benchmarks -m benchmark -p no:randomly -q -s

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean-home:
	rm -rf .citylead
