#!/usr/bin/env bash
# compose-smoke.sh brings the split stack up from nothing, waits for every
# health check, then checks what the health checks alone do not prove:
#   - the three NATS nodes form one cluster (2 routes each) and JetStream is
#     healthy on every node
#   - sync_interval is "always" (TEST-PLAN D5) and SY_USAGE is R3, file
#     storage, work-queue retention, Discard: New (TEST-PLAN decision 3)
#   - clients must use TLS (the server's INFO says tls_required)
#   - every service's /readyz answers 200, and the edge port reaches a router
#   - a service user is refused an admin subject (syctl says "permissions
#     violation")
#   - a fake upstream (profile "smoke") registered with syctl as the admin
#     user, and a consumer key, give completions through the edge on both
#     routers, and metering counts them
# and finally runs `down -v`. KEEP=1 leaves the stack running.
# Needs: docker, the compose tool (COMPOSE), curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a compose <<<"${COMPOSE:-docker-compose}"
monitor="http://127.0.0.1:${SWITCHYARD_NATS_MONITOR_PORT:-8222}"
edge="http://127.0.0.1:${SWITCHYARD_EDGE_PORT:-8080}"
export SWITCHYARD_OUTBOUND_ALLOW="${SWITCHYARD_OUTBOUND_ALLOW:-private}"
failures=0

step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
expect() { # expect DESCRIPTION ACTUAL WANTED
  if [[ "$2" == "$3" ]]; then pass "$1 = $2"; else fail "$1 = $2, want $3"; fi
}
# fetch SERVICE URL: GET URL from inside SERVICE's container with its probe.
fetch() { docker exec "$("${compose[@]}" ps -q "$1")" /usr/local/bin/probe -print "$2"; }

# as_user USER SYCTL-ARGS...: the host-built syctl as one NATS user of
# deploy/.secrets, over TLS to nats-1's published port.
as_user() {
  local user="$1"; shift
  (set -a; . "deploy/.secrets/$user.env"; set +a
   SSL_CERT_FILE=deploy/.secrets/tls/ca.pem SY_NATS_URL="tls://127.0.0.1:${SWITCHYARD_NATS_PORT:-4222}" \
     deploy/.build/bin/syctl "$@")
}

cleanup() {
  if [[ "${KEEP:-0}" != 1 ]]; then
    step "down -v"
    t=$SECONDS
    "${compose[@]}" --profile allinone --profile smoke down -v --remove-orphans >/dev/null 2>&1
    echo "down -v took $((SECONDS - t))s"
  fi
}
trap cleanup EXIT

step "up (from a clean slate)"
"${compose[@]}" --profile allinone --profile smoke down -v --remove-orphans >/dev/null 2>&1 || true
t=$SECONDS
"${compose[@]}" up -d
echo "up -d returned after $((SECONDS - t))s"
COMPOSE="${compose[*]}" deploy/compose-wait.sh
echo "stack healthy $((SECONDS - t))s after up"

step "NATS cluster"
for n in nats-1 nats-2 nats-3; do
  # Route pooling opens several connections per peer: count distinct peers.
  expect "$n peers" "$(fetch "$n" http://127.0.0.1:8222/routez | jq '[.routes[].remote_name] | unique | length')" 2
  expect "$n /healthz" "$(fetch "$n" http://127.0.0.1:8222/healthz | jq -r '.status')" ok
done
varz="$(curl -fsS "$monitor/varz")"
expect "cluster name" "$(jq -r '.cluster.name' <<<"$varz")" switchyard
expect "client TLS required" "$(jq -r '.tls_required' <<<"$varz")" true
expect "jetstream sync_always" "$(jq -r '.jetstream.config.sync_always' <<<"$varz")" true
expect "nats-server version" "$(jq -r '.version' <<<"$varz")" "$(cd pkg && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2 | tr -d v)"

step "JetStream topology (created by nats-init as the admin user)"
jsz="$(curl -fsS "$monitor/jsz?accounts=true&streams=true&config=true")"
usage="$(jq '[.account_details[].stream_detail[]? | select(.name == "SY_USAGE")][0]' <<<"$jsz")"
expect "SY_USAGE replicas" "$(jq -r '.config.num_replicas' <<<"$usage")" 3
expect "SY_USAGE storage" "$(jq -r '.config.storage' <<<"$usage")" file
expect "SY_USAGE retention" "$(jq -r '.config.retention' <<<"$usage")" workqueue
expect "SY_USAGE discard" "$(jq -r '.config.discard' <<<"$usage")" new
expect "SY_USAGE peers (leader + replicas)" "$(jq -r '1 + (.cluster.replicas | length)' <<<"$usage")" 3
expect "streams and buckets not R3" \
  "$(jq -r '[.account_details[].stream_detail[]? | select(.config.num_replicas != 3) | .name] | join(",")' <<<"$jsz")" ""
echo "     ($(jq '[.account_details[].stream_detail[]?] | length' <<<"$jsz") streams and KV buckets in all)"

step "services ready"
for svc in registry:9101 credential:9102 healthcheck:9103 router-1:9104 router-2:9104 metering:9105; do
  if fetch "${svc%:*}" "http://127.0.0.1:${svc#*:}/readyz" >/dev/null; then pass "${svc%:*} /readyz"; else fail "${svc%:*} /readyz"; fi
done

step "edge"
code="$(curl -s -o /dev/null -w '%{http_code}' "$edge/v1/models")"
# Without a consumer key the router must answer itself (401), not the
# load balancer (502: no router reachable).
if [[ "$code" != 502 && "$code" != 000 ]]; then pass "edge reaches a router (HTTP $code)"; else fail "edge answered HTTP $code"; fi

step "NATS permissions (deploy/nats/auth.conf)"
# A service user asking for an admin subject is refused by the server, and
# syctl says so (not "no reply").
out="$(as_user router services list 2>&1 || true)"
if grep -q "permissions violation" <<<"$out"; then pass "router user refused sy.admin.v1.services.list"; else fail "router user: $out"; fi

step "a fake upstream answers through the edge"
"${compose[@]}" --profile smoke up -d fakeupstream >/dev/null 2>&1
out="$(echo sk-fake | as_user admin services register smoke-openai --model gpt-4o-mini \
  --base-url http://fakeupstream:9000 --protocol OPENAI_V1 --api-key - --function chat 2>&1)" &&
  pass "registered smoke-openai (probed by healthcheck over the compose network)" || fail "register: $out"
key="$(as_user admin keys create --owner smoke@example.com -o json 2>/dev/null | jq -r '.key // empty' || true)"
[[ -n "$key" ]] && pass "consumer key created (syctl keys create, admin user)" || fail "no consumer key"
# Both routers must have the route: the edge round-robins over them.
ok=0
for _ in $(seq 1 40); do
  body="$(curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$edge/v1/chat/completions" \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' || true)"
  if jq -e '.choices[0].message.content' <<<"$body" >/dev/null 2>&1; then ok=$((ok + 1)); else ok=0; fi
  ((ok >= 4)) && break
  sleep 0.25
done
((ok >= 4)) && pass "4 completions in a row through the edge (both routers): $(jq -c '.choices[0].message.content' <<<"$body")" ||
  fail "edge completion: $body"
for _ in $(seq 1 40); do
  requests="$(as_user admin usage --model gpt-4o-mini -o json 2>/dev/null | jq '[.. | objects | .requests? // empty | tonumber] | add // 0' || echo 0)"
  ((requests >= 4)) && break
  sleep 0.5
done
((requests >= 4)) && pass "metering counted $requests request(s)" || fail "metering counted ${requests:-0} request(s), want >= 4"

step "result"
echo "$failures failure(s)"
exit $((failures > 0))
