"""The Milvus server the test session starts (``.ci/milvus``) is reachable on loopback only.

Milvus 2.3.5 listens on every interface with no setting to change it, so ``.ci/milvus`` runs it in a
network namespace holding only loopback and bridges its proxy port to 127.0.0.1. This test reads
every listening TCP socket of the server's process group from ``/proc`` and fails on one that
another machine could reach: bound to a non-loopback address in this machine's namespace, or in a
namespace that has an interface other than ``lo``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

MILVUS_DIR = Path(os.environ.get("QA_MILVUS_DIR", "/tmp/qa-milvus"))
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc/net/tcp prints them
LISTEN = "0A"

pytestmark = pytest.mark.skipif(not (MILVUS_DIR / "pid").is_file() or os.environ.get("QA_START_MILVUS") != "1",
                                reason="needs the Milvus server the session starts (QA_START_MILVUS=1)")


def _group(pgid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        except OSError:
            continue
        if m:
            out.add(m.group(1))
    return out


def _listeners(pid: int) -> list[tuple[str, int, str]]:
    """``(address hex, port, inode)`` of the LISTEN sockets in ``pid``'s network namespace."""
    rows = []
    for name in ("tcp", "tcp6"):
        f = Path("/proc") / str(pid) / "net" / name
        if not f.is_file():
            continue
        for line in f.read_text().splitlines()[1:]:
            cols = line.split()
            addr, port = cols[1].split(":")
            if cols[3] == LISTEN:
                rows.append((addr, int(port, 16), cols[9]))
    return rows


def test_milvus_server_listens_on_loopback_only():
    pgid = int((MILVUS_DIR / "pid").read_text())
    pids = _group(pgid)
    assert pids, f"no process in the Milvus server's group {pgid}"
    ours = os.readlink("/proc/self/ns/net")
    seen = 0
    for pid in pids:
        try:
            inodes, netns = _socket_inodes(pid), os.readlink(f"/proc/{pid}/ns/net")
            listeners = _listeners(pid)
            ifaces = [ln.split(":")[0].strip() for ln in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]]
        except FileNotFoundError:
            continue  # exited meanwhile
        for addr, port, inode in listeners:
            if inode not in inodes:
                continue
            seen += 1
            if netns == ours:
                assert addr in LOOPBACK, f"pid {pid} listens on {addr}:{port} in this machine's namespace"
            else:
                assert ifaces == ["lo"], f"pid {pid} listens on port {port} in a namespace with {ifaces}"
    assert seen >= 2, "expected the server's ports and the loopback bridge among the listeners"
