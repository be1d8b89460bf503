# The two commands: `make run` brings the product up, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint browser clean

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(INSTALLED)

run: $(INSTALLED)
	bash scripts/run.sh

test: $(INSTALLED)
	bash scripts/test.sh

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

browser:
	bash scripts/install-browser.sh

clean:
	rm -rf $(VENV) data staticfiles
