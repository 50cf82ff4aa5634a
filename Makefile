# apimctl — `make help` lists the targets.
SHELL := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/apimctl/apimctl/cmd/apimctl/cli.Version=$(VERSION) -X github.com/apimctl/apimctl/cmd/apimctl/cli.Commit=$(COMMIT)
GO      ?= go

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install what the lab needs (Debian packages; Go, a JDK and Maven must be present)
	@scripts/deps.sh

.PHONY: build
build: ## build bin/apimctl and bin/apigw
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/apimctl ./cmd/apimctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/apigw ./cmd/apigw

.PHONY: test
test: deps build ## the whole suite: unit, fuzz (bounded), integration against the lab (brought up if needed), fault drills
	@scripts/test.sh

.PHONY: unit
unit: ## unit tests only (integration tests skip without a lab unless CI=true)
	$(GO) test -count=1 -short ./...

.PHONY: fuzz
fuzz: ## the fuzz targets (path normalization), FUZZTIME each (20s)
	@scripts/fuzz.sh

.PHONY: demo
demo: deps build ## bring the lab up (real gateways), send traffic in the background (30 min), open the console
	@bin/apimctl lab up
	@bin/apimctl lab traffic --rps 50 --duration 30m --background
	@eval "$$(bin/apimctl lab env)" && bin/apimctl

.PHONY: lab-up
lab-up: deps build ## start the lab
	@bin/apimctl lab up

.PHONY: lab-down
lab-down: build ## stop the lab (data kept; `bin/apimctl lab down --wipe` deletes it)
	@bin/apimctl lab down

.PHONY: lab-status
lab-status: build ## show the lab's components
	@bin/apimctl lab status

.PHONY: bench
bench: deps build ## benchmarks against peers in the same run: the console vs kubectl, apigw vs nginx, backup vs mysqldump (prints ratios)
	@scripts/bench-console.sh
	@scripts/bench-gateway.sh
	@scripts/bench-backup.sh

.PHONY: bench-backup
bench-backup: deps build ## the backup engine vs cqlsh COPY, mysqldump and mydumper on 1M rows each (ratios, RSS, sizes)
	@scripts/bench-backup.sh

.PHONY: bench-console
bench-console: deps build ## the console at 10,000 pods vs kubectl: first dashboard and rows, memory, frame times, idle LISTs, drill-downs
	@scripts/bench-console.sh

.PHONY: bench-gateway
bench-gateway: deps build ## apigw vs nginx with wrk: RPS, p99 and ratios
	@scripts/bench-gateway.sh

.PHONY: lint
lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
