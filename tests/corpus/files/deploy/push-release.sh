#!/usr/bin/env bash
# Publish a release tarball to the mesh artifact store and announce it.
set -euo pipefail

VERSION="${1:?usage: push-release.sh VERSION}"
ARTIFACTS="https://artifacts.mesh.internal/api/v1"
TOKEN="${ARTIFACT_TOKEN:-}"

if [[ -z "$TOKEN" ]]; then
  echo "ARTIFACT_TOKEN not set" >&2
  exit 2
fi

tar -czf "relay-$VERSION.tar.gz" dist/
sha256sum "relay-$VERSION.tar.gz" > "relay-$VERSION.tar.gz.sha256"

curl -fsS -X PUT \
  -H "Authorization: Bearer $TOKEN" \
  --data-binary @"relay-$VERSION.tar.gz" \
  "$ARTIFACTS/relay/$VERSION"

curl -fsS -X POST -H "Content-Type: application/json" \
  -d "{\"text\": \"📤 CODE PUSH relay $VERSION\"}" \
  http://127.0.0.1:18789/v1/announce
