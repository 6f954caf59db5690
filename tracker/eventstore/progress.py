"""Progress bars for long commands: a bar on a terminal, silence elsewhere, one summary line."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int | None, desc: str, unit: str = "it") -> Iterator[T]:
    """Wrap an iterable with a tqdm bar shown only when stderr is a terminal."""
    yield from tqdm(
        items, total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(), leave=False
    )
