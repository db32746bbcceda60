"""Chunking: sentences and passages of an article, each with exact character offsets."""
