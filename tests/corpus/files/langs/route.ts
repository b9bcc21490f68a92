import type { NextApiRequest, NextApiResponse } from "next";

const RESEND_KEY = "re_iRaRwfyV_2LSiNzoKeNKXWFXgYLxX7fag";
const FROM = "relay@mesh.example";

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  if (req.method !== "POST") return res.status(405).end();
  const r = await fetch("https://api.resend.com/emails", {
    method: "POST",
    headers: { Authorization: `Bearer ${RESEND_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ from: FROM, to: req.body.to, subject: "hello", text: "hi" }),
  });
  res.status(r.status).json(await r.json());
}
