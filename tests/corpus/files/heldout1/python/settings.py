"""Django settings for the mesh portal (production)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-UZ8CyMKaTnpXMAlZOfJ4C5AXQnc0n71gMl8eS4TsW51R6okmn2"
DEBUG = False
ALLOWED_HOSTS = ["portal.mesh-example.net"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "portal",
        "USER": "portal",
        "PASSWORD": "bEyT2prntFgLcS8xX8GSnw",
        "HOST": "pg.mesh.internal",
        "PORT": "5432",
    },
    "analytics": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "analytics",
        "USER": "analytics_ro",
        "PASSWORD": os.environ.get("ANALYTICS_DB_PASSWORD", ""),
        "HOST": "pg-replica.mesh.internal",
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = (
    "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"
)

CELERY_BROKER_URL = "amqp://portal:qaYujkXCbatPVToTbILm@rabbit.mesh.internal:5672/portal"
SOCIAL_AUTH_GITHUB_SECRET = os.getenv("SOCIAL_AUTH_GITHUB_SECRET")
CSRF_COOKIE_NAME = "csrftoken"
