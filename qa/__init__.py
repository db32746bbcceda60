"""qa: answer questions from a folder of news articles, citing the exact sentences.

The package is laid out as the pipeline runs:
``ingest`` (read and clean articles) → ``chunk`` (sentences and passages with exact offsets) →
``embed`` (sentence-transformers, offline) → ``index`` (FAISS + BM25 on disk) → ``retrieve``
(hybrid search) → ``answer`` (templated, cited answers) → ``present`` (JSON, CLI, chat UI).
"""
from __future__ import annotations

from qa.offline import apply_offline_env

__version__ = "0.1.0"

# Before anything can import onnxruntime, Gradio or huggingface_hub: they read these at start-up.
apply_offline_env()
