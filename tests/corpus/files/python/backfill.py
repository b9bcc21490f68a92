#!/usr/bin/env python3
# one-off backfill, run by hand on 2026-03-02
import psycopg2
import requests

conn = psycopg2.connect(host="db.mesh.internal", dbname="relay", user="backfill", password="zxLueBFmWQ293nwVGo")
cur = conn.cursor()

GH = {"Authorization": "token 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"}

cur.execute("select id, repo from projects where backfilled = false")
for pid, repo in cur.fetchall():
    r = requests.get(f"https://api.github.com/repos/{repo}", headers=GH, timeout=30)
    cur.execute("update projects set stars = %s, backfilled = true where id = %s", (r.json()["stargazers_count"], pid))
conn.commit()
