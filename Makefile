# Service-recovery assistant. `make help` lists the targets.
# Everything runs inside .venv, which `make setup` creates (Python 3.10, pinned deps).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/service-recovery.tar.gz
WEBCHAT := bot/static/vendor/webchat.js
# data/shop is the owner's and data/hub the hub's words: neither is training data.
# contract/text.py: the text folding the NLU components use.
TRAINING_FILES := config.yml domain.yml $(shell find data -name '*.yml' -not -path 'data/shop/*' -not -path 'data/hub/*') $(wildcard nlu/*.py) contract/text.py

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup browser postgres train run hub shell test check lint audit validate pytest unit smoke rasa-test eval-external eval bench chaos cluster cluster-check demo-data deploy-check clean

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(WEBCHAT) ## create .venv (Python 3.10), install pinned dependencies and the chat widget

$(VENV)/.installed: requirements.txt requirements-runtime.txt requirements-hashed.txt constraints.txt scripts/setup_venv.sh
	scripts/setup_venv.sh

$(WEBCHAT): scripts/install_webchat.sh
	scripts/install_webchat.sh

browser: ## Debian's chromium for the browser test (installed with apt-get when missing)
	@command -v chromium >/dev/null || scripts/install_chromium.sh

postgres: ## Debian's PostgreSQL for the order backend's tests (installed with apt-get when missing; never started here)
	@scripts/install_postgres.sh

train: setup $(MODEL) ## train the model, only if data, domain, config or NLU code changed

$(MODEL): $(TRAINING_FILES)
	@echo "==> training (about 2 minutes on 2 cores)"
	$(RASA) train --fixed-model-name service-recovery --out models
	@touch $(MODEL)

run: train ## run Redis + action server + Rasa + hub and print the URLs to open
	$(PY) scripts/stack.py

demo-data: train ## a week of demo conversations through the real hub and assistant, for /agent/reports (starts the stack; DEMO_HUB_URL + REDIS_URL to use a running one; DEMO_ARGS=--once: each conversation once)
	$(PY) scripts/demo_data.py $(DEMO_ARGS)

hub: setup ## run only the hub (python -m bot), against RASA_URL and REDIS_URL
	$(PY) -m bot

shell: train ## chat in the terminal (needs `make run`, with the same REDIS_*/ACTION_PORT, in another terminal)
	$(PY) scripts/shell.py

test: setup browser postgres check train rasa-test pytest cluster-check eval-external ## everything CI runs: checks, model, conversation tests, pytest (incl. browser and the smoke runs), the fault run past one machine, external NLU report

check: setup lint ## lint (ruff, mypy), playbook and training-data validation, docs/configuration.md up to date, dependency audit
	$(PY) -m actions.playbook
	$(PY) -m actions.backends.mapping
	$(PY) scripts/validate_data.py
	$(PY) scripts/config_docs.py --check
	scripts/audit.sh

audit: ## pip-audit of constraints.txt (own venv; says so plainly when the advisory database is unreachable; AUDIT_STRICT=1 fails on findings)
	scripts/audit.sh

validate: check

LINTED := bot actions nlu contract scripts benchmarks
lint: setup ## the fast loop: ruff check and ruff format --check (tests/ too), mypy on the code
	$(VENV)/bin/ruff check $(LINTED) tests
	$(VENV)/bin/ruff format --check $(LINTED) tests
	$(VENV)/bin/mypy $(LINTED)

rasa-test: train ## conversation tests (tests/test_*.yml), failing on any wrong prediction
	$(RASA) test core --model $(MODEL) --stories tests/ --e2e --fail-on-prediction-errors --out results/core

pytest: train browser postgres ## actions against real Redis; REST, hub and browser tests against real Rasa; the smoke runs
	$(PY) -m pytest

unit: setup postgres ## every test that needs no trained model, on every core (no training; PostgreSQL for the order backend)
	$(PY) -m pytest -m "not needs_model" -n auto

smoke: train ## each long-running target briefly (run, hub, shell, demo-data, bench, chaos, eval; part of `make pytest`)
	$(PY) -m pytest -m smoke

eval-external: train ## report (not gate) NLU figures on ../shared/eval/external.jsonl
	$(PY) scripts/eval_external.py --model $(MODEL)

eval: train ## NLU quality, ours beside Rasa's default pipeline: 5-fold cross-validation, external set, held-out intents and entities (~1 h on 2 cores; EVAL_ARGS="--folds 3" ~35 min), then answers from the help pages -> docs/benchmarks.md
	$(PY) -m benchmarks.nlu_quality $(EVAL_ARGS)
	$(PY) -m benchmarks.knowledge $(KNOWLEDGE_ARGS)

bench: train ## load benchmark: the whole stack, 50 simulated customers (BENCH_ARGS="--customers 100"), 1 vs 2 Rasa -> docs/benchmarks.md
	$(PY) -m benchmarks.load $(BENCH_ARGS)

chaos: train ## fault run: the whole stack under steady customers while Redis, Rasa, the action server and a hub fail in turn, then a fuzz phase (~10 min; `make smoke` runs it briefly) -> docs/reliability.md
	$(PY) -m benchmarks.chaos $(CHAOS_ARGS)

cluster: train ## past one machine, on loopback: Redis master + replica + 3 Sentinels, 2 action servers, 2 Rasa, 2 hubs under customers while the master, a Rasa and a hub are killed (~2.5 min; CLUSTER_ARGS="--brief": stand-in Rasa, ~40 s) -> docs/reliability.md
	$(PY) -m benchmarks.cluster $(CLUSTER_ARGS)

cluster-check: train ## make cluster as a gate, in make test: fails on anything lost, interleaved or an unexpected 5xx; leaves the docs alone
	$(PY) -m benchmarks.cluster --no-docs

deploy-check: setup ## the deployment bundle without a cluster or Docker (a few seconds): Dockerfile, compose.yaml, both Kustomize overlays (docs/deploy.md)
	$(PY) -m pytest tests/deploy -q

clean: ## remove models, results and runtime data (keeps .venv)
	rm -rf models results .run
