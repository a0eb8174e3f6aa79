"""Terminal output for the tool: colour, tables and progress on a terminal, plain text in a pipe.

Everything the subcommands print goes through ``Out`` so that piped output
has no escape codes and no wrapping (tests and scripts parse it) while a
terminal gets highlighted IR, rich tables and a progress bar.
"""
from __future__ import annotations

import sys
import threading
from typing import Iterable, Optional, Sequence

from rich.console import Console
from rich.highlighter import RegexHighlighter
from rich.table import Table
from rich.theme import Theme


class IRHighlighter(RegexHighlighter):
    """Colours IR text: values, types, op names, devices, comments."""

    base_style = "ir."
    highlights = [
        r"(?P<value>%[\w/.\-~#\"]+)",
        r"(?P<type>\b(?:f32|f64|i32|i64|bool|str)\[[^\]]*\])",
        r"(?P<op>\b[A-Z][A-Za-z0-9]*)\(",
        r"(?P<device>@[\w:\"]+)",
        r"(?P<comment>#  ?[^\n]*$)",
        r"(?P<keyword>^\s*(?:graph|return|targets)\b)",
    ]


THEME = Theme({"ir.value": "cyan", "ir.type": "green", "ir.op": "bold yellow", "ir.device": "magenta",
               "ir.comment": "dim", "ir.keyword": "bold blue", "diff.add": "green", "diff.del": "red",
               "diff.hunk": "cyan"})


_JUSTIFY = {"l": "left", "r": "right", "c": "center"}


class Out:
    """Where a subcommand prints; ``Out(force_terminal=True)`` for colour anyway."""

    def __init__(self, file=None, force_terminal: Optional[bool] = None):
        self.file = file or sys.stdout
        self.console = Console(file=self.file, theme=THEME, force_terminal=force_terminal,
                               highlight=False, soft_wrap=True)
        if not self.console.is_terminal:
            self.console.width = 200  # a pipe has no width: do not wrap tables for it

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal

    def line(self, text: str = "", style: Optional[str] = None) -> None:
        """Print text as is (markup characters are not interpreted)."""
        if self.is_terminal:
            self.console.print(text, style=style, markup=False)
        else:
            self.file.write(text + "\n")

    def heading(self, text: str) -> None:
        if self.is_terminal:
            self.console.rule(f"[bold]{text}")
        else:
            self.file.write(f"== {text} ==\n")

    def ir(self, text: str) -> None:
        """IR text, highlighted on a terminal."""
        if self.is_terminal:
            self.console.print(IRHighlighter()(text))
        else:
            self.file.write(text.rstrip("\n") + "\n")

    def table(self, columns: Sequence[str], rows: Iterable[Sequence], title: Optional[str] = None,
              justify: str = "") -> None:
        """A table (``justify``: one of l/r/c per column); boxed on a terminal, ASCII in a pipe."""
        from rich import box      # deferred: only tables need it (rich's import costs ~20 ms)
        t = Table(title=title, box=box.SIMPLE_HEAD if self.is_terminal else box.ASCII2,
                  show_edge=self.is_terminal, title_justify="left", pad_edge=False)
        for i, c in enumerate(columns):
            t.add_column(c, justify=_JUSTIFY[justify[i]] if i < len(justify) else "left", overflow="fold")
        for r in rows:
            t.add_row(*(str(x) for x in r))
        self.console.print(t)

    def progress(self, total: int, description: str, delay_s: float = 0.4) -> "DelayedProgress":
        """A progress bar that appears only on a terminal and only after ``delay_s``."""
        return DelayedProgress(self.console if self.is_terminal else None, total, description, delay_s)


class DelayedProgress:
    """Context manager: ``advance(label)`` per step; shown only when work takes a moment."""

    def __init__(self, console: Optional[Console], total: int, description: str, delay_s: float):
        self._bar = None
        self._timer = None
        if console is not None:
            # deferred: only a terminal's progress bar needs it
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"),
                                 TimeElapsedColumn(), console=console, transient=True)
            self._task = self._bar.add_task(description, total=total, step="")
            self._timer = threading.Timer(delay_s, self._bar.start)
            self._timer.daemon = True

    def __enter__(self) -> "DelayedProgress":
        if self._timer is not None:
            self._timer.start()
        return self

    def advance(self, step: str = "") -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, step=step)

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()  # a start() already under way finishes before stop()
            self._bar.stop()
