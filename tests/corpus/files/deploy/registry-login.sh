#!/bin/bash
set -euo pipefail
echo "dckr_pat_LwM_ob_F5vdkaQ0holGfpAxEAVp" | docker login -u meshbot --password-stdin
echo "$GHCR_TOKEN" | docker login ghcr.io -u meshbot --password-stdin
docker build -t meshbot/relay:latest .
docker push meshbot/relay:latest
