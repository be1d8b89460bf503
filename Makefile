# The two commands: `make run` brings the product up, `make test` runs the whole test suite.
# Dependencies: requirements.in (runtime) and requirements-dev.in (tests and tools) list what the
# project uses directly; requirements.txt and requirements-dev.txt are their pinned sets, generated
# by `make lock` (pip-tools). `make run` installs the runtime set only, `make test` both.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check
PIP_COMPILE := $(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: run test lint browser install install-dev lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "This project needs Python 3.11, but $(PYTHON) is %d.%d: install 3.11, or run make PYTHON=python3.11 ..." % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(RUNTIME)

install-dev: $(DEV)

run: $(RUNTIME)
	bash scripts/run.sh

test: $(DEV)
	bash scripts/test.sh

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the pinned sets after editing requirements*.in (pins already in the .txt files are
# kept unless the .in files rule them out; `make lock UPGRADE=1` moves every pin to the newest allowed).
lock: $(DEV)
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file requirements-dev.txt requirements-dev.in

browser:
	bash scripts/install-browser.sh

clean:
	rm -rf $(VENV) data staticfiles
