# rescue-dispatch. Quick start: `make run` (live map with a simulation) or `make test`.
# Every target installs what it needs first; all steps are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-system install-python install-npm data run test bench lint i18n

install: install-system install-python install-npm

install-system:
	@scripts/install-system.sh

install-python:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'

install-npm:
	@npm ci --no-audit --no-fund --loglevel=error

data: install-python
	@$(BIN)/python -m geo.datasets

run: install data
	@$(BIN)/rescue serve --sim --speed 10 --host $(HOST) --port $(PORT)

test: install data
	@$(BIN)/python -m pytest

bench: install data
	@mkdir -p benchmarks/results
	@$(BIN)/python benchmarks/routing.py --json benchmarks/results/routing.json
	@$(BIN)/python benchmarks/assign.py --json benchmarks/results/assign.json
	@$(BIN)/python benchmarks/coverage.py --json benchmarks/results/coverage.json
	@$(BIN)/python benchmarks/live.py --json benchmarks/results/live.json
	@$(BIN)/python benchmarks/hostile.py --json benchmarks/results/hostile.json
	@$(BIN)/python benchmarks/replan.py --json benchmarks/results/replan.json
	@$(BIN)/python benchmarks/simulate.py --json benchmarks/results/simulate.json
	@$(BIN)/python benchmarks/vs_vroom.py --solomon C101,R101,RC101,C201,R201,RC201 --beijing 3 --json benchmarks/results/vs_vroom.json
	@$(BIN)/python benchmarks/solomon.py --json benchmarks/results/solomon.json
	@$(BIN)/python benchmarks/pdptw.py --json benchmarks/results/pdptw.json
	@$(BIN)/python benchmarks/place_search.py --json benchmarks/results/place_search.json
	@$(BIN)/python benchmarks/report.py --json benchmarks/results/report.json
	@$(BIN)/python benchmarks/readme_figures.py

lint: install-python
	@$(BIN)/ruff check geo optimizer records webmap rescue tests benchmarks
	@$(BIN)/ruff format --check geo optimizer records webmap rescue tests benchmarks
	@$(BIN)/mypy

# The message catalogue: extract every marked text into i18n/messages.pot and merge it into
# the Chinese and English catalogues (new texts arrive untranslated; the catalogue test fails
# until they are translated).
I18N_KEYWORDS := -k N_ -k InputError:3 -k translate -k both -k t
i18n: install-python
	@$(BIN)/pybabel -q extract -F i18n/babel.cfg $(I18N_KEYWORDS) --add-location=file --sort-by-file -o i18n/messages.pot geo optimizer records webmap rescue
	@for lang in zh_CN en; do \
	  test -f i18n/$$lang/LC_MESSAGES/messages.po || $(BIN)/pybabel -q init -i i18n/messages.pot -d i18n -l $$lang; \
	  $(BIN)/pybabel -q update --no-fuzzy-matching -i i18n/messages.pot -d i18n -l $$lang; \
	done
