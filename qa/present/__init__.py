"""Presentation: the JSON shape, the CLI and the chat UI."""
