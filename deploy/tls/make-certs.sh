#!/bin/sh
# Creates a private CA and the certificates for mutual TLS between agents and the gateway, plus the
# Kubernetes Secrets the Helm chart mounts (tls.crt, tls.key, ca.crt: the layout cert-manager writes).
#
#   deploy/tls/make-certs.sh [OUT_DIR]        (or `make certs`)
#
# Environment: NAMESPACE and RELEASE (both default `cryptochain`) name the gateway Service and the
# Secrets; GATEWAY_SANS adds subjectAltNames to the gateway certificate (e.g. "DNS:gw.example.org,IP:10.0.0.5");
# DAYS is the validity (default 365). An existing CA in OUT_DIR is reused, so agents and gateways
# re-issued later still trust each other. Keys never leave OUT_DIR (mode 0600).
set -eu

OUT=${1:-_build/certs}
NAMESPACE=${NAMESPACE:-cryptochain}
RELEASE=${RELEASE:-cryptochain}
DAYS=${DAYS:-365}
GW="$RELEASE-gateway"

mkdir -p "$OUT"
umask 077
cd "$OUT"

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ca.key -out ca.crt \
		-days "$DAYS" -subj "/CN=$RELEASE otelcol-cryptochain CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue NAME CN EXTENDED_KEY_USAGE [SANS]
issue() {
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$1.key" -out "$1.csr" \
		-subj "/CN=$2" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$3"
		if [ -n "${4:-}" ]; then echo "subjectAltName=$4"; fi
	} > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days "$DAYS" \
		-extfile "$1.ext" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

SANS="DNS:$GW,DNS:$GW.$NAMESPACE,DNS:$GW.$NAMESPACE.svc,DNS:$GW.$NAMESPACE.svc.cluster.local"
if [ -n "${GATEWAY_SANS:-}" ]; then SANS="$SANS,$GATEWAY_SANS"; fi
issue gateway "$GW.$NAMESPACE.svc" serverAuth "$SANS"
issue agent "$RELEASE-agent" clientAuth

b64() { base64 < "$1" | tr -d '\n'; }
secret() {
	cat <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  name: $1
  namespace: $NAMESPACE
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$2.crt")
  tls.key: $(b64 "$2.key")
  ca.crt: $(b64 ca.crt)
YAML
}
{ secret "$GW-tls" gateway; secret "$RELEASE-agent-tls" agent; } > secrets.yaml
chmod 0644 ca.crt gateway.crt agent.crt

echo "certificates in $OUT: ca.crt, gateway.crt/.key ($SANS), agent.crt/.key"
echo "Secrets $GW-tls and $RELEASE-agent-tls: kubectl apply -f $OUT/secrets.yaml"
