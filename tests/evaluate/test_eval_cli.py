"""`qa eval` on the seeds index through the CLI, with calibration written to a temporary path."""
from __future__ import annotations

import json

from qa.cli import main


def test_qa_eval_cli_writes_report_and_calibration(tmp_path, seeds_index, qa_items, monkeypatch, capsys):
    import qa.evaluate.cli as eval_cli

    cal = tmp_path / "calibration.json"
    monkeypatch.setattr(eval_cli, "CALIBRATION_PATH", cal)
    subset = [it for it in qa_items if it.answerable][:3] + [it for it in qa_items if not it.answerable][:2]
    qa_file = tmp_path / "qa.jsonl"
    qa_file.write_text("".join(json.dumps({"id": it.id, "question": it.question, "answers": list(it.answers),
                                           "docs": list(it.docs), "evidence": it.evidence, "type": it.type}) + "\n"
                               for it in subset), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["eval", str(qa_file), "--index-dir", str(seeds_index), "--configs", "bm25,hybrid", "--out", str(out),
            "-q", "--calibrate", "--write-calibration"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "5 questions (2 unanswerable)" in printed and "by question type (hybrid)" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {"bm25", "hybrid"}
    if "calibration" in metrics:  # the answerer reports Answer.support
        assert "best threshold" in printed
        assert json.loads(cal.read_text())["pooled"]["abstain_threshold"] == round(metrics["calibration"]["best"], 6)
    else:
        assert not cal.exists()


def test_unknown_config_is_a_usage_error(tmp_path, capsys):
    assert main(["eval", "--configs", "dense,colbert", "--index-dir", str(tmp_path / "none")]) == 2
    assert "valid: hybrid, dense, bm25" in capsys.readouterr().err
