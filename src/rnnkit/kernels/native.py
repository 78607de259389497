"""Build, cache and load the native (C++) recurrence library.

The library's source is the C++ file ``rnnkit_native.cpp`` beside this module
(shipped as package data). It includes no torch headers: the system C++ compiler
builds it into a plain shared library (no ``torch.utils.cpp_extension``), loaded
with :mod:`ctypes`; the BLAS ``sgemm_``/``dgemm_`` it calls are the ones inside the
running ``libtorch_cpu`` (MKL on x86-64 wheels), handed over at load time. One
library per dtype is compiled on first use (float32 in about 2 s of one core,
float64 — used mostly by tests — in about 1 s) and cached on disk under
``$XDG_CACHE_HOME/rnnkit/native`` (``~/.cache/rnnkit/native``), keyed by the
SHA-256 of the source, the flags and the compiler, so a changed source file is
rebuilt and later processes load the library in milliseconds.

Anything that goes wrong — no compiler, a missing source file, a failed build, a
torch without an exported BLAS, a failed self-test — makes :func:`load` return ``None`` and
:func:`unavailable_reason` say why, in plain words; the kernel selection then falls
back to a pure-PyTorch kernel and reports that reason. Nothing here needs a network.
"""

from __future__ import annotations

import ctypes
import importlib.resources
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch

from rnnkit._files import replace_atomically
from rnnkit._files import sha256_bytes
from rnnkit.kernels.cellspec import CellKind

logger = logging.getLogger(__name__)

#: The C++ source, a file of this package.
SOURCE_NAME = "rnnkit_native.cpp"

#: ``(forward, backward)`` operation codes of ``rk_run`` per cell kind (the ``Op``
#: enum of ``rnnkit_native.cpp``).
OPS = {
    CellKind.SIMPLE_RNN: (0, 1),
    CellKind.LSTM: (2, 3),
    CellKind.GRU: (4, 5),
    CellKind.GRU_RESET_BEFORE: (6, 7),
}

_BUILD_TIMEOUT_S = 300
_DTYPES = {torch.float32: "float", torch.float64: "double"}
_LOCK = threading.Lock()
_LIBRARIES: dict[torch.dtype, NativeLibrary | None] = {}
_REASONS: dict[torch.dtype, str] = {}


_INT_FIELDS = ["batch", "steps", "units", "gates", "threads", "act", "rec_act", "rmask_count"]
_POINTER_FIELDS = [
    "xp",
    "w_hh",
    "b_hh",
    "h0",
    "c0",
    "valid",
    "rmask",
    "H",
    "C",
    "G",
    "A",
    "dH",
    "dc_last",
    "dXP",
    "dHP",
    "dh0",
    "dc0",
    "dW",
]


class RkArgs(ctypes.Structure):
    """Mirror of the C++ ``RkArgs`` struct: sizes, codes and raw data pointers."""

    _fields_ = [(name, ctypes.c_int64) for name in _INT_FIELDS] + [
        (name, ctypes.c_void_p) for name in _POINTER_FIELDS
    ]


class NativeLibrary:
    """A loaded native library for one dtype.

    Args:
        path: The compiled shared library.
        dtype: ``torch.float32`` or ``torch.float64`` (what it was compiled for).
        blas: ``(sgemm, dgemm)`` function addresses.

    Attributes:
        parallel: Whether row blocks run on several threads (built with OpenMP).
    """

    def __init__(self, path: Path, dtype: torch.dtype, blas: tuple[int, int]):
        self.path = path
        self.dtype = dtype
        self._lib = ctypes.CDLL(str(path))
        self._lib.rk_init.argtypes = [ctypes.c_void_p] * 2
        self._lib.rk_init.restype = None
        self._lib.rk_run.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(RkArgs)]
        self._lib.rk_run.restype = ctypes.c_int
        self._lib.rk_run_group.argtypes = [
            ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(RkArgs), ctypes.c_int64
        ]  # fmt: skip
        self._lib.rk_run_group.restype = ctypes.c_int
        self._lib.rk_dropout_factors.argtypes = [
            ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_uint64, ctypes.c_int64,
            ctypes.c_int64,
        ]  # fmt: skip
        self._lib.rk_dropout_factors.restype = ctypes.c_int
        self._lib.rk_philox4x32_10.argtypes = [ctypes.c_void_p] * 3
        self._lib.rk_philox4x32_10.restype = None
        self._lib.rk_init(*blas)
        self.parallel = bool(self._lib.rk_parallel()) and _single_openmp_runtime()

    def run(self, kind: CellKind, args: RkArgs, *, backward: bool = False) -> None:
        """Run one forward (or ``backward``) pass of ``kind``; ``args`` holds every pointer."""
        op = OPS[kind][int(backward)]
        status = self._lib.rk_run(op, int(self.dtype == torch.float64), ctypes.byref(args))
        if status != 0:  # pragma: no cover - an internal invariant
            raise RuntimeError(f"rnnkit native kernel failed with status {status}.")

    def run_group(
        self, kind: CellKind, group: list[RkArgs], threads: int, *, backward: bool = False
    ) -> None:
        """Run the independent recurrences ``group`` (one ``kind``) in one call.

        Each item's ``threads`` field is its number of row blocks; all the blocks share
        ``threads`` threads, taken in list order as threads become free (list the
        costliest first). Without OpenMP they run one after another.
        """
        op = OPS[kind][int(backward)]
        array = (RkArgs * len(group))(*group)
        threads = threads if self.parallel else 1
        is_double = int(self.dtype == torch.float64)
        status = self._lib.rk_run_group(op, is_double, len(group), array, threads)
        if status != 0:  # pragma: no cover - an internal invariant
            raise RuntimeError(f"rnnkit native kernel failed with status {status}.")

    def dropout_factors(self, out: torch.Tensor, keep: float, key: int, threads: int) -> None:
        """Fill ``out`` (contiguous, this library's dtype) with dropout keep factors.

        Element ``i`` is ``1 / keep`` when the 24-bit uniform number of word ``i`` of the
        Philox4x32-10 stream of ``key`` (a 64-bit integer) is below ``keep``, else 0.
        """
        assert out.is_contiguous() and out.dtype == self.dtype and out.device.type == "cpu"
        is_double = int(self.dtype == torch.float64)
        threads = threads if self.parallel else 1
        status = self._lib.rk_dropout_factors(
            out.data_ptr(), out.numel(), keep, key, is_double, threads
        )
        if status != 0:  # pragma: no cover - checked by the caller
            raise RuntimeError(f"rnnkit native dropout failed with status {status}.")

    def philox(self, counter: list[int], key: list[int]) -> list[int]:
        """One Philox4x32-10 block (four 32-bit words) for ``counter`` (4) and ``key`` (2)."""
        words_in = torch.tensor(counter, dtype=torch.int64).to(torch.uint32)
        key_in = torch.tensor(key, dtype=torch.int64).to(torch.uint32)
        out = torch.empty(4, dtype=torch.uint32)
        self._lib.rk_philox4x32_10(words_in.data_ptr(), key_in.data_ptr(), out.data_ptr())
        return [int(v) for v in out.to(torch.int64)]


def load(dtype: torch.dtype) -> NativeLibrary | None:
    """Return the native library for ``dtype``, building it on first use.

    Returns ``None`` when it cannot be had; :func:`unavailable_reason` says why.
    The result (either way) is remembered for the life of the process.

    Example:
        >>> import torch
        >>> lib = load(torch.int64)
        >>> lib is None, unavailable_reason(torch.int64)
        (True, 'no native kernel for torch.int64')
    """
    if dtype in _LIBRARIES:
        return _LIBRARIES[dtype]
    with _LOCK:
        if dtype not in _LIBRARIES:
            try:
                _LIBRARIES[dtype] = _load_uncached(dtype)
            except _Unavailable as err:
                _LIBRARIES[dtype] = None
                _REASONS[dtype] = str(err)
                logger.info("rnnkit native kernels unavailable: %s", err)
    return _LIBRARIES[dtype]


def unavailable_reason(dtype: torch.dtype) -> str:
    """Why :func:`load` returned ``None`` for ``dtype`` (empty when it did not)."""
    return _REASONS.get(dtype, "")


def disable(reason: str = "disabled") -> None:
    """Make :func:`load` return ``None`` for every dtype in this process (for tests)."""
    with _LOCK:
        for dtype in (torch.float32, torch.float64):
            _LIBRARIES[dtype] = None
            _REASONS[dtype] = reason


def reset() -> None:
    """Forget loaded libraries and reasons, so the next :func:`load` tries again."""
    with _LOCK:
        _LIBRARIES.clear()
        _REASONS.clear()


class _Unavailable(Exception):
    """The native library cannot be used; the message says why."""


def _load_uncached(dtype: torch.dtype) -> NativeLibrary:
    if dtype not in _DTYPES:
        raise _Unavailable(f"no native kernel for {dtype}")
    blas = _blas_addresses()
    path = _build(dtype)
    try:
        library = NativeLibrary(path, dtype, blas)
    except OSError as err:
        raise _Unavailable(f"the compiled kernel library could not be loaded ({err})") from err
    _self_test(library)
    return library


def _single_openmp_runtime() -> bool:
    """False when the library pulled in a second libgomp next to torch's own.

    Two OpenMP runtimes would each keep a thread pool, and BLAS could not see that
    it runs inside a parallel region; the kernels then stay on one thread.
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libgomp" in line}
    except OSError:
        return True
    return len(paths) <= 1


def _torch_cpu_library() -> ctypes.CDLL:
    lib_dir = Path(torch.__file__).parent / "lib"
    names = {"Linux": "libtorch_cpu.so", "Darwin": "libtorch_cpu.dylib"}
    name = names.get(platform.system())
    if name is None or not (lib_dir / name).exists():
        raise _Unavailable(f"no libtorch_cpu library to take BLAS from on {platform.system()}")
    return ctypes.CDLL(str(lib_dir / name))


def _address(library: ctypes.CDLL, name: str) -> int | None:
    try:
        return ctypes.cast(getattr(library, name), ctypes.c_void_p).value
    except AttributeError:
        return None


def _blas_addresses() -> tuple[int, int]:
    """The Fortran BLAS ``sgemm_`` and ``dgemm_`` inside libtorch_cpu."""
    torch_cpu = _torch_cpu_library()
    sgemm, dgemm = _address(torch_cpu, "sgemm_"), _address(torch_cpu, "dgemm_")
    if sgemm is None or dgemm is None:
        raise _Unavailable("this torch build exports no BLAS sgemm_/dgemm_")
    return sgemm, dgemm


def _compiler() -> str:
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return str(shutil.which(name))
    raise _Unavailable("no C++ compiler found (install g++ to enable the native kernels)")


def _flags(dtype: torch.dtype) -> list[str]:
    flags = [
        "-std=c++17",
        "-shared",
        "-fPIC",
        "-fno-math-errno",
        "-fno-trapping-math",
        f"-DRK_SCALAR={_DTYPES[dtype]}",
    ]
    # -O2 with the vectoriser runs as fast as -O3 here and compiles 20 % faster.
    flags += ["-O2", "-ftree-vectorize"] if dtype == torch.float32 else ["-O2"]
    is_x86 = platform.machine().lower() in ("x86_64", "amd64")
    if is_x86 and torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]
    return flags


def cache_dir() -> Path:
    """Where compiled libraries are kept (created on demand)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "rnnkit" / "native"


def source_text() -> str:
    """The C++ source of the library, read from the installed package.

    Example:
        >>> source_text().startswith("// rnnkit native recurrence kernels")
        True
    """
    resource = importlib.resources.files(__package__).joinpath(SOURCE_NAME)
    try:
        return resource.read_text(encoding="utf-8")
    except OSError as err:
        raise _Unavailable(
            f"the C++ source {SOURCE_NAME} is missing from the rnnkit package ({err}); "
            "reinstall rnnkit"
        ) from err


def _build(dtype: torch.dtype) -> Path:
    source = source_text()
    compiler = _compiler()
    flags = _flags(dtype)
    fingerprint = "\0".join([source, compiler, str(os.path.getmtime(compiler)), *flags])
    key = sha256_bytes(fingerprint.encode())[:16]
    for directory in (cache_dir(), Path(tempfile.gettempdir()) / f"rnnkit-{os.getuid()}"):
        target = directory / f"rnnkit_native_{_DTYPES[dtype]}_{key}.so"
        if target.exists():
            return target
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if not _writable(directory):
            continue
        try:  # OpenMP shares torch's thread pool; without it the kernels run on one thread
            return _compile(compiler, [*flags, "-fopenmp"], source, directory, target)
        except _Unavailable:
            return _compile(compiler, flags, source, directory, target)
    raise _Unavailable("no writable cache directory for the compiled kernels")


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


def _compile(compiler: str, flags: list[str], source: str, directory: Path, target: Path) -> Path:
    logger.info("rnnkit: compiling native recurrence kernels into %s (once per machine)", target)
    with tempfile.TemporaryDirectory(dir=directory) as work:
        # The compiler reads a private copy: the text that was hashed into the key.
        source_file = Path(work) / SOURCE_NAME
        source_file.write_text(source, encoding="utf-8")
        partial = Path(work) / target.name
        command = [compiler, *flags, str(source_file), "-o", str(partial)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise _Unavailable(f"compiling the native kernels failed ({err})") from err
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no output"])[0]
            raise _Unavailable(f"compiling the native kernels failed: {first}")
        replace_atomically(partial, target)  # concurrent builders never see half a file
    return target


def _self_test(library: NativeLibrary) -> None:
    """Run a tiny linear SimpleRNN and compare with torch (catches a BLAS ABI mismatch)."""
    dtype = library.dtype
    gen = torch.Generator().manual_seed(0)
    xp = torch.randn(3, 2, 5, generator=gen, dtype=dtype)
    w_hh = torch.randn(5, 5, generator=gen, dtype=dtype)
    h0 = torch.randn(3, 5, generator=gen, dtype=dtype)
    hist = torch.empty(3, 2, 5, dtype=dtype)
    args = RkArgs(
        batch=3,
        steps=2,
        units=5,
        gates=1,
        threads=1,
        act=0,
        rec_act=0,
        xp=xp.data_ptr(),
        w_hh=w_hh.data_ptr(),
        h0=h0.data_ptr(),
        H=hist.data_ptr(),
    )
    library.run(CellKind.SIMPLE_RNN, args)
    h1 = xp[:, 0] + h0 @ w_hh.T
    h2 = xp[:, 1] + h1 @ w_hh.T
    if not torch.allclose(hist, torch.stack([h1, h2], 1), rtol=1e-4, atol=1e-4):
        raise _Unavailable("the native kernels failed their self-test against torch")
