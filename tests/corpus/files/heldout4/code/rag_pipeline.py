"""RAG pipeline for the runbook assistant (LangChain + Pinecone).

Run:  python rag_pipeline.py --index runbooks-v3 --question "how do I rotate the wg keys?"
"""
import argparse
import os

from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langchain_pinecone import PineconeVectorStore
from langchain_community.tools.tavily_search import TavilySearchResults
from langchain_core.prompts import ChatPromptTemplate
from pinecone import Pinecone

# tracing
os.environ["LANGSMITH_TRACING"] = "true"
os.environ["LANGSMITH_ENDPOINT"] = "https://eu.api.smith.langchain.com"
os.environ["LANGSMITH_API_KEY"] = "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"
os.environ["LANGSMITH_PROJECT"] = "runbook-assistant"
os.environ.setdefault("TAVILY_API_KEY", "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")

EMBED_MODEL = "text-embedding-3-large"
INDEX_HOST = "https://runbooks-v3-ab60rte.svc.aped-4627-b74a.pinecone.io"
NAMESPACE_ID = "acdb6f5e-d7e3-4605-ba8f-4d368cad5398"


def build(index_name: str):
    pc = Pinecone(api_key="pcsk_dLdfs_XoSkxrNiZKjEeVt1nwyXAu9aoitO7qbZEeM1roPSYcepP0N0LMRmYB0OVEzR3tV")
    index = pc.Index(index_name, host=INDEX_HOST)
    emb = OpenAIEmbeddings(model=EMBED_MODEL, api_key=os.environ["OPENAI_API_KEY"])
    store = PineconeVectorStore(index=index, embedding=emb, namespace=NAMESPACE_ID)
    llm = ChatOpenAI(
        model="gpt-4.1-mini",
        temperature=0,
        api_key="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",
        organization="org-H4KuSVBKjdtmUwA6sP3QXard",
    )
    return store, llm


PROMPT = ChatPromptTemplate.from_messages([
    ("system", "Answer from the runbooks only. Cite the runbook path."),
    ("human", "{question}\n\nContext:\n{context}"),
])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="runbooks-v3")
    ap.add_argument("--question", required=True)
    ap.add_argument("--api-key", default=os.getenv("OPENAI_API_KEY", "sk-..."))
    args = ap.parse_args()
    store, llm = build(args.index)
    docs = store.similarity_search(args.question, k=6)
    web = TavilySearchResults(max_results=3)
    ctx = "\n\n".join(d.page_content for d in docs)
    print(llm.invoke(PROMPT.format(question=args.question, context=ctx)).content)


if __name__ == "__main__":
    main()
