#!/bin/bash
# deploy to staging (quick and dirty, replace with the pipeline)
set -e

export DIGITALOCEAN_TOKEN=dop_v1_28c8663958bbbe8819a8cc315b55d83ff60a9f8ac4473a644c9fa70c872b4f9b
doctl kubernetes cluster kubeconfig save mesh-staging

curl -sS -X POST https://gw-staging.mesh.internal/v1/deploy \
  -H "Authorization: Bearer AUhYoBgzH2Xx90Ogpx9YFGCoL9nuLGhxEneUMQST" \
  -H "Content-Type: application/json" \
  -d '{"service":"relay","ref":"'"$(git rev-parse HEAD)"'"}'

kubectl -n relay rollout restart deploy/relay
kubectl -n relay rollout status deploy/relay --timeout=120s
