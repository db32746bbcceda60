"""Forward TCP connections to a Unix socket, or a Unix socket to TCP, byte for byte.

Milvus 2.3.5 listens on every interface and has no setting to change that, so `.ci/milvus` runs it
in a network namespace of its own (loopback only, unreachable from outside) and joins the two
namespaces through a Unix socket, which lives in the file system and so is seen by both:

    python .ci/unix_bridge.py unix:/tmp/qa-milvus/proxy.sock tcp:127.0.0.1:19530   # inside the namespace
    python .ci/unix_bridge.py tcp:127.0.0.1:19530 unix:/tmp/qa-milvus/proxy.sock   # outside, on loopback

The first address is listened on, the second connected to for each accepted connection. Standard
library only (it runs before, and apart from, the project's venv).
"""
from __future__ import annotations

import asyncio
import os
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def _open(addr: str):
    kind, _, rest = addr.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(rest)
    host, _, port = rest.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def _serve(listen: str, target: str) -> None:
    async def handle(reader, writer) -> None:
        try:
            up_reader, up_writer = await _open(target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    kind, _, rest = listen.partition(":")
    if kind == "unix":
        if os.path.exists(rest):
            os.unlink(rest)
        server = await asyncio.start_unix_server(handle, rest)
    else:
        host, _, port = rest.rpartition(":")
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise SystemExit(f"unix_bridge: refusing to listen on {host!r}: loopback only")
        server = await asyncio.start_server(handle, host, int(port))
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(a.split(":", 1)[0] in ("unix", "tcp") for a in argv):
        print("usage: unix_bridge.py LISTEN TARGET  (each unix:PATH or tcp:HOST:PORT)", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(argv[0], argv[1]))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
