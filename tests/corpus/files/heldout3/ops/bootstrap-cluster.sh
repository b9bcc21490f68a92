#!/usr/bin/env bash
# one-off bootstrap of the staging cluster (run by hand, 2026-02-20)
set -euo pipefail

kubectl create namespace mesh --dry-run=client -o yaml | kubectl apply -f -
kubectl -n mesh create secret generic gateway-auth \
  --from-literal=token=uyC7I2SOg1PUWVRGrNvVLci3VFE6IH1w3DmbY7rM \
  --from-literal=hooks-token="$(openssl rand -hex 24)"
kubectl -n mesh create secret docker-registry regcred --docker-server=ghcr.io \
  --docker-username=mesh-bot --docker-password=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

helm upgrade --install pg bitnami/postgresql -n mesh \
  --set auth.postgresPassword=l00wuZyw7LlGMDMzPrhanTIm \
  --set auth.database=mesh

gh secret set DEPLOY_KEY --repo mesh-org/router --body "ADUgupA6KBc3T8afmDPFhs1iEjWipxzAIpViVKUf"
aws configure set aws_secret_access_key ruOAsOsRICSUEf6xKoC7JSI8iKsdzMXADT3H0fRI --profile staging
docker run -d --name grafana -e GF_SECURITY_ADMIN_PASSWORD=JegH8q2ETHEkiYq3m6nX -p 3000:3000 grafana/grafana
git config --global url."https://mesh-bot:z4YcApfZQm6AkzpLnSCd@git.mesh.internal/".insteadOf "https://git.mesh.internal/"
TOKEN=${GATEWAY_TOKEN:-0416d38edfeaca9999905f6aa2ca584ee1838371a3ff4f1a}
echo "bootstrap done"
