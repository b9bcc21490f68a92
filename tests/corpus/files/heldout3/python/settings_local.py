# local overrides (not for production)
DEBUG = True
SECRET_KEY = "dev-only-not-secret"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "mesh"}}
API_TOKEN_HEADER = "X-Mesh-Token"
TEST_USER_PASSWORD = "correct-horse-battery-staple"
