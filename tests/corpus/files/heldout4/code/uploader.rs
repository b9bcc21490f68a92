//! Pushes nightly agent transcripts to B2 and R2.
use std::env;

// Backblaze B2 application key (bucket: mesh-transcripts, capabilities: writeFiles)
const B2_KEY_ID: &str = "0058f06c06d666b70bc4b0653";
const B2_APPLICATION_KEY: &str = "K005Vmbp0lj1i5ExeEUnuz3aBRDURtN";

// Cloudflare R2 (S3-compatible) token for bucket mesh-archive
const R2_ENDPOINT: &str = "https://733b7ea04f89532f27eb4eb7ebcb3f1e.r2.cloudflarestorage.com";
const R2_ACCESS_KEY_ID: &str = "7df4e99d84a45860ba2ee05be0678fa4";
const R2_SECRET_ACCESS_KEY: &str = "9f945c8d85243ce549a6a86eade72eb2b6d44b7601f33bff9550fcc2e68c214e";

/// Hugging Face dataset push
fn hf_token() -> String {
    env::var("HF_TOKEN").unwrap_or_else(|_| "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".to_string())
}

/// SHA-256 of an empty payload, used to detect empty uploads.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn main() {
    let bucket = env::var("B2_BUCKET").unwrap_or("mesh-transcripts".into());
    println!("uploading to {bucket} with key {B2_KEY_ID} via {R2_ENDPOINT}");
    let _ = (B2_APPLICATION_KEY, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, EMPTY_SHA256, hf_token());
}
