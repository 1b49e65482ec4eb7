# The project's entry points; .ci/run calls `make test`, the README documents the rest.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup serve test lint bench synth clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the project with every extra

serve: $(STAMP)  ## run the whole API locally (moto stands in for AWS)
	$(BIN)/cutout serve

test: $(STAMP)  ## lint, then every test (unit, integration, infrastructure, e2e)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  ## engine benchmark against rembg and bare inference (prints a table)
	$(BIN)/python benchmarks/bench_engine.py

synth: $(STAMP)  ## synthesize the CDK app without Docker or an AWS account
	$(BIN)/python app.py

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .ruff_cache
