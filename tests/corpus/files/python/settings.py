"""Django settings for the mesh dashboard."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-rznry38k88z7qf8cu1lq50kx3a9xdu7jy70yf1phytkch8fg4n"

DEBUG = os.environ.get("DEBUG", "0") == "1"
ALLOWED_HOSTS = ["dashboard.mesh.internal", "127.0.0.1"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "dashboard",
        "USER": "dashboard",
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": "db.mesh.internal",
        "PORT": 5432,
    }
}

EMAIL_HOST = "smtp.mesh.example"
EMAIL_HOST_USER = "alerts@mesh.example"
EMAIL_HOST_PASSWORD = "xaHKDccMgB1UcIUB"
EMAIL_USE_TLS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
SESSION_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = ["https://dashboard.mesh.internal"]
