import { Agent, VoltAgent } from "@voltagent/core";
import { VercelAIProvider } from "@voltagent/vercel-ai";
import { openai } from "@ai-sdk/openai";
import { createTool } from "@voltagent/core";
import { z } from "zod";

const lookupOrder = createTool({
  name: "lookup_order",
  description: "Look up an order by id",
  parameters: z.object({ orderId: z.string().uuid() }),
  execute: async ({ orderId }) => {
    const r = await fetch(`https://shop.mesh.internal/api/orders/${orderId}`, {
      headers: { "x-api-key": "zMX5lyJVHa0MAaLKy6AjNVqNXLP3MRrG2cgux73Y" },
    });
    return r.json();
  },
});

const agent = new Agent({
  name: "support",
  instructions: "Answer order questions. Order ids look like 3f1c2a8e-9b7d-4e2f-a1c3-5d6e7f8a9b0c.",
  llm: new VercelAIProvider(),
  model: openai("gpt-4o-mini"),
  tools: [lookupOrder],
});

new VoltAgent({ agents: { agent } });
