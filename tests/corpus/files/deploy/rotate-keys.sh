#!/usr/bin/env bash
# Rotate the gateway token on every node. The new token is read from stdin and
# never written to disk or passed on a command line.
set -euo pipefail
read -r -s NEW_TOKEN
for node in $(cat nodes.txt); do
  ssh "$node" 'read -r t; openclaw config set gateway.auth.token "$t"' <<<"$NEW_TOKEN"
done
echo "rotated on $(wc -l < nodes.txt) nodes"
