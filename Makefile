# Switchyard — the two commands that matter:
#   make run    the all-in-one gateway (edge :8080, embedded JetStream, no Redis, no Docker)
#   make test   the whole suite, every module
SHELL := /usr/bin/env bash
GO ?= go
BIN := $(CURDIR)/bin
MODULES := pkg services/registry services/credential services/healthcheck services/router services/metering services/gateway tests
SERVICES := registry credential healthcheck router metering
BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
# make run reaches upstreams on this machine (a local vLLM, Ollama or the
# bundled fake) only because of -outbound-allow=loopback; deployments don't.
RUN_ARGS ?= -outbound-allow=loopback
TEST_FLAGS ?= -count=1 -timeout=20m
# The tests module's packages run one at a time: the system suite (13
# containers, fault injection) saturates this 2-core class of machine, and
# the e2e suite's latency-sensitive checks (the rate limiter's 20 ms Redis
# timeout, startup deadlines) then fail for want of CPU, not for a bug.
TESTS_FLAGS ?= -p 1

.PHONY: help build run test test-unit test-integration test-race bench bench-go lint gen deps fake-upstream clean tidy

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## build every binary into ./bin
	@mkdir -p $(BIN)
	@for s in $(SERVICES); do (cd services/$$s && CGO_ENABLED=0 $(GO) build -o $(BIN)/$$s ./cmd/$$s) || exit 1; done
	cd services/gateway && CGO_ENABLED=0 $(GO) build -o $(BIN)/switchyard ./cmd/switchyard
	cd services/gateway && CGO_ENABLED=0 $(GO) build -o $(BIN)/syctl ./cmd/syctl
	cd tests && CGO_ENABLED=0 $(GO) build -o $(BIN)/fakeupstream ./fakes/cmd/fakeupstream
	@echo "built: $$(ls $(BIN) | tr '\n' ' ')"

run: ## run the all-in-one gateway: edge on :8080, NATS on 127.0.0.1:4222, data in ./data
	cd services/gateway && $(GO) build -o $(BIN)/switchyard ./cmd/switchyard
	$(BIN)/switchyard $(RUN_ARGS)

fake-upstream: ## run a fake OpenAI-compatible upstream on 127.0.0.1:9999 (key sk-fake, model gpt-4o-mini)
	cd tests && $(GO) run ./fakes/cmd/fakeupstream -protocol openai -listen 127.0.0.1:9999 -key sk-fake -model gpt-4o-mini

deps: ## install what the tests need (redis-server from Debian)
	@command -v redis-server >/dev/null || { echo "installing redis-server (Debian package) for the rate-limit tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }

test: deps ## the whole suite: every module's tests (unit, integration, e2e)
	@set -e; for m in $(MODULES); do echo "== $$m"; flags="$(TEST_FLAGS)"; [ $$m = tests ] && flags="$$flags $(TESTS_FLAGS)"; \
		(cd $$m && $(GO) test $$flags ./...); done

test-unit: ## unit tests of pkg and the services only
	@set -e; for m in $(filter-out tests,$(MODULES)); do echo "== $$m"; (cd $$m && $(GO) test $(TEST_FLAGS) -short ./...); done

test-integration: deps ## end-to-end tests against the all-in-one and split services
	cd tests && $(GO) test $(TEST_FLAGS) $(TESTS_FLAGS) ./...

test-race: deps ## every module under the race detector
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race $(TEST_FLAGS) ./...); done

bench: bench-go bench-load ## Go benchmarks of the hot path, then the end-to-end load table (see BENCHMARKS.md)

bench-go: ## Go benchmarks only (benchstat-comparable)
	@set -e; for m in pkg services/router tests; do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...); done

lint: ## gofmt and go vet on every module
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

gen: ## regenerate pkg/gen from proto/ with pinned buf and protoc-gen-go
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	cd proto && PATH=$(BIN):$$PATH buf lint && PATH=$(BIN):$$PATH buf generate

tidy: ## go mod tidy every module
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) mod tidy); done

clean: ## remove binaries and the all-in-one's data
	rm -rf $(BIN) data

-include deploy/images.mk
-include deploy/bench.mk
