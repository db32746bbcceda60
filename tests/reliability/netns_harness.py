"""Run commands in a network namespace that has only loopback, and log every attempt to go out.

Started by the test as ``unshare -n -m python netns_harness.py REPORT.json [options]``. Inside the
new namespaces (network and mount, both private to this process tree) it:

1. brings ``lo`` up and, where ``ip`` exists, routes every IPv4 address to it (``local 0.0.0.0/0``),
   so that a connection to any address lands on this machine instead of failing unseen;
2. bind-mounts a ``resolv.conf`` naming 127.0.0.1 over ``/etc/resolv.conf`` and answers DNS there
   itself (UDP and TCP port 53): every query is logged, and A queries get 10.77.77.77 so a client
   goes on to connect;
3. listens on TCP 80 and 443 of every address and logs each connection (then closes it);
4. runs the ``--background`` commands, the ``--ask`` client and the ``--run`` commands, keeps the
   namespace up for ``--min-seconds``, stops the background commands, and writes REPORT.json:
   ``dns`` (query names), ``connections`` (peer and port), ``commands`` (rc, seconds, output tail),
   ``answers`` (what the ``--ask`` client got).

Nothing here can reach a real network: the namespace has no interface but ``lo``.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

FAKE_ADDRESS = "10.77.77.77"
SINK_PORTS = (80, 443)


class Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dns: list[dict] = []
        self.connections: list[dict] = []

    def add(self, kind: str, rec: dict) -> None:
        with self.lock:
            getattr(self, kind).append({"t": round(time.monotonic() - T0, 2), **rec})


T0 = time.monotonic()


def _qname(packet: bytes) -> tuple[str, int, int]:
    """Query name, type and the offset after the question of a DNS query packet."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", packet[i + 1:i + 3])[0] if i + 3 <= len(packet) else 0
    return ".".join(labels), qtype, i + 5


def _answer(packet: bytes) -> bytes:
    name, qtype, end = _qname(packet)
    header = packet[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if qtype == 1 else 0, 0, 0)
    body = packet[12:end]
    if qtype == 1:
        body += struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(FAKE_ADDRESS)
    return header + body


def serve_dns(log: Log) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", 53))
    tcp.listen(16)

    def udp_loop() -> None:
        while True:
            data, peer = udp.recvfrom(4096)
            name, qtype, _ = _qname(data)
            log.add("dns", {"name": name, "type": qtype, "via": "udp"})
            udp.sendto(_answer(data), peer)

    def tcp_loop() -> None:
        while True:
            conn, _ = tcp.accept()
            with conn:
                try:
                    size = struct.unpack("!H", conn.recv(2))[0]
                    data = conn.recv(size)
                    name, qtype, _ = _qname(data)
                    log.add("dns", {"name": name, "type": qtype, "via": "tcp"})
                    reply = _answer(data)
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    pass

    for target in (udp_loop, tcp_loop):
        threading.Thread(target=target, daemon=True).start()


def serve_sinks(log: Log) -> None:
    for port in SINK_PORTS:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(16)

        def loop(sock=s, port=port) -> None:
            while True:
                conn, peer = sock.accept()
                dest = conn.getsockname()[0]
                log.add("connections", {"to": f"{dest}:{port}", "from": f"{peer[0]}:{peer[1]}"})
                conn.close()

        threading.Thread(target=loop, daemon=True).start()


def setup_network(workdir: Path) -> list[str]:
    """Loopback up, every address routed to it, DNS pointed at 127.0.0.1. Returns notes."""
    notes = []
    ip = shutil.which("ip")
    if ip:
        subprocess.run([ip, "link", "set", "lo", "up"], check=True)
        r = subprocess.run([ip, "route", "add", "local", "0.0.0.0/0", "dev", "lo"], capture_output=True, text=True)
        if r.returncode:
            notes.append(f"any-address route not added: {r.stderr.strip()}")
    else:
        import fcntl

        s = socket.socket()
        ifreq = struct.pack("16sH14s", b"lo", 0x1 | 0x8, b"\0" * 14)  # IFF_UP | IFF_LOOPBACK
        fcntl.ioctl(s.fileno(), 0x8914, ifreq)  # SIOCSIFFLAGS
        notes.append("no `ip`: connections to addresses other than 127.0.0.0/8 are not seen")
    resolv = workdir / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    return notes


def ask_client(port: int, questions: list[str], timeout: float) -> list[dict]:
    """Wait for the chat server on ``port``, then ask each question through its ``/ask`` API."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/", timeout=2).read(100)
            break
        except OSError:
            if time.monotonic() > deadline:
                return [{"error": "server never came up"}]
            time.sleep(0.5)
    out = []
    # Raw HTTP calls must send every argument; the others take the defaults the server publishes.
    try:
        info = json.loads(urllib.request.urlopen(base + "/gradio_api/info", timeout=30).read())
        params = info["named_endpoints"]["/ask"]["parameters"][1:]
        rest = [p.get("parameter_default") for p in params]
    except Exception as exc:  # noqa: BLE001 - reported, and the test fails on it
        return [{"error": f"no /ask API info: {type(exc).__name__}: {exc}"}]
    for q in questions:
        try:
            req = urllib.request.Request(base + "/gradio_api/call/ask", data=json.dumps({"data": [q, *rest]}).encode(),
                                         headers={"Content-Type": "application/json"})
            event = json.loads(urllib.request.urlopen(req, timeout=30).read())["event_id"]
            stream = urllib.request.urlopen(f"{base}/gradio_api/call/ask/{event}", timeout=60).read().decode()
            data = [line[6:] for line in stream.splitlines() if line.startswith("data: ")]
            payload = json.loads(data[-1])
            ans = payload[0] if isinstance(payload, list) and payload else payload
            out.append({"question": q, "answer": ans.get("answer") if isinstance(ans, dict) else None})
        except Exception as exc:  # noqa: BLE001 - reported, and the test fails on it
            out.append({"question": q, "error": f"{type(exc).__name__}: {exc}"})
    return out


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("report", type=Path)
    ap.add_argument("--background", action="append", default=[], help="command to start first and stop at the end")
    ap.add_argument("--run", action="append", default=[], help="command to run to completion, in order")
    ap.add_argument("--ask-port", type=int, default=0)
    ap.add_argument("--ask", action="append", default=[], help="question for the --ask-port server")
    ap.add_argument("--min-seconds", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()

    log = Log()
    workdir = Path(tempfile.mkdtemp(prefix="netns-"))
    report: dict = {"notes": setup_network(workdir), "commands": [], "answers": []}
    serve_dns(log)
    serve_sinks(log)
    env = dict(os.environ)
    procs = []
    for i, cmd in enumerate(args.background):
        out = workdir / f"bg{i}.log"
        fh = open(out, "wb")
        procs.append((cmd, subprocess.Popen(shlex.split(cmd), stdout=fh, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True), out, time.monotonic()))
    if args.ask_port:
        report["answers"] = ask_client(args.ask_port, args.ask, args.timeout)
    for cmd in args.run:
        t = time.monotonic()
        r = subprocess.run(shlex.split(cmd), capture_output=True, env=env, timeout=args.timeout)
        report["commands"].append({"cmd": cmd, "rc": r.returncode, "seconds": round(time.monotonic() - t, 1),
                                   "output": (r.stdout + r.stderr).decode(errors="replace")[-3000:]})
    while time.monotonic() - T0 < args.min_seconds:
        time.sleep(0.5)
    for cmd, proc, out, t in procs:
        alive = proc.poll() is None
        if alive:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        report["commands"].append({"cmd": cmd, "rc": None if alive else proc.returncode, "background": True,
                                   "ran_until_stopped": alive, "seconds": round(time.monotonic() - t, 1),
                                   "output": _tail(out)})
    time.sleep(0.5)  # a last lookup in flight
    report["dns"], report["connections"] = log.dns, log.connections
    report["seconds"] = round(time.monotonic() - T0, 1)
    args.report.write_text(json.dumps(report, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
