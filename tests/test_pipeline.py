"""The service refuses an index built with another model, and the CLI answers from a fresh index."""
from __future__ import annotations

import json
import shutil

import pytest

from qa.cli import main
from qa.errors import IndexError_, ModelError
from qa.pipeline import QAService


def test_model_mismatch_refused(tmp_path, seeds_index, embedder):
    other = tmp_path / "other-model"
    shutil.copytree(embedder.path, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["qa_test_marker"] = "a different model"
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(IndexError_) as err:
        QAService(index_dir=seeds_index, model=other, progress=False, build=False)
    msg = str(err.value)
    assert embedder.info.model_id in msg and "rebuild" in msg


def test_missing_model_path_is_clear(tmp_path):
    with pytest.raises(ModelError, match="no such folder"):
        QAService(index_dir=tmp_path / "ix", model=tmp_path / "nope", progress=False)


def test_cli_ask_json_finds_ip_sentence(tmp_path, seeds_copy, capsys):
    ix = tmp_path / "ix"
    code = main(["ask", "Until which year have Microsoft's IP rights been extended?", "--json", "-q",
                 "--index-dir", str(ix), "--corpus", str(seeds_copy)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["passages"]) >= 10
    assert any("extended until 2032" in p["text"] for p in out["passages"][:3])
    assert set(out["timing_ms"]) >= {"retrieve", "answer", "total"}


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("index", "ask", "batch", "serve", "eval"):
        assert cmd in out


@pytest.mark.parametrize("cmd", ["index", "ask", "batch", "serve", "eval"])
def test_each_command_help_has_example(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    assert "example:" in capsys.readouterr().out


def test_batch_formats(tmp_path, service):
    from qa.present.batch import run_batch

    qs = tmp_path / "q.csv"
    qs.write_text("id,question\na,Who is OpenAI's CEO?\nb,\nc,Until when are Microsoft's IP rights extended?\n")
    for fmt in ("jsonl", "csv", "md"):
        out = tmp_path / f"out.{fmt}"
        assert run_batch(service, qs, out, None, progress=False) == 0
        text = out.read_text()
        assert "Sam Altman" in text or "Altman" in text
    recs = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == ["a", "b", "c"]
    assert "error" in recs[1] and "error" not in recs[0]
