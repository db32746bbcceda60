"""CLI behaviour that no single stage owns."""
from __future__ import annotations

import socket

from qa import cli


def test_serve_on_a_taken_port_says_so_before_loading_anything(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # An index folder that does not exist: had serve gone on to load or build, it would fail differently.
        rc = cli.main(["serve", "--port", str(port), "--index-dir", str(tmp_path / "none"),
                       "--corpus", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert rc == 6
    assert f"cannot serve on 127.0.0.1:{port}" in err and "--port N" in err and "already running" in err
    assert not (tmp_path / "none").exists()


# -- issue 17, point 7: one `qa: error:` line with a documented exit code, never a traceback ------

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import WriteError
from tests.conftest import require_namespaces

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("where", ["dir", "missing", "proc"])
def test_batch_output_that_cannot_be_written_is_refused_before_answering(tmp_path, capsys, where):
    out = {"dir": tmp_path, "missing": Path("/nonexistent/dir/x"), "proc": Path("/proc/version")}[where]
    if where == "proc" and not out.exists():
        pytest.skip("no /proc/version")
    qfile = tmp_path / "q.txt"
    qfile.write_text("Who is OpenAI's CEO?\n")
    # an index folder that does not exist: had batch gone on to build or answer, it would fail otherwise
    rc = cli.main(["batch", str(qfile), "-o", str(out), "--index-dir", str(tmp_path / "none"),
                   "--corpus", str(tmp_path / "missing"), "-q"])
    err = capsys.readouterr().err
    assert rc == WriteError.exit_code == 7
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: cannot write the answers to ") and "To fix:" in err
    assert "Traceback" not in err and not (tmp_path / "none").exists()
    expect = {"dir": "it is a folder", "missing": "does not exist", "proc": "/proc/version"}[where]
    assert expect in err


def test_output_check_leaves_no_empty_file(tmp_path):
    cli.check_output(tmp_path / "new.jsonl")
    assert not (tmp_path / "new.jsonl").exists()


def test_ask_into_a_closed_pipe_ends_quietly(seeds_index, tmp_path):
    """`qa ask … | head`: exit 141 as for SIGPIPE, nothing on stderr (it used to be a BrokenPipeError)."""
    ix = tmp_path / "ix"
    shutil.copytree(seeds_index, ix)
    r, w = os.pipe()
    os.close(r)  # the reader is gone before qa writes a byte
    p = subprocess.run([sys.executable, "-m", "qa", "ask", "Who is OpenAI's CEO?", "--index-dir", str(ix), "-q"],
                       stdout=w, stderr=subprocess.PIPE, cwd=REPO, timeout=300)
    os.close(w)
    assert p.returncode == cli.EXIT_BROKEN_PIPE == 141, p.stderr.decode()[-2000:]
    assert b"Traceback" not in p.stderr and b"BrokenPipe" not in p.stderr, p.stderr.decode()[-2000:]


def test_index_into_a_read_only_folder_says_so(tmp_path):
    require_namespaces("-m")  # a read-only bind mount in a private mount namespace
    ro = tmp_path / "ro"
    ro.mkdir()
    cmd = (f"mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} && exec {sys.executable} -m qa index "
           f"--corpus {REPO / 'seeds'} --index-dir {ro / 'ix'} -q")
    p = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 7, p.stderr[-2000:]
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: ") and "read-only" in lines[0], p.stderr[-2000:]
