"""The ``qa`` command line: index, ask, batch, serve, eval.

Heavy libraries (torch, FAISS, gradio) are imported inside the commands that need them, so
``qa --help`` and argument errors are instant.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from qa.config import DEFAULT_CORPUS, DEFAULT_INDEX_DIR, Precision, SentenceVectors
from qa.errors import QAError

EXAMPLES = {
    "index": "qa index --corpus seeds/ --index-dir index/",
    "ask": 'qa ask "How much has Microsoft invested in OpenAI?" --json',
    "batch": "qa batch questions.txt -o answers.jsonl",
    "serve": "qa serve --port 7860",
    "eval": "qa eval eval/qa.jsonl --configs dense,bm25,hybrid --out eval/out",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR, metavar="DIR",
                   help=f"where the index lives (default: {DEFAULT_INDEX_DIR}/)")
    p.add_argument("--corpus", type=Path, nargs="+", default=[DEFAULT_CORPUS], metavar="PATH",
                   help=f"article folders or files, used when the index must be built (default: {DEFAULT_CORPUS}/)")
    p.add_argument("--model", default=None, metavar="PATH",
                   help="local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--precision", default=Precision.AUTO.value, choices=[p.value for p in Precision],
                   help="number format documents are embedded in (default: auto: bfloat16 on a CPU with "
                        "native bfloat16, else float32 on onnxruntime; float32: torch as shipped)")
    p.add_argument("--store", default=None, metavar="URI",
                   help="where passages are searched: milvus-lite:PATH (an embedded Milvus file) or "
                        "milvus://HOST:PORT (a Milvus server); default: $QA_STORE, else store = \"...\" in "
                        "./qa.toml ($QA_CONFIG), else FAISS + BM25 inside the index folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or warnings")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=10, help="passages to retrieve (default: 10)")
    p.add_argument("--source", action="append", default=[], metavar="OUTLET",
                   help="only articles from this outlet (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="only articles dated on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="only articles dated on or before")
    p.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", default=None,
                   help="the day the question is asked on: later articles are never used, and 'this week', "
                        "'latest' … are read against it ('today' for today; in qa batch, per-question "
                        "'as_of' fields win)")
    p.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"],
                   help="retrieval mode (default: hybrid)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions from a folder of news articles, citing the exact sentences.",
        epilog="examples:\n  " + "\n  ".join(EXAMPLES.values()), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, epilog=f"example:\n  {EXAMPLES[name]}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("index", "build or update the index (incremental: only new or changed articles are embedded)")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="ignore the existing index and build from scratch")
    p.add_argument("--chunk-tokens", type=int, default=None, help="max tokens per chunk (default: 128)")
    p.add_argument("--overlap-tokens", type=int, default=None, help="tokens shared by neighbouring chunks (default: 24)")
    p.add_argument("--sentence-vectors", choices=[v.value for v in SentenceVectors], default=SentenceVectors.POOLED.value,
                   help="pooled (default): sentence vectors from the chunks' own model pass; "
                        "separate: embed every sentence again (about 2x slower to build)")
    p.add_argument("--max-file-mb", type=float, default=20.0, help="skip article files larger than this (default: 20)")
    p.add_argument("--follow-links", action="store_true",
                   help="also index files that symbolic links lead to outside the corpus folder "
                        "(default: such links are skipped with a warning)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="parallel embedding workers (default: every core of this machine)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="embed with Ray Data: on a local Ray instance (loopback only) or on the Ray cluster at "
                        "ADDRESS (HOST:PORT); --workers sets the model actors (default: every CPU). "
                        "Needs `pip install 'ray[data]'`")
    p.add_argument("--verbose", action="store_true", help="list every ingestion warning")

    p = add("ask", "answer one question")
    p.add_argument("question")
    _common(p)
    _filters(p)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = add("batch", "answer every question in a file (.txt one per line, .jsonl, or .csv with a 'question' column)")
    p.add_argument("file", type=Path)
    _common(p)
    _filters(p)
    p.add_argument("-o", "--output", type=Path, default=None, help="output file (default: standard output)")
    p.add_argument("--format", choices=["jsonl", "csv", "md"], default=None,
                   help="output format (default: from the output file's extension, else jsonl)")
    p.add_argument("--batch-size", type=int, default=64, help="questions embedded together (default: 64)")

    p = add("serve", "start the chat UI in the browser")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")

    p = add("eval", "evaluate retrieval and answers on a known Q&A set, or a BEIR folder")
    p.add_argument("file", nargs="?", type=Path, default=Path("eval/qa.jsonl"),
                   help="Q&A set (default: eval/qa.jsonl)")
    _common(p)
    p.add_argument("--configs", default="dense,bm25,hybrid", help="comma-separated retrieval configs (default: dense,bm25,hybrid)")
    p.add_argument("--beir", type=Path, default=None, metavar="DIR", help="evaluate on a BEIR folder instead")
    p.add_argument("--split", default=None,
                   help="with --beir: the qrels split (default: train); with a Q&A set whose items have a "
                        "'split' field: evaluate only that split (e.g. tune, test); default: all, one row per split")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="write metrics.json, report.md, per-question results and plots here")
    p.add_argument("--calibrate", action="store_true", help="sweep the abstention threshold and print the best one")
    p.add_argument("--write-calibration", action="store_true",
                   help="with the sweep, save the best threshold to qa/answer/calibration.json")
    return parser


def _service(args, build: bool = True):
    from qa.pipeline import QAService

    return QAService(index_dir=args.index_dir, corpus=args.corpus, model=args.model, precision=args.precision,
                     progress=not args.quiet, build=build, mode=getattr(args, "mode", "hybrid"), store=args.store)


def _make_filters(args):
    from qa.retrieve.hybrid import Filters

    return Filters(sources=tuple(args.source), date_from=args.date_from, date_to=args.date_to)


def _print_issues(issues, quiet: bool, verbose: bool = False, limit: int = 10) -> None:
    if quiet or not issues:
        return
    shown = issues if verbose else issues[:limit]
    for i in shown:
        print(f"warning: {i}", file=sys.stderr)
    if len(issues) > len(shown):
        print(f"warning: … and {len(issues) - len(shown)} more (use --verbose to list all)", file=sys.stderr)


def cmd_index(args) -> int:
    from qa.config import ChunkParams, resolve_store
    from qa.embed.model import Embedder
    from qa.index.builder import IndexBuilder

    defaults = ChunkParams()
    params = ChunkParams(chunk_tokens=args.chunk_tokens or defaults.chunk_tokens,
                         overlap_tokens=args.overlap_tokens if args.overlap_tokens is not None else defaults.overlap_tokens)
    embedder = Embedder(args.model, precision=args.precision, workers=args.workers)
    if args.ray is not None:
        from qa.embed.ray import RayEmbedder

        embedder = RayEmbedder(embedder, args.ray, workers=args.workers)
    builder = IndexBuilder(embedder, params, max_file_bytes=int(args.max_file_mb * 2**20),
                           progress=not args.quiet, sentence_vectors=args.sentence_vectors,
                           follow_links=args.follow_links, store=resolve_store(args.store))
    up = args.index_dir / "uploads"
    corpus = list(args.corpus) + ([up] if up.is_dir() and any(up.iterdir()) else [])
    try:
        report = builder.run(corpus, args.index_dir, rebuild=args.rebuild)
    finally:
        if args.ray is not None:
            embedder.close()  # the local Ray instance started for this build
    _print_issues(report.issues, args.quiet, args.verbose)
    print(report.summary())
    return 0


def terminal_safe(text: str) -> str:
    """``text`` with control characters other than newline and tab shown as ``\\xNN``: a question
    or article must not be able to send escape sequences to the terminal."""
    return "".join(c if c in "\n\t" or not (ord(c) < 32 or 127 <= ord(c) < 160) else f"\\x{ord(c):02x}"
                   for c in text)


def format_answer(ans) -> str:
    lines = [ans.answer, ""]
    if ans.citations:
        lines.append("Sources:")
        for c in ans.citations:
            who = ", ".join(x for x in (c.source, c.date) if x)
            lines.append(f"  [{c.n}] {c.title}" + (f" ({who})" if who else "") + f" — {c.doc_id}")
            lines.append(f"      “{c.quote}”")
    elif ans.passages:
        lines.append("Closest passages:")
        for p in ans.passages[:3]:
            lines.append(f"  - {p.title} ({p.doc_id}): {p.text[:160]}…")
    if ans.query and ans.query != " ".join(ans.question.split()):
        lines.append(f"(searched for: {ans.query})")
    lines.extend(f"(note: {n})" for n in ans.notes)
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from qa.present.serialize import answer_to_dict

    svc = _service(args)
    if svc.last_build is not None:
        _print_issues(svc.last_build.issues, args.quiet)
    ans = svc.ask(args.question, k=args.k, filters=_make_filters(args), as_of=args.as_of)
    if args.json:
        print(json.dumps(answer_to_dict(ans), ensure_ascii=False))
    else:
        print(terminal_safe(format_answer(ans)))
    return 0


def check_output(path: Path) -> None:
    """Fail before any question is answered when ``path`` cannot be written (a folder, a missing
    folder, ``/proc/version``, a read-only or full disk), instead of after the whole batch."""
    from qa.errors import WriteError, describe_os_error

    if path.is_dir():
        raise WriteError(f"cannot write the answers to {path}: it is a folder. To fix: give a file name, "
                         f"e.g. -o {path / 'answers.jsonl'}")
    if not path.parent.is_dir():
        raise WriteError(f"cannot write the answers to {path}: the folder {path.parent} does not exist. "
                         "To fix: create it first or give another path")
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        cause, fix = describe_os_error(exc, path.parent)
        raise WriteError(f"cannot write the answers to {path} ({cause}). To fix: {fix}") from None
    if not existed:
        path.unlink(missing_ok=True)  # written for real once answering starts


def cmd_batch(args) -> int:
    from qa.errors import WriteError, describe_os_error
    from qa.present.batch import run_batch

    if args.output is not None:
        check_output(args.output)
    svc = _service(args)
    try:
        return run_batch(svc, args.file, args.output, args.format, k=args.k, filters=_make_filters(args),
                         batch_size=args.batch_size, progress=not args.quiet, as_of=args.as_of)
    except BrokenPipeError:
        raise
    except OSError as exc:
        if args.output is None or getattr(exc, "filename", None) not in (None, str(args.output)):
            raise
        cause, fix = describe_os_error(exc, args.output.parent)
        raise WriteError(f"cannot write the answers to {args.output} ({cause}); the answers before it are "
                         f"in the file. To fix: {fix}") from None


def _check_port_free(host: str, port: int) -> None:
    """Fail before loading anything when ``host:port`` is taken (most often: qa is already running)."""
    import socket

    from qa.errors import ServeError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror or exc}. If qa is already running, "
                             f"open http://{host}:{port}/ or stop it; otherwise pick another port with --port N") from None


def cmd_serve(args) -> int:
    from qa.present.ui import launch

    _check_port_free(args.host, args.port)
    svc = _service(args)
    launch(svc, host=args.host, port=args.port)
    return 0


def cmd_eval(args) -> int:
    from qa.evaluate.cli import run_eval

    if args.store:  # the evaluator opens its own QAService, which reads the store from here
        os.environ["QA_STORE"] = args.store
    return run_eval(args)


#: What a shell reports for a process killed by SIGPIPE (128 + 13): `qa ask … | head` ends quietly.
EXIT_BROKEN_PIPE = 141

COMMANDS = {"index": cmd_index, "ask": cmd_ask, "batch": cmd_batch, "serve": cmd_serve, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        rc = COMMANDS[args.command](args)
        sys.stdout.flush()  # inside the try: a reader that has gone shows up here, not at exit
        return rc
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `qa ask … | head`: the reader has gone. Say nothing (it is not an error of ours) and stop
        # Python from complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file qa had to read or write, outside the cases above
        from qa.errors import WriteError, describe_os_error

        cause, fix = describe_os_error(exc)
        where = getattr(exc, "filename", None) or "a file"
        print(f"qa: error: cannot use {where}: {cause}. To fix: {fix}", file=sys.stderr)
        return WriteError.exit_code


if __name__ == "__main__":
    sys.exit(main())
