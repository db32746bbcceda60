"""Ingestion: read article files, clean page junk, find metadata, drop duplicates."""
