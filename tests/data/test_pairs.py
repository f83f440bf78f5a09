"""Pairs from weak supervision: same class (or group) except a delta fraction, with the right statistics."""

import numpy as np
import pytest

import contrastive_gmm as cg


def _labels():
    # Unequal classes, so the expected cross-class rate differs per class.
    return np.repeat(np.arange(4), [5, 20, 40, 75])


def test_clean_pairs_are_same_class_never_self_and_anchors_in_order():
    y = _labels()
    P = cg.pair_indices_from_labels(y, n_pairs_per_sample=30, random_state=0)
    assert P.shape == (30 * len(y), 2) and P.dtype == np.int64
    np.testing.assert_array_equal(P[:, 0], np.tile(np.arange(len(y)), 30))
    assert np.all(y[P[:, 0]] == y[P[:, 1]])
    assert np.all(P[:, 0] != P[:, 1])


def test_partners_are_uniform_over_the_other_members_of_the_class():
    y = np.array([0, 0, 0, 0, 0, 1, 1])
    m = 4000
    P = cg.pair_indices_from_labels(y, n_pairs_per_sample=m, random_state=1)
    counts = np.bincount(P[P[:, 0] == 2, 1], minlength=len(y))
    assert counts[2] == 0 and counts[5:].sum() == 0
    # Each of the 4 other members: Binomial(m, 1/4); 5 sigma is ~137.
    assert np.all(np.abs(counts[[0, 1, 3, 4]] - m / 4) < 5 * np.sqrt(m * 0.25 * 0.75))
    # A class of two always pairs its members with each other.
    assert set(P[P[:, 0] == 5, 1]) == {6}


def test_noisy_fraction_has_the_documented_rate_per_class():
    y = _labels()
    n, delta, m = len(y), 0.3, 400
    P = cg.pair_indices_from_labels(y, delta=delta, n_pairs_per_sample=m, random_state=2)
    assert np.all(P[:, 0] != P[:, 1])  # a noisy partner is never the anchor either
    cross = y[P[:, 0]] != y[P[:, 1]]
    for c, n_c in zip(*np.unique(y, return_counts=True)):
        rows = y[P[:, 0]] == c
        expected = delta * (n - n_c) / (n - 1)
        trials = rows.sum()
        assert abs(cross[rows].mean() - expected) < 5 * np.sqrt(expected * (1 - expected) / trials), c


def test_delta_one_draws_partners_from_the_whole_data():
    y = _labels()
    P = cg.pair_indices_from_labels(y, delta=1.0, n_pairs_per_sample=300, random_state=3)
    freq = np.bincount(y[P[:, 1]]) / len(P)
    np.testing.assert_allclose(freq, np.bincount(y) / len(y), atol=0.01)


def test_seeded_and_string_labels():
    y = np.array(["cat", "dog", "cat", "dog", "cat"])
    a = cg.pair_indices_from_labels(y, delta=0.5, n_pairs_per_sample=5, random_state=7)
    b = cg.pair_indices_from_labels(y, delta=0.5, n_pairs_per_sample=5, random_state=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, cg.pair_indices_from_labels(y, delta=0.5, n_pairs_per_sample=5, random_state=8))


def test_pairs_from_labels_returns_the_indexed_rows():
    X, y = cg.load_real_dataset("wine")
    A, B = cg.pairs_from_labels(X, y, n_pairs_per_sample=2, random_state=4)
    P = cg.pair_indices_from_labels(y, n_pairs_per_sample=2, random_state=4)
    np.testing.assert_array_equal(A, X[P[:, 0]])
    np.testing.assert_array_equal(B, X[P[:, 1]])


def test_groups_pair_within_group_and_skip_singletons():
    groups = np.array([10, 10, 10, 11, 12, 12])
    P = cg.pair_indices_from_groups(groups, n_pairs_per_sample=20, random_state=0)
    assert set(P[:, 0]) == {0, 1, 2, 4, 5}
    assert np.all(groups[P[:, 0]] == groups[P[:, 1]]) and np.all(P[:, 0] != P[:, 1])
    X = np.arange(12.0).reshape(6, 2)
    A, B = cg.pairs_from_groups(X, groups, random_state=0)
    assert A.shape == B.shape == (5, 2)


def test_pairs_from_indices_cross_view_and_checks():
    X, X2 = np.arange(6.0).reshape(3, 2), -np.arange(9.0).reshape(3, 3)
    A, B = cg.pairs_from_indices(X, np.array([[0, 2], [2, 1]]), X2)
    np.testing.assert_array_equal(B, X2[[2, 1]])
    A, _ = cg.pairs_from_indices(X, np.array([[1.0, 0.0]]))  # integral floats are fine
    np.testing.assert_array_equal(A, X[[1]])
    with pytest.raises(ValueError, match="pairs must index rows 0..2; found 3"):
        cg.pairs_from_indices(X, [[0, 3]])
    with pytest.raises(ValueError, match=r"shape \(n_pairs, 2\)"):
        cg.pairs_from_indices(X, [0, 1])
    with pytest.raises(TypeError, match="whole-number"):
        cg.pairs_from_indices(X, [[0.5, 1.0]])
    with pytest.raises(ValueError, match="row-paired"):
        cg.pairs_from_indices(X, [[0, 1]], X2[:2])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: cg.pair_indices_from_labels([0, 0, 1]), ValueError, "class 1 has one"),
        (lambda: cg.pair_indices_from_labels([0.0, np.nan, 0.0]), ValueError, "y contains NaN"),
        (lambda: cg.pair_indices_from_labels([[0, 0]]), ValueError, "1-D"),
        (lambda: cg.pair_indices_from_labels([0, 0], delta=1.5), ValueError, "delta must be in"),
        (lambda: cg.pair_indices_from_labels([0, 0], n_pairs_per_sample=0), ValueError, "n_pairs_per_sample"),
        (lambda: cg.pair_indices_from_labels([0, 0], n_pairs_per_sample=1.5), TypeError, "n_pairs_per_sample"),
        (lambda: cg.pair_indices_from_groups([1, 2, 3]), ValueError, "no group has two"),
        (lambda: cg.pairs_from_labels(np.ones((3, 2)), [0, 0]), ValueError, "one label per sample"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_defaults_make_one_clean_pair_per_sample_and_the_seed_is_passed_on():
    X, y = cg.load_real_dataset("wine")
    A, B = cg.pairs_from_labels(X, y, random_state=3)  # defaults: delta = 0, one pair per sample
    P = cg.pair_indices_from_labels(y, 0.0, 1, random_state=3)
    np.testing.assert_array_equal(A, X[P[:, 0]])
    np.testing.assert_array_equal(B, X[P[:, 1]])
    groups = np.repeat(np.arange(20), 3)
    Xg = np.random.default_rng(0).normal(size=(60, 4))
    A, B = cg.pairs_from_groups(Xg, groups, random_state=5)
    P = cg.pair_indices_from_groups(groups, 1, 0.0, random_state=5)
    np.testing.assert_array_equal(A, Xg[P[:, 0]])
    np.testing.assert_array_equal(B, Xg[P[:, 1]])
    other = cg.pairs_from_groups(Xg, groups, random_state=6)[1]
    assert not np.array_equal(B, other)  # a different seed draws other partners (P = 1/2^60 of a tie)


def test_pairs_from_indices_takes_one_row_and_names_the_view_at_fault():
    X, X2 = np.ones((1, 2)), np.ones((1, 3))
    A, B = cg.pairs_from_indices(X, [[0, 0]], X2)
    assert A.shape == (1, 2) and B.shape == (1, 3)
    np.testing.assert_array_equal(cg.pairs_from_indices(np.arange(4.0).reshape(2, 2), [[1, 0]])[0], [[2.0, 3.0]])
    with pytest.raises(ValueError, match=r"^X2 must be finite"):
        cg.pairs_from_indices(X, [[0, 0]], np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match=r"^X must be finite"):
        cg.pairs_from_indices(np.full((1, 2), np.nan), [[0, 0]])
    with pytest.raises(ValueError, match=r"got 2 and 3 rows"):
        cg.pairs_from_indices(np.ones((3, 2)), [[0, 1]], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^X must be finite"):
        cg.pairs_from_groups(np.full((2, 2), np.nan), [0, 0])
    with pytest.raises(ValueError, match=r"^X must be finite"):
        cg.pairs_from_labels(np.full((2, 2), np.nan), [0, 0])
