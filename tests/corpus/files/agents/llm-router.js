// Picks a provider per request. Keys come from the environment in production;
// the fallbacks below were for local testing.
const providers = {
  openai: {
    base: "https://api.openai.com/v1",
    key: process.env.OPENAI_API_KEY || "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",
  },
  anthropic: {
    base: "https://api.anthropic.com/v1",
    key: process.env.ANTHROPIC_API_KEY,
  },
  groq: {
    base: "https://api.groq.com/openai/v1",
    key: "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",
  },
  openrouter: {
    base: "https://openrouter.ai/api/v1",
    key: process.env.OPENROUTER_API_KEY,
  },
};

async function complete(provider, body) {
  const p = providers[provider];
  const headers = { "Content-Type": "application/json" };
  if (provider === "anthropic") {
    headers["x-api-key"] = p.key;
    headers["anthropic-version"] = "2023-06-01";
  } else {
    headers.Authorization = `Bearer ${p.key}`;
  }
  const r = await fetch(`${p.base}/chat/completions`, { method: "POST", headers, body: JSON.stringify(body) });
  return r.json();
}

module.exports = { complete, providers };
