"""The on-disk index: FAISS over chunk vectors, bm25s over chunk text, JSON/NumPy metadata."""
