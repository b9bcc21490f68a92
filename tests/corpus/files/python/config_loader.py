from dataclasses import dataclass
import os
import tomllib


@dataclass
class Config:
    gateway_url: str
    gateway_token: str
    api_key: str
    password_file: str


def load(path="config.toml") -> Config:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    token = raw.get("gateway", {}).get("token") or os.environ["GATEWAY_TOKEN"]
    api_key = raw.get("api_key", os.environ.get("API_KEY", ""))
    password_file = raw.get("password_file", "/run/secrets/relay_db_password")
    return Config(raw["gateway"]["url"], token, api_key, password_file)


def redact(value: str) -> str:
    return value[:4] + "…" if value else ""
