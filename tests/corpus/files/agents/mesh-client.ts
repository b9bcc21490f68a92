export interface MeshClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
}

export class MeshClient {
  private readonly token: string;
  constructor(private readonly opts: MeshClientOptions) {
    this.token = opts.token;
  }

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
  }

  async announce(text: string): Promise<void> {
    const r = await fetch(`${this.opts.baseUrl}/v1/announce`, {
      method: "POST",
      headers: { ...this.headers(), "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (!r.ok) throw new Error(`announce failed: ${r.status}`);
  }
}

// usage:
//   const c = new MeshClient({ baseUrl: "http://127.0.0.1:18789", token: process.env.MESH_TOKEN! });
//   await c.announce("📤 CODE PUSH relay v1.4.2");
