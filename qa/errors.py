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


class StoreNotLoaded(IndexError_):
    """The index folder exists but its passages were never loaded into the ``--store`` named (no
    collection there yet): ``qa index --store`` loads them without embedding anything again."""


class ModelError(QAError):
    """The embedding model could not be found or loaded locally."""

    exit_code = 4


class IndexBusyError(QAError):
    """Another ``qa`` process holds the index lock."""

    exit_code = 5


class ServeError(QAError):
    """The chat UI cannot be served, e.g. its port is taken."""

    exit_code = 6


class WriteError(QAError):
    """A file qa must write cannot be written: the disk is full, the folder is read-only, or the
    path is a folder, missing or not writable. Whatever was live before stays intact."""

    exit_code = 7


class RayError(QAError):
    """``qa index --ray``: Ray is not installed, or the cluster at the given address cannot be reached."""

    exit_code = 8


def describe_os_error(exc: BaseException, where=None) -> tuple[str, str]:
    """``(cause, fix)`` for an error raised while writing under ``where`` (a path, or None).

    numpy and FAISS report a full disk without an errno ("8176 written", a RuntimeError), so the
    free space left under ``where`` is looked at too.
    """
    import errno
    import shutil

    code = getattr(exc, "errno", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    full = code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text
    if not full and where is not None and code is None:
        try:
            full = shutil.disk_usage(where).free < 2**20
        except OSError:
            pass
    if full:
        return "no space left on the disk", (f"free some space (see `df -h {where}`) or use a folder on another "
                                             "disk" if where is not None else "free some space")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (exc.strerror or text).lower(), "qa needs write access there: fix the permissions or use another folder"
    if code == errno.EISDIR:
        return "it is a folder", "give a file name"
    if code in (errno.ENOENT, errno.ENOTDIR):
        return "its folder does not exist", "create the folder first or give another path"
    return (getattr(exc, "strerror", None) or text), "check the path and the disk, then try again"
