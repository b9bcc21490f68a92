#!/usr/bin/env bash
# Generate fresh secrets for a new environment; prints them once.
set -euo pipefail
gateway_token=$(openssl rand -hex 24)
hooks_token=$(openssl rand -base64 32 | tr -d '=+/')
jwt_secret=$(head -c 48 /dev/urandom | base64)
cat <<EOT
OPENCLAW_GATEWAY_TOKEN=$gateway_token
HOOKS_TOKEN=$hooks_token
JWT_SECRET=$jwt_secret
EOT
