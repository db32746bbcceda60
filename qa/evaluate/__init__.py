"""Evaluation: a known Q&A set (`qa eval`), BEIR retrieval benchmarks, reports and calibration."""
