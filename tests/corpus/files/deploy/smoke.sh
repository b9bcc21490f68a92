#!/bin/bash
# Smoke test after deploy. Expects GATEWAY_TOKEN in the environment.
set -euo pipefail
base=${BASE_URL:-http://127.0.0.1:18789}
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${GATEWAY_TOKEN}" "$base/health")
[ "$code" = 200 ] || { echo "health: $code"; exit 1; }
curl -s -u "admin:${ADMIN_PASSWORD}" "$base/admin/stats" | jq .
commit=3b18e512dba79e4c8300dd08aeb37f8e728b8dad
echo "expected commit $commit"
