"""Dropout keep factors (rnnkit.kernels.dropout): the Philox stream, the keep rule, threads."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.kernels import dropout
from rnnkit.kernels import native
from rnnkit.kernels.dropout import keep_factors

LIBRARY = native.load(torch.float32)
needs_native = pytest.mark.skipif(LIBRARY is None, reason="native library unavailable")

# Random123's known-answer vectors for Philox4x32-10: (counter, key, output).
KNOWN_ANSWERS = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


def _factors(n: int, keep: float, key: int, *, threads: int = 1, dtype=torch.float32):
    library = native.load(dtype)
    assert library is not None
    out = torch.empty(n, dtype=dtype)
    library.dropout_factors(out, keep, key, threads)
    return out


def _stream(n: int, key: int) -> list[int]:
    """Numbers 0..n-1 of the stream, from the scalar Philox: 32 b + 8 w + l is word w of 8 b + l."""
    assert LIBRARY is not None
    words = {}
    numbers = []
    for i in range(n):
        block, rest = divmod(i, 32)
        word, lane = divmod(rest, 8)
        counter = 8 * block + lane
        if counter not in words:
            words[counter] = LIBRARY.philox([counter & 0xFFFFFFFF, counter >> 32, 0, 0], [
                key & 0xFFFFFFFF, key >> 32
            ])  # fmt: skip
        numbers.append(words[counter][word])
    return numbers


@needs_native
@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_matches_random123_known_answers(counter, key, expected):
    assert LIBRARY.philox(counter, key) == expected


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("keep", [0.5, 0.8, 0.123])
def test_factors_follow_the_documented_stream_and_keep_rule(dtype, keep):
    key = 0x299F31D0A4093822
    n = 1000  # 31 whole blocks and a partial one
    numbers = _stream(n, key)
    expected = [1.0 / keep if (r >> 8) / 2**24 < keep else 0.0 for r in numbers]
    got = _factors(n, keep, key, dtype=dtype)
    factor = float(torch.tensor(1.0, dtype=dtype) / torch.tensor(keep, dtype=dtype))
    kept = got != 0
    assert kept.tolist() == [e != 0 for e in expected]
    assert torch.all(got[kept] == factor)


@needs_native
def test_keep_threshold_is_exact_at_24_bits():
    # Number 0 of key 0 is word 0 of counter 0: 0x6627E8D5, so u = 0x6627E8 / 2^24.
    m = 0x6627E8
    assert _factors(1, m / 2**24, 0)[0] == 0  # u < keep is false at u == keep
    assert _factors(1, (m + 0.5) / 2**24, 0)[0] != 0
    # Numbers 8, 16, 24 are words 1, 2, 3 of counter 0
    words = KNOWN_ANSWERS[0][2]
    factors = _factors(32, 0.7, 0)
    assert [bool(factors[i] != 0) for i in (0, 8, 16, 24)] == [
        (w >> 8) / 2**24 < 0.7 for w in words
    ]


@needs_native
def test_number_i_does_not_depend_on_length_or_threads():
    key = 12345
    long = _factors(200_003, 0.8, key, threads=1)
    assert torch.equal(_factors(200_003, 0.8, key, threads=2), long)
    assert torch.equal(_factors(200_003, 0.8, key, threads=3), long)
    for n in (1, 31, 33, 4097):
        assert torch.equal(_factors(n, 0.8, key), long[:n])


@needs_native
@pytest.mark.parametrize("keep", [0.9, 0.5, 0.05])
def test_kept_fraction_is_keep(keep):
    n = 1_000_000
    got = _factors(n, keep, 987654321, threads=2)
    fraction = float((got != 0).double().mean())
    assert abs(fraction - keep) < 5 * math.sqrt(keep * (1 - keep) / n)
    # neighbouring numbers are independent: agreement of consecutive entries
    kept = got != 0
    both = float((kept[1:] & kept[:-1]).double().mean())
    assert abs(both - keep * keep) < 5 * math.sqrt(keep * keep * (1 - keep * keep) / n)


@needs_native
def test_seeded_generator_repeats_and_advances():
    first = keep_factors((64, 48, 30), 0.2, dtype=torch.float32, generator=_gen(7))
    again = keep_factors((64, 48, 30), 0.2, dtype=torch.float32, generator=_gen(7))
    assert torch.equal(first, again)
    gen = _gen(7)
    a = keep_factors((64, 48, 30), 0.2, dtype=torch.float32, generator=gen)
    b = keep_factors((64, 48, 30), 0.2, dtype=torch.float32, generator=gen)
    assert not torch.equal(a, b)
    assert set(torch.unique(a).tolist()) == {0.0, float(torch.tensor(1.0) / 0.8)}


def test_rate_one_draws_and_returns_zeros():
    gen = _gen(3)
    zeros = keep_factors((4, 5), 1.0, dtype=torch.float32, generator=gen)
    assert torch.equal(zeros, torch.zeros(4, 5))
    assert gen.get_state().ne(_gen(3).get_state()).any()  # the generator advanced


def test_without_the_native_library_torch_rand_decides(monkeypatch):
    monkeypatch.setattr(dropout.native, "load", lambda dtype: None)
    got = keep_factors((16, 10), 0.3, dtype=torch.float32, generator=_gen(5))
    expected = (torch.rand((16, 10), generator=_gen(5)) < 0.7).float() / 0.7
    assert torch.equal(got, expected)


def test_half_precision_uses_torch_rand():
    got = keep_factors((16, 10), 0.3, dtype=torch.float16, generator=_gen(5))
    expected = ((torch.rand((16, 10), generator=_gen(5)) < 0.7).to(torch.float16)) / 0.7
    assert got.dtype == torch.float16
    assert torch.equal(got, expected)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
