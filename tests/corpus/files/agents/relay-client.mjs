// relay-client.mjs — forwards tasks from the queue to the agent gateway
import { setTimeout as sleep } from "node:timers/promises";

const GATEWAY_URL = process.env.GATEWAY_URL ?? "http://127.0.0.1:18789";
const GATEWAY_TOKEN = process.env.OPENCLAW_GATEWAY_TOKEN;

if (!GATEWAY_TOKEN) {
  console.error("OPENCLAW_GATEWAY_TOKEN is not set");
  process.exit(2);
}

export async function send(task) {
  const res = await fetch(`${GATEWAY_URL}/v1/tasks`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${GATEWAY_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify(task),
  });
  if (!res.ok) throw new Error(`gateway said ${res.status}`);
  return res.json();
}

export async function pollForever(queue) {
  for (;;) {
    const task = await queue.next();
    if (!task) { await sleep(500); continue; }
    await send(task);
  }
}
