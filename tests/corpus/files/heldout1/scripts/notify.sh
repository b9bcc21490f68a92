#!/bin/sh
# notify.sh STATUS MESSAGE — post a deploy status to chat
status=$1; shift
msg=$*

SLACK_WEBHOOK_URL=${SLACK_WEBHOOK_URL:-https://hooks.slack.com/services/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}
TG_TOKEN="784726738:AAI7rRORWQ3j6jEYWCy-qCUC4Xts9yXYzdx"
TG_CHAT=-1001987654321

curl -fsS -X POST -H 'Content-type: application/json' \
  --data "{\"text\": \"[$status] $msg\"}" "$SLACK_WEBHOOK_URL"

curl -fsS "https://api.telegram.org/bot${TG_TOKEN}/sendMessage" \
  -d chat_id="$TG_CHAT" -d text="[$status] $msg"

curl -fsS -X POST "https://discordapp.com/api/webhooks/468335630910187025/gD_yQ2NLIZUUWVtMf9C5j9tIU0T4sdU_7GpgCZIcJcyRPwaXO2H4xTJUbLKNyVsUucaO" \
  -H 'Content-Type: application/json' -d "{\"content\": \"[$status] $msg\"}"

# teams (legacy connector)
curl -fsS -H 'Content-Type: application/json' -d "{\"text\": \"$msg\"}" \
  "https://mesh.webhook.office.com/webhookb2/1df8d907-8885-4235-a7b2-a611a552977d@c526e9cf-a150-4a7d-b49d-24950b87671a/IncomingWebhook/de5c53234276e043bd1b3886fcb7fcf1/973568e7-703c-4be1-9969-6fe9a88f64ba"
