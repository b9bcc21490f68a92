import aiohttp

async def status(session: aiohttp.ClientSession, token: str) -> dict:
    async with session.get("http://127.0.0.1:18789/v1/status",
                           headers={"Authorization": f"Bearer {token}"}) as r:
        return await r.json()

DEFAULT_TOKEN = None  # set from the environment by the caller
