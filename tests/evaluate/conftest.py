"""Fixtures for the evaluation tests: the seeds Q&A set, evaluated once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

QA_FILE = REPO / "eval" / "qa.jsonl"


@pytest.fixture(scope="session")
def qa_items():
    from qa.evaluate.dataset import load_qa

    return load_qa(QA_FILE)


@pytest.fixture(scope="session")
def hybrid_eval(service, qa_items):
    """The whole seeds Q&A set answered in hybrid mode (the default), with calibration data."""
    from qa.evaluate.runner import QAEvaluator

    return QAEvaluator(service, ["hybrid"], calibrate=True).run(qa_items, dataset=str(QA_FILE))
