GO        ?= go
BIN       := bin/nsvirtd
FUZZTIME  ?= 10s
# Every test runs in `make test`; a missing prerequisite fails instead of
# skipping, so a green run means everything ran.
TESTENV   := NSVIRT_TEST_STRICT=1

.PHONY: all build test unit fuzz-smoke bench bench-rpc run generate check-generated vet clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# A static binary: the monitor and init helper re-executed for every
# container start faster and smaller without the C library.
build: ## build bin/nsvirtd
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/nsvirtd

test: vet check-generated unit fuzz-smoke ## run every test (needs root and the Debian packages .ci/run installs)

unit: ## run the unit, root and end-to-end tests
	$(TESTENV) $(GO) test -count=1 -timeout 40m ./...

fuzz-smoke: ## run each fuzz target for a short interval
	$(GO) test -run '^$$' -fuzz '^FuzzServe$$' -fuzztime $(FUZZTIME) ./rpc
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./rpc/xdr
	$(GO) test -run '^$$' -fuzz '^FuzzDomain$$' -fuzztime $(FUZZTIME) ./xmlconf
	$(GO) test -run '^$$' -fuzz '^FuzzFromNative$$' -fuzztime $(FUZZTIME) ./xmlconf
	$(GO) test -run '^$$' -fuzz '^FuzzNetwork$$' -fuzztime $(FUZZTIME) ./xmlconf

bench: bench-rpc bench-containers ## run every benchmark and print the figures (needs root)

bench-rpc: ## RPC round trips per second (go-libvirt 1 and 8 clients; python3-libvirt 1 and 2 clients)
	$(GO) test -run '^$$' -bench 'BenchmarkRPC' -benchtime 3s ./cmd/nsvirtd
	$(GO) test -run '^$$' -bench 'BenchmarkPythonRPC' -benchtime 1x ./cmd/nsvirtd

bench-containers: ## container start/stop/memory against unshare and crun, 1,000 definitions, domstats of 100 containers, console throughput, lxc-enter-namespace, a veth per start
	$(GO) test -timeout 30m -run '^$$' -bench 'BenchmarkContainer|BenchmarkDefinitions|BenchmarkDomainStats|BenchmarkInteractive|BenchmarkNetworkStart' -benchtime 1x ./cmd/nsvirtd

run: build ## start nsvirtd in the foreground with the default sockets and directories, and define the busybox example
	testdata/run-example.sh ./$(BIN)

generate: ## regenerate rpc/remote/procedures.gen.go from go-libvirt
	$(GO) generate ./rpc/remote

check-generated: ## fail if generated code is stale
	$(GO) generate ./rpc/remote
	git diff --exit-code -- rpc/remote

vet: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)
	$(GO) vet ./...

clean: ## remove build output
	rm -rf bin
