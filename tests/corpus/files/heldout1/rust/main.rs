use reqwest::Client;
use std::env;

const HF_TOKEN: &str = "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";
const USER_AGENT: &str = "mesh-embed/0.3";
const PASSWORD_PROMPT: &str = "Enter password: ";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = Client::builder().user_agent(USER_AGENT).build()?;
    let api_key = env::var("ELEVENLABS_API_KEY").unwrap_or_default();
    let resp = client
        .post("https://api.openai.com/v1/embeddings")
        .bearer_auth("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")
        .json(&serde_json::json!({"model": "text-embedding-3-small", "input": "hi"}))
        .send()
        .await?;
    println!("{}", resp.status());
    let _ = api_key;
    let db = "mysql://embed:iLnTNbBmSHohGFlVpUub@mysql.mesh.internal:3306/embeddings";
    let _ = db;
    Ok(())
}
