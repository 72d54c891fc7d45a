# Benchmark harness (issue 8), included by the root Makefile.
#   make bench-load                      the end-to-end table (≈4 min on 2 cores)
#   make bench-load BENCH_ARGS='-rounds 5 -closed 5s'
#   make bench-profile                   the same load with pprof; profiles in bench-profiles/
#   make bench-go-tests                  Go benchmarks in tests/bench (usage publishing)
# Everything is Go: the load generator is tests/bench/loadgen (no wrk/hey).
BENCH_BIN := $(CURDIR)/bin/bench
BENCH_OUT ?= $(CURDIR)/bench-results.md
BENCH_ARGS ?=
BENCH_PROFILE_DIR ?= $(CURDIR)/bench-profiles

.PHONY: bench-build bench-load bench-profile bench-go-tests

bench-build: ## build the benchmark's processes into bin/bench
	@mkdir -p $(BENCH_BIN)
	cd services/gateway && $(GO) build -o $(BENCH_BIN)/switchyard ./cmd/switchyard
	cd tests && $(GO) build -o $(BENCH_BIN)/fakeupstream ./fakes/cmd/fakeupstream
	cd tests && $(GO) build -o $(BENCH_BIN)/bareproxy ./bench/cmd/bareproxy
	cd tests && $(GO) build -o $(BENCH_BIN)/switchyardpprof ./bench/cmd/switchyardpprof
	cd tests && $(GO) build -o $(BENCH_BIN)/loadbench ./bench/cmd/loadbench

bench-load: bench-build ## end-to-end: fake upstream vs bare ReverseProxy vs switchyard, interleaved rounds
	$(BENCH_BIN)/loadbench -bin $(BENCH_BIN) -out $(BENCH_OUT) $(BENCH_ARGS)

bench-profile: bench-build ## bench-load with switchyard under pprof; CPU/allocs/mutex profiles per scenario
	$(BENCH_BIN)/loadbench -bin $(BENCH_BIN) -rounds 1 -pprof-dir $(BENCH_PROFILE_DIR) -out $(BENCH_PROFILE_DIR)/results.md $(BENCH_ARGS)
	@echo "inspect: go tool pprof -top $(BENCH_PROFILE_DIR)/chat.cpu.pprof"

bench-go-tests: ## Go benchmarks in tests/bench (benchstat-comparable)
	cd tests && $(GO) test -run '^$$' -bench . -benchmem ./bench/...
