import asyncio
import json
import os
import websockets

GATEWAY = os.environ.get("GATEWAY_WS", "ws://127.0.0.1:18789")


async def main():
    headers = {"Authorization": "Bearer 90b81ab0963f5a02dd67d3b543ac57e5f9d868cf34ac7aa1"}
    async with websockets.connect(GATEWAY, extra_headers=headers) as ws:
        await ws.send(json.dumps({"type": "hello", "client": "relay"}))
        print(await ws.recv())

asyncio.run(main())
