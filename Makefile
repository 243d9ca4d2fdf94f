# cryptochain: build, run and test the otelcol-cryptochain distribution.
# Every target runs from the repository root; `make help` lists them.

GO      ?= go
TOOLS   := $(GO) tool -modfile=internal/tools/go.mod
DIST    := _build/otelcol-cryptochain
# Privileged tests fail instead of skipping when this is 1 (CI sets it).
CRYPTOCHAIN_REQUIRE_PRIVILEGED ?=
export CRYPTOCHAIN_REQUIRE_PRIVILEGED

.DEFAULT_GOAL := help
.PHONY: help build run test e2e bench generate mdatagen lint demo clean

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build the otelcol-cryptochain distribution into _build/ with ocb.
	@echo "build: not wired yet"

run: ## Run the collector on the embedded default config (root).
	@echo "run: not wired yet"

test: ## Run every test: unit, privileged (root) and end-to-end.
	$(GO) test -count=1 ./...

e2e: ## Run only the end-to-end tests against the built distribution.
	@echo "e2e: not wired yet"

bench: ## Run the Go benchmarks (figures go to BENCHMARKS.md by hand).
	$(GO) test -run '^$$' -bench . -benchmem ./...

generate: ## Regenerate the bpf2go output (needs clang-19) and mdatagen code.
	$(GO) generate ./receiver/ebpfreceiver/internal/kernel/...
	$(MAKE) mdatagen

mdatagen: ## Regenerate mdatagen code for both components.
	cd receiver/ebpfreceiver && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
	cd processor/cryptochainprocessor && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

lint: ## go vet, gofmt and staticcheck.
	$(GO) vet ./...
	$(TOOLS) staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo: ## Run the collector, play one Critical chain and show the finding (root).
	@echo "demo: not wired yet"

clean: ## Remove build output and local data.
	rm -rf _build data bench/out
