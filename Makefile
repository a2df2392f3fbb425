GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
ADDR      ?= :8080
WASM      := static/dist/tabswarm.wasm
WASM_EXEC := static/dist/wasm_exec.js
HASHER    := static/dist/hasher.wasm
GOFILES   := $(shell find . -name '*.go' -not -path './e2e/*') go.mod go.sum

.PHONY: build run test vet unit e2e wasm-test bench screenshots clean

build: bin/tabswarm

$(WASM): $(GOFILES)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o $@ ./wasm

$(HASHER): wasm/hasher/main.go go.mod
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o $@ ./wasm/hasher

$(WASM_EXEC): $(GOROOT)/lib/wasm/wasm_exec.js
	cp $< $@

bin/tabswarm: $(WASM) $(HASHER) $(WASM_EXEC) $(GOFILES) $(wildcard static/*) $(wildcard tracker/dashboard/*)
	$(GO) build -trimpath -o $@ ./cmd/tabswarm

## run: build, then start the tracker and print the URLs to open
run: build
	./bin/tabswarm serve --addr $(ADDR)

## test: vet, unit tests with -race, wasm-target tests under Node, e2e in Chromium
test: vet unit wasm-test e2e

vet: $(WASM) $(WASM_EXEC)
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm ./swarm ./signaling

unit: $(WASM) $(WASM_EXEC)
	$(GO) test -race -count=1 $(shell $(GO) list ./... | grep -v /e2e)

wasm-test:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(GOROOT)/lib/wasm/go_js_wasm_exec" ./swarm ./signaling ./wasm

e2e: build
	$(GO) test -race -count=1 -timeout 20m ./e2e

## bench: print this machine's figures for issues 6, 11 and 13 (median of 3 runs, min, max); never part of test
## (TABSWARM_BENCH_RUNS=N for more runs; LOADGEN_CLIENTS=N for the tracker load; needs root for netns)
LOADGEN_CLIENTS ?= 10000
bench: build
	@echo "== machine: $$(nproc) cores, $$(uptime)"
	$(GO) test -run '^$$' -bench 'Browser' -benchtime 1x -timeout 45m ./e2e
	$(GO) test -run '^$$' -bench 'ShapedSwarm' -benchtime 1x -timeout 15m ./e2e
	$(GO) test -run '^$$' -bench 'Native1GiB' -benchtime 1x -timeout 20m ./swarm
	$(GO) test -run '^$$' -bench 'ClusterRelay' -benchtime 1x -timeout 10m ./tracker/natsbus
	$(GO) test -run '^$$' -bench 'Cluster' -benchtime 1x -timeout 15m ./e2e
	ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	  $(GO) run ./tracker/internal/loadgen -n $(LOADGEN_CLIENTS)
	@echo "== done: $$(uptime)"

## screenshots: redraw the README's pictures in docs/ from a session in headless Chromium
screenshots: build
	TABSWARM_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run TestScreenshots ./e2e

clean:
	rm -rf bin $(WASM) $(HASHER) $(WASM_EXEC)
