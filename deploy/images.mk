# deploy/images.mk: container images and the compose stack. Included from
# the root Makefile (`include deploy/images.mk`); also usable alone:
#   make -f deploy/images.mk images up compose-smoke down
#
# COMPOSE picks the compose tool: docker-compose (v1, standalone) if it is
# installed, else `docker compose` (v2). Override: make up COMPOSE="docker compose".

GO ?= go
COMPOSE ?= $(shell command -v docker-compose >/dev/null 2>&1 && echo docker-compose || echo docker compose)
# Stable container and volume names whatever the checkout directory is called.
export COMPOSE_PROJECT_NAME ?= switchyard

.PHONY: images secrets up down compose-smoke nats-auth system-images test-system

images: ## build every container image offline (static Go binaries, nats-server, redis)
	deploy/build-images.sh

secrets: ## make deploy/.secrets/ (NATS users, TLS, master key) if missing
	deploy/gen-secrets.sh

nats-auth: ## regenerate deploy/nats/auth.conf (per-service NATS permissions)
	deploy/nats/gen-auth.sh

up: secrets ## start the split stack and wait until every container is healthy
	$(COMPOSE) up -d
	COMPOSE="$(COMPOSE)" deploy/compose-wait.sh

down: ## stop the stack and delete its volumes
	$(COMPOSE) --profile allinone --profile smoke down -v --remove-orphans

compose-smoke: secrets ## up, health, NATS cluster + JetStream + readiness checks, down -v
	COMPOSE="$(COMPOSE)" deploy/compose-smoke.sh

system-images: ## build the images the fault tests run, when a Docker daemon answers
	@if docker info >/dev/null 2>&1; then deploy/build-images.sh; \
	else echo "docker unreachable: tests/system will skip"; fi

# `make test` runs tests/system too (the tests module), on fresh images.
test: system-images

test-system: system-images ## the dockertest fault tests alone (tests/system), figures printed
	cd tests && $(GO) test -count=1 -timeout=20m -v ./system/
