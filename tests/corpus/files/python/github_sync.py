import os
import requests

API = "https://api.github.com"
TOKEN = os.getenv("GITHUB_TOKEN")


def headers():
    return {"Authorization": f"token {TOKEN}", "Accept": "application/vnd.github+json"}


def list_repos(org):
    r = requests.get(f"{API}/orgs/{org}/repos", headers=headers(), timeout=30)
    r.raise_for_status()
    return [repo["full_name"] for repo in r.json()]


def last_commit(repo):
    r = requests.get(f"{API}/repos/{repo}/commits?per_page=1", headers=headers(), timeout=30)
    r.raise_for_status()
    sha = r.json()[0]["sha"]  # e.g. 9fceb02d0ae598e95dc970b74767f19372d61af8
    return sha


if __name__ == "__main__":
    for repo in list_repos("mesh"):
        print(repo, last_commit(repo))
