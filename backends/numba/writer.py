"""A tiny indented-source writer for generated code."""
from __future__ import annotations

from contextlib import contextmanager


class Writer:
    def __init__(self, level: int = 0):
        self.lines: list[str] = []
        self.level = level

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.level + text) if text else "")

    def comment(self, text: str) -> None:
        for part in text.splitlines():
            self.line("# " + part)

    @contextmanager
    def indent(self):
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
