"""Errors that qa reports to people: each message says what is wrong and how to fix it."""
from __future__ import annotations


class QAError(Exception):
    """Base class for errors shown to users without a traceback."""

    exit_code = 1


class CorpusError(QAError):
    """The corpus could not be read or holds no usable article."""

    exit_code = 2


class IndexError_(QAError):
    """The index is missing, broken, or was built by another model or version."""

    exit_code = 3


class ModelError(QAError):
    """The embedding model could not be found or loaded locally."""

    exit_code = 4


class IndexBusyError(QAError):
    """Another ``qa`` process holds the index lock."""

    exit_code = 5


class ServeError(QAError):
    """The chat UI cannot be served, e.g. its port is taken."""

    exit_code = 6
