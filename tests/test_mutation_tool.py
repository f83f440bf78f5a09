"""tools/mutation.py's arithmetic: the score leaves listed equivalent mutants out and counts untested ones against."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "tools" / "mutation.py"
_spec = importlib.util.spec_from_file_location("mutation_tool", _PATH)
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)


def test_score_counts_kills_and_timeouts_leaves_out_equivalents_and_counts_untested_against():
    results = {
        "m.a__mutmut_1": ("m.py", "killed"),
        "m.a__mutmut_2": ("m.py", "timeout"),
        "m.a__mutmut_3": ("m.py", "survived"),
        "m.a__mutmut_4": ("m.py", "survived"),
        "n.b__mutmut_1": ("n.py", "no tests"),
        "n.b__mutmut_2": ("n.py", "killed"),
    }
    table, score = mutation.score_table(results, {"m.a__mutmut_4": "only changes a message nobody reads"})
    assert score == pytest.approx(100 * 3 / 5)
    lines = {line.split()[0]: line.split() for line in table.splitlines()[2:] if not line.startswith("-")}
    assert lines["m.py"][1:] == ["4", "2", "1", "0", "1", "66.7%"]
    assert lines["n.py"][1:] == ["2", "1", "0", "1", "0", "50.0%"]
    # A listed mutant that a test does kill counts as killed, not as equivalent.
    assert mutation.score_table(results, {"m.a__mutmut_1": "x"})[1] == pytest.approx(100 * 3 / 6)


def test_equivalent_mutants_need_a_reason(tmp_path):
    listed = tmp_path / "eq.toml"
    listed.write_text('[[mutant]]\nname = "m.a__mutmut_1"\nwhy = "the slice is cut to k columns after"\n')
    assert mutation.load_equivalent(listed) == {"m.a__mutmut_1": "the slice is cut to k columns after"}
    listed.write_text('[[mutant]]\nname = "m.a__mutmut_1"\n')
    with pytest.raises(SystemExit, match="without a reason"):
        mutation.load_equivalent(listed)
    assert mutation.load_equivalent(tmp_path / "missing.toml") == {}
