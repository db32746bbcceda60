"""Embedding: a local sentence-transformers model, loaded offline."""
