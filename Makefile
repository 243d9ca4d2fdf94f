# cryptochain: build, run and test the otelcol-cryptochain distribution.
# Every target runs from the repository root; `make help` lists them.

GO      ?= go
TOOLS   := $(GO) tool -modfile=internal/tools/go.mod
DIST    := _build/otelcol-cryptochain
# Privileged tests fail instead of skipping when this is 1 (CI sets it).
CRYPTOCHAIN_REQUIRE_PRIVILEGED ?=
export CRYPTOCHAIN_REQUIRE_PRIVILEGED

# The simulator (cmd/chainsim) and its static fake miner, used by demo and e2e.
SIM     := _build/chainsim _build/fakeminer
# Rebuild the distribution only when its inputs changed.
DIST_SRC := builder-config.yaml go.mod go.sum $(shell find receiver processor exporter config -type f -not -name '*_test.go' 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help deps build run test e2e determinism bench generate mdatagen lint demo clean image certs install helm-lint manifests

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build the otelcol-cryptochain distribution into _build/ with ocb.
	@$(MAKE) --no-print-directory $(DIST) $(SIM)

run: ## Run the collector on the embedded default config (root).
	@if [ "$$(id -u)" != 0 ]; then echo "make run: the eBPF receiver needs root (it loads kernel programs); run: sudo make run" >&2; exit 1; fi
	@$(MAKE) --no-print-directory $(DIST)
	@mkdir -p data
	@echo "otelcol-cryptochain on the embedded default config: findings on this console and in data/findings.jsonl$${OTEL_EXPORTER_OTLP_ENDPOINT:+, and over OTLP to $$OTEL_EXPORTER_OTLP_ENDPOINT}. Ctrl-C stops it."
	./$(DIST) --config embedded:agent

# What the privileged and end-to-end tests run: real containers (podman, runc, a busybox rootfs), the real
# crontab program, network namespaces, openssl (test certificates), systemd-analyze (unit check). Installed from Debian when missing (needs root).
TEST_DEPS := podman runc busybox crontab ip openssl systemd-analyze
deps: ## Install the test dependencies from Debian if any is missing (root).
	@missing=""; for c in $(TEST_DEPS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	[ -x /bin/busybox ] || missing="$$missing busybox-static"; \
	if [ -n "$$missing" ]; then \
	  echo "installing test dependencies (missing:$$missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    podman runc busybox-static cron iproute2 openssl ca-certificates systemd >/dev/null; \
	fi

test: ## Run every test: unit, privileged (root) and end-to-end (installs test deps, builds the distribution).
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /test/e2e)
	@# The end-to-end suite runs alone: it watches the whole host, so other privileged tests are noise to it.
	$(GO) test -count=1 -timeout 20m ./test/e2e/

e2e: ## Run only the end-to-end tests against the built distribution.
	@$(MAKE) --no-print-directory $(DIST)
	$(GO) test -count=1 -v -timeout 15m ./test/e2e/

# Every malicious scenario of testdata/scenarios, DETERMINISM_RUNS times in a row against one agent (CI plays
# a subset twice as part of `make e2e`).
DETERMINISM_RUNS ?= 10
determinism: ## Play every malicious scenario 10 times in a row; each must get the same grade every time (root).
	@$(MAKE) --no-print-directory $(DIST)
	CRYPTOCHAIN_DETERMINISM_RUNS=$(DETERMINISM_RUNS) CRYPTOCHAIN_DETERMINISM_SCENARIOS=all \
	  $(GO) test -count=1 -v -timeout 90m -run '^TestDeterminism$$' ./test/e2e/

bench: ## Run the Go benchmarks (figures go to BENCHMARKS.md by hand).
	$(GO) test -run '^$$' -bench . -benchmem ./...

generate: ## Regenerate the bpf2go output (needs clang-19) and mdatagen code.
	$(GO) generate ./receiver/ebpfreceiver/internal/kernel/...
	$(GO) generate ./exporter/cryptochainresponseexporter/internal/block/...
	$(MAKE) mdatagen

mdatagen: ## Regenerate mdatagen code for the components.
	cd receiver/ebpfreceiver && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
	cd processor/cryptochainprocessor && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
	cd exporter/cryptochainresponseexporter && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

lint: ## go vet, gofmt and staticcheck.
	$(GO) vet ./...
	$(TOOLS) staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# `make demo` adds the response exporter in dry run and shows its audit; `make demo RESPOND=1` lets it act
# (kill the fake miner, block the fake pool, quarantine the cron file) on a chain whose miner runs in the
# background, then restores the quarantined file; the deny entries leave with the collector.
RESPOND ?=
DEMO_RESPOND = $(if $(RESPOND),--respond active --scenario test/e2e/testdata/respond-critical-chain.yaml,--respond dry-run --scenario testdata/scenarios/critical-chain.yaml)

demo: ## Run the collector, play one Critical chain, show the finding and the response audit (root; RESPOND=1 acts).
	@if [ "$$(id -u)" != 0 ]; then echo "make demo: needs root (eBPF receiver, network namespace, cron); run: sudo make demo" >&2; exit 1; fi
	@$(MAKE) --no-print-directory $(DIST) $(SIM)
	./_build/chainsim demo --collector $(DIST) $(DEMO_RESPOND)

$(DIST): $(DIST_SRC)
	$(TOOLS) builder --config builder-config.yaml
	@touch $@

_build/chainsim: $(shell find cmd/chainsim internal/sim exporter/cryptochainresponseexporter/quarantine -name '*.go' 2>/dev/null)
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/chainsim

_build/fakeminer: $(shell find cmd/fakeminer -type f 2>/dev/null)
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/fakeminer

# Deployment: container image, certificates for agent <-> gateway mutual TLS, host install, Helm chart.
VERSION   := $(shell awk '/^  version:/ {print $$2; exit}' builder-config.yaml)
IMAGE     ?= localhost/otelcol-cryptochain:$(VERSION)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
CHART     := deploy/helm/otelcol-cryptochain
PREFIX    ?= /usr/local

image: ## Build the container image (IMAGE, default localhost/otelcol-cryptochain:<version>) from the binary built here.
	@$(MAKE) --no-print-directory $(DIST)
	@mkdir -p _build/image && cp $(CA_BUNDLE) _build/image/ca-certificates.crt
	podman build --build-arg DIST=host --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) -f Containerfile -t $(IMAGE) .

certs: ## Create a CA, agent and gateway certificates and their Secrets in _build/certs (NAMESPACE, RELEASE).
	deploy/tls/make-certs.sh _build/certs

install: ## Install the binary and the systemd unit (root; DESTDIR, PREFIX); then: systemctl enable --now otelcol-cryptochain.
	@$(MAKE) --no-print-directory $(DIST)
	install -D -m 0755 $(DIST) $(DESTDIR)$(PREFIX)/bin/otelcol-cryptochain
	install -d -m 0755 $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/otelcol-cryptochain
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' deploy/systemd/otelcol-cryptochain.service > $(DESTDIR)/etc/systemd/system/otelcol-cryptochain.service
	@# Keep an edited environment file.
	[ -f $(DESTDIR)/etc/otelcol-cryptochain/otelcol-cryptochain.env ] || \
	  install -m 0600 deploy/systemd/otelcol-cryptochain.env $(DESTDIR)/etc/otelcol-cryptochain/otelcol-cryptochain.env
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

helm-lint: ## helm lint and helm template of the chart (Helm runs as a Go tool).
	$(TOOLS) helm lint --strict $(CHART)
	$(TOOLS) helm lint --strict $(CHART) --set gateway.enabled=true --set backend.endpoint=https://otlp.example.org:4317
	$(TOOLS) helm template cryptochain $(CHART) --namespace cryptochain >/dev/null

manifests: ## Render deploy/kubernetes/*.yaml (plain manifests for kubectl) from the Helm chart.
	$(TOOLS) helm template cryptochain $(CHART) --namespace cryptochain \
	  --set backend.endpoint=https://otlp.example.org:4317 > deploy/kubernetes/standalone.yaml
	$(TOOLS) helm template cryptochain $(CHART) --namespace cryptochain --set gateway.enabled=true \
	  --set backend.endpoint=https://otlp.example.org:4317 > deploy/kubernetes/gateway.yaml

clean: ## Remove build output and local data.
	@# Undo anything an interrupted simulator run left behind (netns, cron, sysctls).
	@if [ -d /run/chainsim ] && [ -x _build/chainsim ]; then ./_build/chainsim restore; fi
	rm -rf _build data bench/out
