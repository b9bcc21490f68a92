import os
import requests

DEFAULT_HEADERS = {
    "User-Agent": "mesh-agent/1.4",
    "Authorization":
        "Bearer R0EdiDZSKhnD29ZFm1BJsIcJvZlMc0tfHhmCSibQmhJE1alb",
}

REPLICATE_TOKEN = "r8_cAXZeLWcNTG9eOSmwn3gUA7MC5Pg9IQY9A0dU"
NOTION_TOKEN = "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"
LINEAR_KEY = os.environ.get("LINEAR_API_KEY")

credentials = dict(
    username="svc-agent",
    password="sixESThA2XIi1179",
)

def fetch(url, token=None):
    headers = dict(DEFAULT_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resp = requests.get(url, headers=headers, timeout=30)
    resp.raise_for_status()
    return resp.json()

def telegram(text):
    bot = "1192117422:AAudM7JGCwZoumhhzUZP_53tsfOqYa33DrW"
    requests.post(f"https://api.telegram.org/bot{bot}/sendMessage",
                  json={"chat_id": -1001234567890, "text": text})

def password_strength(password: str) -> int:
    return sum(c.isdigit() for c in password) + len(password) // 4
