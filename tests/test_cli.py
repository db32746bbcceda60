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
