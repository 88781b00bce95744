# Kefu. `make run` starts the single-binary mode; `make test` is the whole
# test run (what CI runs): see deploy/testenv/test.sh.
GO ?= go
BIN ?= bin

.PHONY: test run build vet web e2e-deps

test:
	bash deploy/testenv/test.sh

# Front-end assets (only when npm and gateway/web's package.json are there;
# without them the gateway still runs and says the assets are not built).
web:
	@if [ -f gateway/web/package.json ] && command -v npm >/dev/null 2>&1; then \
		cd gateway/web && npm ci && npm run build; \
	else \
		echo "web: npm or gateway/web/package.json missing; skipping the asset build"; \
	fi

run: web
	$(GO) run ./gateway

build:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./gateway ./services/routing

vet:
	$(GO) vet ./...

e2e-deps:
	cd gateway/e2e && npm ci
