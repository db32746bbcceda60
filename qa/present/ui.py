"""Minimal chat UI (placeholder until the full UI lands)."""
from __future__ import annotations


def build_app(svc):
    import gradio as gr

    def respond(message, history):
        return svc.ask(message).answer

    return gr.ChatInterface(respond, title="qa — ask the articles")


def launch(svc, host: str = "127.0.0.1", port: int = 7860) -> None:
    build_app(svc).launch(server_name=host, server_port=port)
