# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Seed 002's curated result: the dataset datasets/revenue_by_tier.yaml, rebuilt by every load of a table it reads.
DEMO_QUERY := SELECT * FROM curated.revenue_by_tier ORDER BY revenue DESC, customer_tier, category

.PHONY: setup demo test lint clean deploy-tools

$(STAMP): setup.cfg setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,cdk]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/onboard validate
	$(BIN)/onboard generate
	ONBOARD_SECRET_REVIEWS_API_KEY=demo-key $(BIN)/onboard run --all
	$(BIN)/onboard query "$(DEMO_QUERY)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/onboard export-schema --check
	$(BIN)/onboard generate --check

test: lint
	$(BIN)/pytest

# The AWS CDK CLI that `onboard deploy` runs, pinned in package.json (not needed by synth or the tests).
deploy-tools:
	npm ci --no-audit --no-fund

clean:
	rm -rf .onboard cdk.out .pytest_cache
