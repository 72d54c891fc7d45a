#!/usr/bin/env bash
# build-images.sh builds every image the compose stack runs, offline: static
# binaries on the host (CGO_ENABLED=0), then FROM scratch images from
# minimal build contexts under deploy/.build/ (nothing is pulled).
#
# Environment: SWITCHYARD_IMAGE_PREFIX (default "switchyard/"),
# SWITCHYARD_IMAGE_TAG (default "local"), NATS_IMAGE, REDIS_IMAGE (defaults
# as in compose.yaml), DOCKER (default "docker").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/deploy/.build"
prefix="${SWITCHYARD_IMAGE_PREFIX:-switchyard/}"
tag="${SWITCHYARD_IMAGE_TAG:-local}"
docker="${DOCKER:-docker}"
export CGO_ENABLED=0
goflags=(-trimpath -ldflags "-s -w")

# docker_build ARGS...: quiet build; the legacy builder's deprecation notice
# is noise here (BuildKit would try to pull a frontend image).
docker_build() {
  local out
  if ! out="$("$docker" build -q "$@" 2>&1)"; then
    echo "$out" >&2
    return 1
  fi
}

# name:module-dir:package:ports
binaries=(
  "registry:services/registry:./cmd/registry:9101"
  "credential:services/credential:./cmd/credential:9102"
  "healthcheck:services/healthcheck:./cmd/healthcheck:9103"
  "router:services/router:./cmd/router:8080 9104"
  "metering:services/metering:./cmd/metering:9105"
  "switchyard:services/gateway:./cmd/switchyard:8080 4222 9100"
  "syctl:services/gateway:./cmd/syctl:"
  # The fake OpenAI-compatible upstream of the compose smoke and fault tests.
  "fakeupstream:tests:./fakes/cmd/fakeupstream:9000"
)

has_go_files() { compgen -G "$root/$1/${2#./}/*.go" >/dev/null; }

build_go_binaries() {
  local entry name mod pkg missing=()
  mkdir -p "$build/bin"
  for entry in "${binaries[@]}"; do
    IFS=: read -r name mod pkg _ <<<"$entry"
    if ! has_go_files "$mod" "$pkg"; then missing+=("$name"); continue; fi
    (cd "$root/$mod" && go build "${goflags[@]}" -o "$build/bin/$name" "$pkg")
  done
  (cd "$root/deploy/tools" && GOWORK=off go build "${goflags[@]}" -o "$build/bin/" ./cmd/...)
  # The nats-server main package from the module version pkg/go.mod pins.
  (cd "$root/pkg" && go build "${goflags[@]}" -o "$build/bin/nats-server" github.com/nats-io/nats-server/v2)
  [[ ${#missing[@]} -eq 0 ]] || echo "build-images: not built yet (no Go files): ${missing[*]}" >&2
}

# context DIR FILES...: a fresh build context holding only FILES.
context() {
  local dir="$build/ctx/$1"; shift
  rm -rf "$dir" && mkdir -p "$dir"
  [[ $# -eq 0 ]] || cp "$@" "$dir/"
  cp /etc/ssl/certs/ca-certificates.crt "$build/bin/probe" "$dir/"
  mkdir -p "$dir/data"
  echo "$dir"
}

build_service_images() {
  local entry name ports ctx
  for entry in "${binaries[@]}" "edgelb:::8080 9100"; do
    IFS=: read -r name _ _ ports <<<"$entry"
    [[ -x "$build/bin/$name" ]] || continue
    ctx="$(context "$name" "$build/bin/$name")"
    docker_build -f "$root/deploy/docker/Dockerfile" --build-arg "BIN=$name" \
      --build-arg "PORTS=${ports:-9100}" -t "${prefix}${name}:${tag}" "$ctx"
    echo "built ${prefix}${name}:${tag}"
  done
}

build_nats_image() {
  local ctx image="${NATS_IMAGE:-${prefix}nats:${tag}}"
  ctx="$(context nats "$build/bin/nats-server")"
  docker_build -f "$root/deploy/docker/nats.Dockerfile" -t "$image" "$ctx"
  echo "built $image ($("$build/bin/nats-server" --version))"
}

# Debian's redis-server plus what ldd says it loads, into a scratch rootfs.
build_redis_image() {
  local ctx lib image="${REDIS_IMAGE:-${prefix}redis:${tag}}"
  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
  ctx="$(context redis)"
  mkdir -p "$ctx/rootfs/usr/bin"
  cp -L "$(command -v redis-server)" "$ctx/rootfs/usr/bin/redis-server"
  for lib in $(ldd "$(command -v redis-server)" | grep -o '/[^ ]*'); do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  docker_build -f "$root/deploy/docker/redis.Dockerfile" -t "$image" "$ctx"
  echo "built $image ($(redis-server --version | cut -d' ' -f3))"
}

build_go_binaries
build_service_images
build_nats_image
build_redis_image
