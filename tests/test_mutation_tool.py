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


def test_stratified_sample_gives_each_module_its_share_and_extends_with_the_same_seed():
    names = {"a.py": [f"a__mutmut_{i}" for i in range(60)], "b.py": [f"b__mutmut_{i}" for i in range(30)],
             "c.py": [f"c__mutmut_{i}" for i in range(10)]}
    small = mutation.stratified_sample(names, 10, seed=0)
    assert len(small) == 10 and len(set(small)) == 10
    assert [sum(n.startswith(m) for n in small) for m in "abc"] == [6, 3, 1]
    large = mutation.stratified_sample(names, 50, seed=0)
    assert set(small) <= set(large)
    assert mutation.stratified_sample(names, 10, seed=1) != small
    assert sorted(mutation.stratified_sample(names, 1000, seed=0)) == sorted(sum(names.values(), []))
    with pytest.raises(SystemExit, match="positive size"):
        mutation.stratified_sample(names, 0)


def test_sampled_estimate_weights_modules_by_size_and_its_interval_vanishes_for_a_census():
    results = {f"a{i}": ("a.py", "killed" if i < 8 else "survived") for i in range(10)}
    results |= {f"b{i}": ("b.py", "killed" if i < 15 else "survived") for i in range(30)}
    sample = ["a0", "a8", "a1", "a2"] + [f"b{i}" for i in (0, 1, 15, 16)]
    estimate, half = mutation.sampled_estimate(results, sample, {})
    # a: 3/4 killed, weight 10/40; b: 2/4, weight 30/40.
    assert estimate == pytest.approx(100 * (0.25 * 0.75 + 0.75 * 0.5))
    var = 0.25**2 * 0.75 * 0.25 / 3 * (1 - 4 / 10) + 0.75**2 * 0.5 * 0.5 / 3 * (1 - 4 / 30)
    assert half == pytest.approx(100 * 1.96 * var**0.5)
    census, zero = mutation.sampled_estimate(results, list(results), {})
    assert census == pytest.approx(100 * (0.25 * 0.8 + 0.75 * 0.5)) and zero == 0
    # A sampled mutant listed as equivalent leaves its module's sample.
    assert mutation.sampled_estimate(results, sample, {"a8": "x"})[0] == pytest.approx(100 * (0.25 + 0.75 * 0.5))


def test_sampled_mutants_an_interrupted_run_did_not_reach_are_left_out():
    results = {"a0": ("a.py", "killed"), "a1": ("a.py", "survived"), "a2": ("a.py", "not checked")}
    assert mutation.sampled_estimate(results, ["a0", "a1", "a2"], {})[0] == pytest.approx(50.0)
