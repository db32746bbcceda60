"""qa makes no network connection: the switches that keep the libraries it loads offline.

They are environment variables because the libraries read them once, when they start, from
native code as well as Python; so they are set when the ``qa`` package is imported, before any of
those libraries can be. A value the user has set is kept (setting one is a deliberate opt-in).

The one that mattered in practice: onnxruntime's official Linux wheels (1.32 included) compile in
Microsoft's 1DS telemetry SDK, which is on by default. About ten seconds after the runtime starts
it resolves ``mobile.events.data.microsoft.com`` and opens TLS to port 443 (retrying, and keeping
an SQLite queue of events under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``).
``onnxruntime.disable_telemetry_events()`` only drops non-essential events after the uploader has
started; ``ORT_DISABLE_TELEMETRY=1`` read at start-up is what stops the uploader, the events and
the device identifier from being created at all (the wheel's ``Privacy.md``).
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Variable -> value that turns a library's network use off.
OFFLINE_ENV: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime: no 1DS uploader (see the module docstring)
    "HF_HUB_OFFLINE": "1",  # huggingface_hub / sentence-transformers: local files only
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",  # Gradio: no analytics or version check on launch
    "DO_NOT_TRACK": "1",  # the cross-tool convention some libraries honour
}


def apply_offline_env(environ: MutableMapping[str, str] | None = None) -> None:
    """Set every :data:`OFFLINE_ENV` variable in ``environ`` (default ``os.environ``) that is unset."""
    env = os.environ if environ is None else environ
    for name, value in OFFLINE_ENV.items():
        env.setdefault(name, value)
