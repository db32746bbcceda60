"""The ONNX question encoder against the torch model, and when it must not be used."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qa.embed.onnx import META_FILE, ONNX_FILE, EncoderSpec, QueryEncoder, ensure_query_encoder, export_query_encoder

TEXTS = [
    "How much has Microsoft invested in OpenAI?",
    "ok",
    "Ünïcödé, emoji 🚀 and 中文 in one question?",
    " ".join(["A question that runs far past the model's 256-token limit and must be truncated"] * 40),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("onnx")
    assert export_query_encoder(embedder, folder) == folder / ONNX_FILE
    return folder


@pytest.fixture(scope="module")
def float32_vectors(embedder):
    from qa.embed.model import Embedder

    # torch as shipped (``auto`` float32 embeds builds on onnxruntime, which is what is checked here)
    exact = embedder if embedder.requested_precision.value == "float32" else Embedder(precision="float32")
    return exact.encode(TEXTS)


def test_same_vectors_as_the_float32_model(exported, embedder, float32_vectors):
    enc = QueryEncoder.open(exported, embedder.path, embedder.info.model_id)
    got = enc.encode(TEXTS)
    assert got.shape == float32_vectors.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, float32_vectors, atol=1e-5)


def test_export_is_reused_while_current(exported, embedder):
    before = (exported / ONNX_FILE).stat().st_mtime_ns
    assert export_query_encoder(embedder, exported) == exported / ONNX_FILE
    assert (exported / ONNX_FILE).stat().st_mtime_ns == before


@pytest.mark.parametrize("damage", ["other-model", "no-meta", "no-onnx", "garbage-onnx"])
def test_stale_or_damaged_export_is_not_used_and_is_remade(tmp_path, exported, embedder, float32_vectors, damage):
    folder = tmp_path / "ix"
    shutil.copytree(exported, folder)
    if damage == "other-model":
        meta = json.loads((folder / META_FILE).read_text())
        (folder / META_FILE).write_text(json.dumps({**meta, "model_id": "someone/else@123"}))
    elif damage == "no-meta":
        (folder / META_FILE).unlink()
    elif damage == "no-onnx":
        (folder / ONNX_FILE).unlink()
    else:
        (folder / ONNX_FILE).write_bytes(b"not an onnx model")
    assert QueryEncoder.open(folder, embedder.path, embedder.info.model_id) is None
    if damage == "garbage-onnx":  # the metadata still names this model: make it stale so it is remade
        (folder / META_FILE).unlink()
    enc = ensure_query_encoder(folder, embedder)
    assert enc is not None
    np.testing.assert_allclose(enc.encode(TEXTS[:1]), float32_vectors[:1], atol=1e-5)


def _model_copy(embedder, tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(embedder.path, dst)
    return dst


@pytest.mark.parametrize("change", ["dense-layer", "max-pooling", "no-tokenizer-json"])
def test_models_the_export_cannot_reproduce_are_left_to_torch(tmp_path, embedder, change):
    path = _model_copy(embedder, tmp_path)
    if change == "dense-layer":
        modules = json.loads((path / "modules.json").read_text())
        modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
        (path / "modules.json").write_text(json.dumps(modules))
    elif change == "max-pooling":
        cfg = json.loads((path / "1_Pooling" / "config.json").read_text())
        cfg.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
        (path / "1_Pooling" / "config.json").write_text(json.dumps(cfg))
    else:
        (path / "tokenizer.json").unlink()
    assert EncoderSpec.for_model(path, "x", 256) is None


def test_lower_case_models_lower_the_question(tmp_path, exported, embedder):
    path = _model_copy(embedder, tmp_path)
    (path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256, "do_lower_case": True}))
    spec = EncoderSpec.for_model(path, embedder.info.model_id, 256)
    assert spec.lower_case
    meta = json.loads((exported / META_FILE).read_text())
    folder = tmp_path / "ix"
    shutil.copytree(exported, folder)
    (folder / META_FILE).write_text(json.dumps({**meta, "lower_case": True}))
    enc = QueryEncoder.open(folder, path, embedder.info.model_id)
    seen = []
    real = enc._tokenizer
    enc._tokenizer = type("Spy", (), {"encode_batch": lambda self, texts: seen.extend(texts) or real.encode_batch(texts)})()
    enc.encode(["Who Runs OpenAI?"])
    assert seen == ["who runs openai?"]


def test_embedder_routes_single_questions_to_the_query_encoder(exported, embedder, float32_vectors):
    from qa.embed.model import Embedder

    e = Embedder()
    calls = []

    class Spy:
        def encode(self, texts):
            calls.append(list(texts))
            return QueryEncoder.open(exported, e.path, e.info.model_id).encode(texts)

    e.use_query_encoder(Spy())
    np.testing.assert_allclose(e.encode_query(TEXTS[0]), float32_vectors[0], atol=1e-5)
    assert calls == [[TEXTS[0]]] and e._model is None  # torch never loaded
    e.use_query_encoder(None)
    np.testing.assert_allclose(e.encode_query(TEXTS[0]), float32_vectors[0], atol=1e-3)
    assert e._model is not None


def test_answering_from_a_built_index_never_imports_torch(seeds_index):
    """The point of the export: a question is answered from a fresh process without torch."""
    code = (
        "import sys\n"
        "from qa.pipeline import QAService\n"
        f"svc = QAService(index_dir={str(seeds_index)!r}, build=False, progress=False)\n"
        "a = svc.ask('How much has Microsoft invested in OpenAI?')\n"
        "assert a.citations, a\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
