"""Open a CSV or Parquet file safely and within bounds: the one low-level table reader.

`read_table` (time series) and `read_labelled_sequences` (classification) both
read files through `read_raw_table`, so they accept the same file types and
refuse the same hostile files with the same messages. Before pandas parses a
CSV, the first lines are read here with a cap, so a file pandas would choke on
fails in milliseconds with a one-line `DataError`:

- a line longer than `MAX_LINE_BYTES` (1 MiB) among the first `SNIFF_LINES`
  lines (a 20 MB one-line file is refused after reading 1 MiB of it);
- a header wider than `MAX_COLUMNS` (10,000) columns;
- duplicate column names (pandas would silently rename the second `y` to
  `y.1`), named in the message.

The separator is detected when none is given: of `,`, `;`, tab and `|`, the
one that splits the header into the most columns and the first lines into the
same number of fields (`,` when none does). Parquet files get the same column
checks from their schema, before the data is read.

Line numbers in messages count the header as line 1 and assume one line per row
(no line breaks inside quoted fields); empty lines are skipped and counted.

One job, opening a table safely; it runs just past 400 lines because the format
sniffing, decompression and header checks all guard the same read.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import Literal

import numpy as np
import pandas as pd

from rnnkit._files import open_regular_file
from rnnkit.data.paths import check_data_path
from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_COLUMNS",
    "MAX_LINE_BYTES",
    "SEPARATORS",
    "RawTable",
    "check_magnitude",
    "read_raw_table",
]

#: Most columns a table may have (the header is counted before pandas reads it).
MAX_COLUMNS = 10_000
#: Longest line accepted among the first `SNIFF_LINES` lines of a CSV.
MAX_LINE_BYTES = 1 << 20
#: Lines read to check line lengths and to detect the separator.
SNIFF_LINES = 20
#: Separators tried when none is given, in order of preference.
SEPARATORS = (",", ";", "\t", "|")
#: Largest magnitude a numeric value may have. Networks train in float32 (largest
#: finite value 3.4e38); squared errors and sums of squares of values above about
#: 1e19 already overflow it, and no measured quantity needs more than 1e30 in its
#: own units, so a larger value is a unit or parsing mistake, refused up front.
MAX_ABS_VALUE = 1e30

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_Compression = Literal["gzip", "bz2", "zip", "xz", "zstd"]
_COMPRESSION: dict[str, _Compression] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
    ".zst": "zstd",
}
_KINDS = (
    "a .csv, .tsv or .txt file (optionally compressed: .csv.gz, .bz2, .zip, .xz, .zst) "
    "or a .parquet/.pq file"
)
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


@dataclass
class RawTable:
    """A table as read from its file, before any cleaning.

    Attributes:
        frame: The columns as pandas parsed them (a `RangeIndex` of data rows).
        path: The file read.
        kind: `"csv"` or `"parquet"`.
        separator: The CSV separator used, or `None` for Parquet.
        separator_detected: Whether the separator was detected (not given).
        lines: File line (1-based, header = line 1) of each row, or `None` for
            Parquet.
        skipped_lines: Empty lines skipped.
    """

    frame: pd.DataFrame
    path: Path
    kind: str
    separator: str | None = None
    separator_detected: bool = False
    lines: np.ndarray | None = None
    skipped_lines: int = 0

    def where(self, row: int) -> str:
        """Name a row for a message: `"line 5"` in a CSV, `"row 3"` in Parquet."""
        if self.lines is None or not 0 <= row < len(self.lines):
            return f"row {row}"
        return f"line {int(self.lines[row])}"

    def describe_separator(self) -> str | None:
        """`"separator ';' (detected)"`, or `None` for the default comma and for Parquet."""
        if self.separator in (None, ","):
            return None
        how = "detected" if self.separator_detected else "given"
        return f"separator {_SEPARATOR_NAMES.get(self.separator, repr(self.separator))} ({how})"


def read_raw_table(path: Any, *, sep: str | None = None, caller: str) -> RawTable:
    r"""Read a CSV or Parquet file after bounded checks of its size and header.

    Args:
        path: A `.csv`, `.tsv`, `.txt` (optionally `.gz`, `.bz2`, `.zip`, `.xz`,
            `.zst` compressed) or `.parquet`/`.pq` file.
        sep: CSV separator. Defaults to `None` (tab for `.tsv`, else detected).
        caller: Name of the calling function, for messages.

    Returns:
        A `RawTable` with at least one data row.

    Raises:
        DataError: a missing, empty, oversized, non-UTF-8 or unparseable file, an
            unknown file type, a line or header over the limits, duplicate
            column names.
        TypeError: `path` is not a string or path.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = file.write_text("day;sales\n2024-01-01;3\n2024-01-02;4\n")
        >>> table = read_raw_table(file, caller="example()")
        >>> table.frame.columns.tolist(), table.describe_separator(), table.where(1)
        (['day', 'sales'], "separator ';' (detected)", 'line 3')
    """
    path = check_data_path(path, caller=caller)
    kind, compression = _file_kind(path, caller)
    try:
        handle = open_regular_file(path, what="file")
    except CheckpointError as exc:  # a FIFO, device or socket; or unreadable
        raise DataError(f"{caller}: {exc} Pass a CSV or Parquet file.") from None
    with handle:
        if kind == "parquet":
            table = _read_parquet(handle, path, caller)
        else:
            table = _read_csv(handle, path, compression, sep, kind == "tsv", caller)
    frame = table.frame = table.frame.copy()  # one block per dtype: adding a column stays cheap
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise DataError(
            f"{caller}: file {str(path)!r} has a header ({', '.join(frame.columns[:5])}) "
            "but no data rows."
        )
    return table


def check_magnitude(
    values: np.ndarray, name: str, caller: str, where: Any = None, role: str = "column"
) -> None:
    """Refuse inf and values beyond `MAX_ABS_VALUE` in one numeric column.

    Args:
        values: The column as float64.
        name: Column name, for the message.
        caller: Calling function, for the message.
        where: Function from a position to its description (`"row 3"`).
            Defaults to `None` (`"row <position>"`).
        role: What the column is (`"column"`, `"feature column"`). Defaults to `"column"`.

    Raises:
        DataError: naming the column, the first bad row and the value.

    Example:
        >>> check_magnitude(np.array([1.0, 2e30]), "y", "example()")
        Traceback (most recent call last):
        ...
        rnnkit.errors.DataError: example(): column 'y' holds 2e+30 at row 1, beyond ±1e+30: \
training runs in float32, where such values overflow. Rescale the column (divide it by a \
power of ten) or fix the value.
    """
    describe = where or (lambda position: f"row {position}")
    infinite = np.isinf(values)
    if infinite.any():
        position = int(np.argmax(infinite))
        raise DataError(
            f"{caller}: {role} {name!r} holds inf at {describe(position)}. "
            "Replace infinite values or leave them empty."
        )
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_ABS_VALUE
    if huge.any():
        position = int(np.argmax(huge))
        raise DataError(
            f"{caller}: {role} {name!r} holds {values[position]:g} at {describe(position)}, "
            f"beyond ±{MAX_ABS_VALUE:g}: training runs in float32, where such values overflow. "
            "Rescale the column (divide it by a power of ten) or fix the value."
        )


# ------------------------------------------------------------------- file kinds
def _file_kind(path: Path, caller: str) -> tuple[str, _Compression | None]:
    """Return `("csv" | "tsv" | "parquet", compression or None)`, or refuse the suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in _COMPRESSION:
        compression = _COMPRESSION[suffixes.pop()]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES:
        return ("tsv" if suffix == ".tsv" else "csv"), compression
    if suffix in _PARQUET_SUFFIXES and compression is None:
        return "parquet", None
    received = "".join(path.suffixes) or "no suffix"
    raise DataError(
        f"{caller}: unknown file type {received!r} of {str(path)!r}. Pass {_KINDS}; rename "
        "the file if it is one of these under another name."
    )


# --------------------------------------------------------------------- parquet
def _read_parquet(handle: BinaryIO, path: Path, caller: str) -> RawTable:
    import pyarrow
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(handle)
        _check_header(list(schema.names), path, caller)
        handle.seek(0)
        frame = pd.read_parquet(handle)
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{caller}: could not read {str(path)!r}: {_first_line(exc)}") from None
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index()
    return RawTable(frame=frame.reset_index(drop=True), path=path, kind="parquet")


# ------------------------------------------------------------------------- csv
def _read_csv(
    handle: BinaryIO,
    path: Path,
    compression: _Compression | None,
    sep: str | None,
    tsv: bool,
    caller: str,
) -> RawTable:
    lines = _first_lines(handle, path, compression, caller)
    if not lines or not "".join(lines).strip():
        raise DataError(
            f"{caller}: file {str(path)!r} is empty. Pass a CSV with a header row and data rows."
        )
    detected = sep is None and not tsv
    if sep is None:
        sep = "\t" if tsv else _detect_separator(lines)
    header = next(csv.reader([lines[0].rstrip("\r\n")], delimiter=sep), [])
    _check_header(header, path, caller)
    handle.seek(0)
    try:
        frame = pd.read_csv(
            handle, sep=sep, compression=compression, skip_blank_lines=False, encoding="utf-8"
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{caller}: file {str(path)!r} is empty. Pass a CSV with a header row and data rows."
        ) from None
    except UnicodeDecodeError:
        raise DataError(
            f"{caller}: file {str(path)!r} is not UTF-8 text. Save it as UTF-8 CSV."
        ) from None
    except ImportError as exc:  # .zst without the zstandard package
        raise DataError(
            f"{caller}: cannot read {str(path)!r}: {_first_line(exc)}. Install the package "
            "named, or decompress the file."
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError) as exc:
        raise DataError(f"{caller}: could not read {str(path)!r}: {_first_line(exc)}") from None
    line_numbers = np.arange(len(frame), dtype=np.int64) + 2
    empty = frame.isna().all(axis=1).to_numpy() if frame.shape[1] else np.zeros(0, dtype=bool)
    if empty.any():  # empty lines (kept so line numbers stay right), then dropped
        frame = frame.loc[~empty].reset_index(drop=True)
        line_numbers = line_numbers[~empty]
    return RawTable(
        frame=frame,
        path=path,
        kind="csv",
        separator=sep,
        separator_detected=detected,
        lines=line_numbers,
        skipped_lines=int(empty.sum()),
    )


def _first_lines(handle: BinaryIO, path: Path, compression: str | None, caller: str) -> list[str]:
    """The first `SNIFF_LINES` lines, each read with a cap of `MAX_LINE_BYTES`."""
    try:
        stream = _decompressed(handle, compression)
        lines = []
        for number in range(1, SNIFF_LINES + 1):
            raw = stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                what = "the header (line 1)" if number == 1 else f"line {number}"
                raise DataError(
                    f"{caller}: {what} of {str(path)!r} is longer than {MAX_LINE_BYTES:,} bytes "
                    f"(the limit); a table has one row per line. Check that the file is a CSV "
                    f"with line breaks, or split the long line."
                )
            lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
    except UnicodeDecodeError:
        raise DataError(
            f"{caller}: file {str(path)!r} is not UTF-8 text. Save it as UTF-8 CSV."
        ) from None
    except ImportError as exc:
        raise DataError(
            f"{caller}: cannot read {str(path)!r}: {_first_line(exc)}. Install the package "
            "named, or decompress the file."
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise DataError(f"{caller}: could not read {str(path)!r}: {_first_line(exc)}") from None
    return lines


def _decompressed(handle: BinaryIO, compression: str | None) -> Any:
    if compression is None:
        return handle
    if compression == "gzip":
        return gzip.GzipFile(fileobj=handle)
    if compression == "bz2":
        return bz2.BZ2File(handle)
    if compression == "xz":
        return lzma.LZMAFile(handle)
    if compression == "zip":
        archive = zipfile.ZipFile(handle)
        names = archive.namelist()
        return archive.open(names[0]) if names else io.BytesIO()
    import zstandard  # optional, as for pandas

    return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(handle))


def _detect_separator(lines: list[str]) -> str:
    """The separator giving the widest header whose first lines have as many fields."""
    text = [line.rstrip("\r\n") for line in lines if line.strip()]
    best, best_width = ",", 1
    for candidate in SEPARATORS:
        if candidate not in text[0]:
            continue
        widths = [len(row) for row in csv.reader(text, delimiter=candidate)]
        consistent = all(width == widths[0] for width in widths)
        if consistent and widths[0] > best_width:
            best, best_width = candidate, widths[0]
    return best


def _check_header(names: list[str], path: Path, caller: str) -> None:
    if len(names) > MAX_COLUMNS:
        raise DataError(
            f"{caller}: {str(path)!r} has {len(names):,} columns, over the limit of "
            f"{MAX_COLUMNS:,}. A table has one column per series or feature, one row per "
            "time step: check the file's layout (transpose it if its rows are the columns)."
        )
    counts = Counter(names)
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        shown = ", ".join(f"{name!r} ({counts[name]} times)" for name in repeated[:5])
        more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        raise DataError(
            f"{caller}: {str(path)!r} has duplicate column names: {shown}{more}. Give every "
            "column its own name in the header."
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
