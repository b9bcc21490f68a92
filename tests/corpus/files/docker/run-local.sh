#!/bin/sh
docker run --rm -p 127.0.0.1:8080:8080 \
  -e OPENAI_API_KEY=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 \
  -e GATEWAY_URL=http://host.docker.internal:18789 \
  -e OPENCLAW_GATEWAY_TOKEN="$OPENCLAW_GATEWAY_TOKEN" \
  meshbot/relay:latest
