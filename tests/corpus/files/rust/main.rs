use secrecy::{ExposeSecret, Secret};
use std::env;

const USER_AGENT: &str = "mesh-relay/1.4";
const SENTRY_DSN: &str = "https://7fc9d81acf9529d9f4c8cd4dd868bcc8@o437348.ingest.sentry.io/5306187";

fn token() -> Secret<String> {
    Secret::new(env::var("GATEWAY_TOKEN").expect("GATEWAY_TOKEN"))
}

fn main() {
    let t = token();
    let client = reqwest::blocking::Client::new();
    let r = client
        .get("http://127.0.0.1:18789/health")
        .bearer_auth(t.expose_secret())
        .header("User-Agent", USER_AGENT)
        .send()
        .unwrap();
    println!("{}", r.status());
}
