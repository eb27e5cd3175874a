"""What the backtest's input files report: one error type, and warnings of repairs made.

Every reader of a recorded file (prices, filings, macro values) raises a `DataFileError` whose
message names the file, the line and, when one cell is at fault, the column. A reader that
repairs harmless input instead (drops an empty row, sorts dates) says so with a `DataWarning`,
which the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigurationError


class DataFileError(ConfigurationError):
    """A recorded input file cannot be used as given; the message names file, line and column."""


class BarDataError(ConfigurationError):
    """The requested bars cannot be loaded (no file, unknown layout, bad rows); fix the input."""


class PriceFileError(BarDataError, DataFileError):
    """A price CSV has a bad cell or row (file, line and column named)."""


def read_utf8(path: Path, error: type[DataFileError]) -> str:
    """The whole file as text; unreadable or non-UTF-8 (named by its line) raises `error`.

    Recorded files are small, so decoding them whole is cheap and finds the bad line.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{at(path, line)}: not UTF-8 text (save it as UTF-8)") from None


def at(path: Path, line: int | None = None, column: str | None = None) -> str:
    """The `file line N, column C` prefix every file error and warning starts with."""
    where = str(path)
    if line is not None:
        where += f" line {line}"
        if column is not None:
            where += f", column {column}"
    return where


@dataclass(frozen=True, slots=True)
class DataWarning:
    """A repair the reader made, or a doubt about the data; the run goes on.

    `kind` groups warnings of one sort (the CLI summarises a long group), `where` is the file
    (and line), `message` what was done or doubted.
    """

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        """One line: where, then what."""
        return f"{self.where}: {self.message}"
