# The two commands a new user needs: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench reliability lint venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

run: venv
	bash scripts/run.sh

test: venv
	bash scripts/test.sh

bench: venv
	bash scripts/bench.sh

reliability: venv
	bash scripts/reliability.sh

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
