"""Third-party integrations of the dashboard. Credentials come from settings,
except where marked."""
import hmac
import hashlib
import requests
from django.conf import settings

SLACK_WEBHOOK = "https://hooks.slack.com/services/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"
DISCORD_WEBHOOK = "https://discord.com/api/webhooks/6458470039169576056/Xui-UdWyL0Em1QLlPCukztDmSkecTRu2MOfWg1HXe77-xgmvj_QkVL098TRW3wJ0cGvd"
TEAMS_WEBHOOK = settings.TEAMS_WEBHOOK_URL


def post_slack(text):
    requests.post(SLACK_WEBHOOK, json={"text": text}, timeout=10)


def post_discord(text):
    requests.post(DISCORD_WEBHOOK, json={"content": text}, timeout=10)


def verify_signature(body: bytes, signature: str) -> bool:
    mac = hmac.new(settings.HOOKS_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, signature.removeprefix("sha256="))


def databricks_jobs():
    r = requests.get("https://adb-1234567890123456.7.azuredatabricks.net/api/2.1/jobs/list",
                     headers={"Authorization": "Bearer dapif842c610e43270946ae3005fdf503ab5"}, timeout=30)
    return r.json()


def snyk_projects(org_id):
    return requests.get(f"https://api.snyk.io/rest/orgs/{org_id}/projects",
                        headers={"Authorization": f"token {settings.SNYK_TOKEN}"}, timeout=30).json()


def newrelic_query(nrql):
    return requests.post("https://api.eu.newrelic.com/graphql",
                         headers={"API-Key": "NRAK-Z16EA966KFL5NAOJ7NOTKFV25V5"},
                         json={"query": nrql}, timeout=30).json()
