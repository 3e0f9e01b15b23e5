"""The command line demo (``python -m sklearn_lstm``): its adder part."""

import re

import pytest

from sklearn_lstm.__main__ import _demo_adder, main


def test_demo_adder_prints_aligned_exact_sums(capsys):
    score_7, score_32 = _demo_adder(random_state=0)
    assert score_7 == score_32 == 1.0
    out = capsys.readouterr().out
    sums = [
        line for line in out.splitlines() if re.match(r"  [ +=] +\d+ = [01]+", line)
    ]
    assert len(sums) == 12  # four sums of three lines
    # Every number in binary with the same number of digits, wide enough for
    # the 33-bit sums of 32-bit operands, so that the columns line up.
    binary = [line.rsplit(" = ", 1)[1].split()[0] for line in sums]
    assert {len(b) for b in binary} == {33}
    assert len({line.rindex(" = ") for line in sums}) == 1
    assert out.count("  ok") == 4


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("sklearn_lstm ")
