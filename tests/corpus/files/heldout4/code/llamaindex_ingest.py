import os
import hashlib

from llama_index.core import VectorStoreIndex, StorageContext, Settings
from llama_index.readers.web import FireCrawlWebReader
from llama_index.vector_stores.qdrant import QdrantVectorStore
from llama_index.llms.anthropic import Anthropic
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_parse import LlamaParse
import qdrant_client

LLAMA_CLOUD_API_KEY = "llx-5AVQnIDLZzDd5EWaGI7svUPIVaKxm2zZ6rWkXTwZ0ulqL8AR"
QDRANT_URL = "https://1d5d72e4-fd48-4cc7-8c7c-7b5728d5c637.eu-central-1-0.aws.cloud.qdrant.io:6333"
QDRANT_API_KEY = "FZ0U4hVm7WMxBBtt-EdprYFhLlFIJLMc|qdklGs-hmK4h1623xK8gmrudedSnVmtpoBCj6PW9"
HF_TOKEN = os.environ.get("HF_TOKEN")  # hf_... from huggingface.co/settings/tokens
ANTHROPIC_KEY = os.environ["ANTHROPIC_API_KEY"]

# expected sha256 of the parsed corpus manifest (for reproducibility)
MANIFEST_SHA256 = "0c457a96a6a7bd30f262f505bbedc32dec1f43351a5165830a90344f546e9b3c"

Settings.llm = Anthropic(model="claude-3-5-haiku-latest", api_key=ANTHROPIC_KEY)
Settings.embed_model = HuggingFaceEmbedding(model_name="BAAI/bge-small-en-v1.5")


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def ingest(paths):
    parser = LlamaParse(api_key=LLAMA_CLOUD_API_KEY, result_type="markdown")
    docs = parser.load_data(paths)
    client = qdrant_client.QdrantClient(url=QDRANT_URL, api_key=QDRANT_API_KEY)
    store = QdrantVectorStore(client=client, collection_name="incidents")
    ctx = StorageContext.from_defaults(vector_store=store)
    return VectorStoreIndex.from_documents(docs, storage_context=ctx)


def crawl():
    reader = FireCrawlWebReader(api_key="fc-YOUR_API_KEY", mode="crawl")
    return reader.load_data(url="https://status.mesh.internal")


if __name__ == "__main__":
    idx = ingest(["./incidents/2025-03.pdf"])
    print(idx.as_query_engine().query("Which tokens leaked in March?"))
