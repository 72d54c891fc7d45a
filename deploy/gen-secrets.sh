#!/usr/bin/env bash
# gen-secrets.sh creates deploy/.secrets/ for the compose stack, once:
#   ca-key.pem a throwaway CA key (kept out of tls/, which containers mount)
#   tls/       the CA certificate and the NATS server certificate (SANs nats-1..3,
#              localhost, 127.0.0.1), used for client TLS and mutual-TLS routes
#   nats.env   every NATS user's password, read by the NATS servers' config
#   <svc>.env  one service's own NATS user and password (and, for credential
#              and the all-in-one, the AES-256 master key)
#   admin.env  the admin user for syctl / nats
# Existing files are kept, so re-running never rotates a live stack's secrets.
# Nothing here is for production: there, use your own PKI and secret store.
set -euo pipefail
# SWITCHYARD_SECRETS_DIR puts them elsewhere (the system tests use a temp dir).
dir="${SWITCHYARD_SECRETS_DIR:-$(cd "$(dirname "$0")" && pwd)/.secrets}"
users=(registry credential healthcheck router metering admin)
umask 077
mkdir -p "$dir/tls"
chmod 0700 "$dir"
chmod 0755 "$dir/tls" # mounted into the nats containers, which run as uid 65532

rand() { openssl rand -hex 24; }

gen_tls() {
  local t="$dir/tls"
  [[ -s "$t/server.pem" ]] && return
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=switchyard dev NATS CA" -keyout "$dir/ca-key.pem" -out "$t/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=nats" -keyout "$t/server-key.pem" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:nats,DNS:localhost,IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth,clientAuth" >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days 825 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
  rm -f "$t/server.csr" "$t/server.ext" "$t/ca.srl"
  chmod 0644 "$t/ca.pem" "$t/server.pem" "$t/server-key.pem"
}

gen_env() {
  [[ -s "$dir/nats.env" ]] && return
  local u pw master="k1:$(openssl rand -base64 32)"
  : >"$dir/nats.env"
  for u in "${users[@]}"; do
    pw="$(rand)"
    echo "SY_NATS_PW_${u^^}=$pw" >>"$dir/nats.env"
    printf 'SY_NATS_USER=%s\nSY_NATS_PASSWORD=%s\n' "$u" "$pw" >"$dir/$u.env"
  done
  echo "SY_MASTER_KEYS=$master" >>"$dir/credential.env"
  # The all-in-one embeds its own NATS and needs only the master key.
  echo "SY_MASTER_KEYS=$master" >"$dir/allinone.env"
}

gen_tls
gen_env
echo "secrets ready in $dir"
