from huggingface_hub import InferenceClient
import os

# token for the private embedding model
HF_TOKEN = "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"

client = InferenceClient(model="mesh/embedder-small", token=HF_TOKEN)

def embed(texts):
    return client.feature_extraction(texts)

if __name__ == "__main__":
    cache = os.path.expanduser("~/.cache/mesh/embeddings")
    os.makedirs(cache, exist_ok=True)
    print(len(embed(["hello", "world"])))
