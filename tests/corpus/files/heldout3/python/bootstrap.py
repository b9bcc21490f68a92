import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("OPENAI_API_KEY", "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")
os.environ.setdefault("PORTAL_DB_PASSWORD", "zqWpZeSqj6Xs0wXmh7CiG0")
os.environ.setdefault("PORTAL_LOG_LEVEL", "info")

def get_secret(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"{name} is not set")
    return value

STRIPE_KEY = get_secret("STRIPE_KEY", "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")
