# The project's entry points; .ci/run calls `make test`, the README documents the rest.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE   := $(VENV)/node/bin/node
# jsii (the CDK's Python bridge) supports Node 22+; where the system Node is older, a
# supported one is installed from the npm registry into .venv/node and used by the tests.
NODE_ARCH := $(subst x86_64,x64,$(subst aarch64,arm64,$(shell uname -m)))

.PHONY: setup node serve test quick unit integration infra e2e typecheck lint bench synth clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(MAKE) --no-print-directory node
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the project with every extra

node:  ## a Node that jsii supports (22+), only when the system one is older
	@major=$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0); \
	if [ "$$major" -ge 22 ]; then echo "system Node $$major is supported"; \
	elif [ -x $(NODE) ]; then echo "using $(NODE)"; \
	else npm install --silent --prefix $(VENV)/node --no-audit --no-fund node-linux-$(NODE_ARCH)@22 && \
	  mkdir -p $(VENV)/node/bin && \
	  ln -sf ../node_modules/node-linux-$(NODE_ARCH)/bin/node $(NODE) && $(NODE) --version; fi

serve: $(STAMP)  ## run the whole API locally (moto stands in for AWS)
	$(BIN)/cutout serve

test: $(STAMP)  ## lint, type check, then every test (unit, integration, infra, e2e): what CI runs
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

quick: $(STAMP)  ## lint, then every test not marked slow: the loop for local work
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

unit: $(STAMP)  ## the engine, the library's pure logic, the CLI and the docs
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)  ## each handler on moto, through API Gateway proxy events
	$(BIN)/python -m pytest tests/integration

infra: $(STAMP)  ## the synthesized CDK template, cdk-nag, the image's pinned requirements
	$(BIN)/python -m pytest tests/infrastructure

e2e: $(STAMP)  ## `cutout serve` over real HTTP with real clients
	$(BIN)/python -m pytest tests/e2e

typecheck: $(STAMP)  ## mypy over layers/, functions/ and infrastructure/
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  ## engine, soft-edge, per-model quality, int8/fp16 and image cold-start benchmarks against rembg (prints tables)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_edges.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_variants.py
	$(BIN)/python benchmarks/bench_cold_start.py

synth: $(STAMP)  ## synthesize the CDK app without Docker or an AWS account
	PATH="$(abspath $(VENV))/node/bin:$$PATH" $(BIN)/python app.py

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .ruff_cache
