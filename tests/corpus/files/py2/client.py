import httpx
import requests
from requests.auth import HTTPBasicAuth


class RegistryClient:
    def __init__(self, base_url: str, token: str | None = None, api_key: str = ""):
        self.base_url = base_url
        self.token = token
        self.api_key = api_key
        self.session = requests.Session()

    def _headers(self):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def tags(self, repo):
        r = self.session.get(f"{self.base_url}/v2/{repo}/tags/list", headers=self._headers(), timeout=30)
        r.raise_for_status()
        return r.json()["tags"]


def legacy_catalog():
    # old registry, basic auth only
    r = requests.get("https://registry-old.mesh.internal/v2/_catalog",
                     auth=("deploy", "qghR47HxTN863vSvcF"), timeout=30)
    return r.json()


def jenkins_build(job):
    return requests.post(f"https://ci.mesh.internal/job/{job}/build",
                         auth=HTTPBasicAuth("meshbot", "462d538bad46c20c8058935ef3f3bac271"), timeout=30)


async def ping(url, token):
    async with httpx.AsyncClient() as c:
        return (await c.get(url, headers={"Authorization": f"Bearer {token}"})).status_code
