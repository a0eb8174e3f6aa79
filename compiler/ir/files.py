"""Reading files a user hands netjit: regular files only, and never more than a budget.

A saved net can be a symlink to ``/dev/zero`` or a FIFO: reading it "to the
end" never ends. Every loader opens its files through ``read_regular``, which
refuses anything but a regular file before opening it and reads at most the
budget (one byte more tells a file that grew meanwhile), and JSON documents
go through ``check_json_size``, which bounds how many values the parser may
build before it builds them.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from netjit.errors import InvalidArgumentError

#: JSON documents may hold at most this many array elements and object members.
MAX_JSON_VALUES = 1 << 22


def check_regular(path) -> int:
    """The size of ``path``; InvalidArgumentError unless it is a regular file (symlinks followed)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidArgumentError(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise InvalidArgumentError(f"{path}: is {kind}, not a regular file")
    return st.st_size


def read_regular(path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, refusing it past ``max_bytes``."""
    size = check_regular(path)
    if size > max_bytes:
        raise InvalidArgumentError(f"{path}: file is {size} bytes, more than {max_bytes}")
    try:
        with open(Path(path), "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InvalidArgumentError(f"{path}: file grew past {max_bytes} bytes while read")
    return data


def check_json_size(text: str, where: str) -> None:
    """Refuse a JSON text that could hold more than ``MAX_JSON_VALUES`` values.

    Every element after the first of an array or object is preceded by a
    comma, so the commas bound the values from above; counting them costs a
    scan at C speed, where parsing 10**8 numbers into Python objects costs
    gigabytes.
    """
    if text.count(",") > MAX_JSON_VALUES:
        raise InvalidArgumentError(f"{where}: more than {MAX_JSON_VALUES} JSON values; large constants "
                                   "belong in the side .npz file")
