#!/usr/bin/env bash
# dev-secrets.sh fills deploy/k8s/overlays/dev/.secrets/ (git-ignored) for
# the dev overlay: the NATS users' passwords and the master key from
# deploy/.secrets (deploy/gen-secrets.sh makes them if missing), and a NATS
# server certificate, signed by the same throwaway CA, for the in-cluster
# names (nats, nats-N.nats, *.nats.<namespace>.svc[.cluster.local]).
# NAMESPACE (default switchyard) must match the overlay's. Development
# only: use your own PKI and secret store in production.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../.secrets"
out="$here/overlays/dev/.secrets"
ns="${NAMESPACE:-switchyard}"
"$here/../gen-secrets.sh" >/dev/null
umask 077
mkdir -p "$out"
while IFS='=' read -r key value; do
  [[ "$key" == SY_NATS_PW_* ]] && printf '%s' "$value" >"$out/$key"
done <"$src/nats.env"
sed -n 's/^SY_MASTER_KEYS=//p' "$src/credential.env" >"$out/master.keys"
cp "$src/tls/ca.pem" "$out/ca.pem"
echo "Provider key files go in the switchyard-provider-keys Secret." >"$out/provider-keys-README"
if [[ ! -s "$out/server.pem" ]]; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nats" \
    -keyout "$out/server-key.pem" -out "$out/server.csr" 2>/dev/null
  sans="DNS:nats,DNS:nats.$ns.svc,DNS:nats.$ns.svc.cluster.local,DNS:*.nats,DNS:*.nats.$ns.svc"
  sans+=",DNS:*.nats.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
  printf '%s\n' "subjectAltName=$sans" "extendedKeyUsage=serverAuth,clientAuth" >"$out/server.ext"
  openssl x509 -req -in "$out/server.csr" -CA "$src/tls/ca.pem" -CAkey "$src/ca-key.pem" -CAcreateserial \
    -CAserial "$out/ca.srl" -days 825 -extfile "$out/server.ext" -out "$out/server.pem" 2>/dev/null
  rm -f "$out/server.csr" "$out/server.ext" "$out/ca.srl"
fi
echo "dev overlay secrets ready in $out"
