# Set-up, demo and tests. `make demo` and `make test` create .venv/ on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WORKSPACE ?= d2a-workspace
DATA ?=
PYTEST_ARGS ?=

.PHONY: setup demo test clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m demographic2art.model.vocab
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/d2a demo --workspace $(WORKSPACE) $(if $(DATA),--data $(DATA))

# Two pytest sessions: everything but Ray, then the Ray tests on one local Ray cluster.
test: setup
	PYTEST=$(BIN)/pytest tests/run $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache $(WORKSPACE)
