from django.db import models


class ApiKey(models.Model):
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    secret_hash = models.CharField(max_length=128)
    token_type = models.CharField(max_length=20, default="bearer")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Webhook(models.Model):
    url = models.URLField()
    secret = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
