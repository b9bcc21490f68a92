import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Resend } from "resend";

const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });

// xAI is OpenAI-compatible
const grok = new OpenAI({
  baseURL: "https://api.x.ai/v1",
  apiKey: "xai-OXkm7eRWPaIO9SZRriRoynsfHOVUIGPUt9mGGFmsMpsb6P32rrxcwMa8r0ujG9SXdSDnWL2NVed1tLG2",
});

const resend = new Resend("re_yAqVOV5m_Uysy7KmPmraSP8uyHuo1Uyrl");

const ELEVEN_VOICE_ID = "21m00Tcm4TlvDq8ikWAM";
const ELEVENLABS_KEY = "sk_ce97f8e4345752e7b795069ca70cadb735b36a335f4a81f8";

export async function speak(text: string): Promise<ArrayBuffer> {
  const res = await fetch(`https://api.elevenlabs.io/v1/text-to-speech/${ELEVEN_VOICE_ID}`, {
    method: "POST",
    headers: { "xi-api-key": ELEVENLABS_KEY, "content-type": "application/json" },
    body: JSON.stringify({ text, model_id: "eleven_multilingual_v2" }),
  });
  return res.arrayBuffer();
}

export async function summarize(log: string) {
  const msg = await anthropic.messages.create({
    model: "claude-sonnet-4-20250514",
    max_tokens: 1024,
    messages: [{ role: "user", content: `Summarize this incident log:\n${log}` }],
  });
  const trace = { requestId: msg.id, idempotencyKey: "c2a1084a-3f59-4b28-b228-4ec0d0262426" };
  console.log(trace);
  return msg.content;
}

export async function mail(to: string, html: string) {
  await resend.emails.send({ from: "mesh <ops@mesh.example>", to, subject: "digest", html });
}

export async function search(q: string) {
  const r = await fetch("https://api.perplexity.ai/chat/completions", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${process.env.PPLX_API_KEY ?? "pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ model: "sonar", messages: [{ role: "user", content: q }] }),
  });
  return r.json();
}
