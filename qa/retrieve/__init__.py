"""Retrieval: dense (FAISS) and lexical (BM25) search fused by reciprocal rank."""
