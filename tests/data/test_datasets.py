"""Loaders: bundled data, the two-view digits, users' files and their errors (including fuzzed files)."""

import builtins
import io
import zipfile

import numpy as np
import pytest

import contrastive_gmm as cg
from contrastive_gmm.data.datasets import DataFileError


@pytest.mark.parametrize("name, shape, n_classes", [("digits", (1797, 64), 10), ("wine", (178, 13), 3), ("breast_cancer", (569, 30), 2)])
def test_bundled_data_sets(name, shape, n_classes):
    X, y = cg.load_real_dataset(name)
    assert X.shape == shape and X.dtype == np.float64 and np.all(np.isfinite(X))
    assert y.shape == (shape[0],) and len(np.unique(y)) == n_classes


def test_unknown_data_set_is_named():
    with pytest.raises(ValueError, match="name must be one of 'digits', 'wine', 'breast_cancer'; got 'mnist'"):
        cg.load_real_dataset("mnist")


def test_digit_views_are_the_same_digits_split_in_two():
    X, y = cg.load_real_dataset("digits")
    X1, X2, yv = cg.load_digits_views("checkerboard")
    np.testing.assert_array_equal(yv, y)
    images = np.zeros((len(y), 8, 8))
    even = np.add.outer(np.arange(8), np.arange(8)) % 2 == 0
    images[:, even], images[:, ~even] = X1, X2
    np.testing.assert_array_equal(images.reshape(len(y), 64), X)
    L, R, _ = cg.load_digits_views("halves")
    np.testing.assert_array_equal(np.concatenate([L.reshape(-1, 8, 4), R.reshape(-1, 8, 4)], axis=2).reshape(len(y), 64), X)
    with pytest.raises(ValueError, match="split must be one of"):
        cg.load_digits_views("diagonal")


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return dict(X=rng.normal(size=(12, 3)), y=np.repeat([0, 1, 2], 4), X2=rng.normal(size=(12, 2)), groups=np.repeat(np.arange(6), 2))


def test_npz_round_trip_with_every_array(tmp_path, arrays):
    path = tmp_path / "d.npz"
    np.savez(path, pairs=np.array([[0, 1], [2, 3]]), **arrays)
    data = cg.load_data_file(path)
    for key in ("X", "X2", "y", "groups"):
        np.testing.assert_array_equal(getattr(data, key), arrays[key])
    np.testing.assert_array_equal(data.pairs, [[0, 1], [2, 3]])
    assert data.n_samples == 12 and set(data.columns) == {"X", "y", "X2", "groups", "pairs"}


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_written_embeddings_load_back_exactly(tmp_path, arrays, suffix):
    path = cg.write_embedding(tmp_path / f"z{suffix}", arrays["X"], Z2=arrays["X2"], y=arrays["y"])
    data = cg.load_data_file(path)
    np.testing.assert_array_equal(data.X, arrays["X"])  # CSV writes repr(float): exact
    np.testing.assert_array_equal(data.X2, arrays["X2"])
    np.testing.assert_array_equal(data.y, arrays["y"])


def test_npy_holds_features_only(tmp_path, arrays):
    np.save(tmp_path / "x.npy", arrays["X"])
    data = cg.load_data_file(tmp_path / "x.npy")
    np.testing.assert_array_equal(data.X, arrays["X"])
    assert data.y is None and data.X2 is None
    with pytest.raises(ValueError, match="holds one array"):
        cg.write_embedding(tmp_path / "z.npy", arrays["X"], Z2=arrays["X2"])


def test_csv_column_convention(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeffid, height ,kind,view2_a,view2_b,obj\n1,2.5,cat,1,2,a\n\n2,3.5,dog,3,4,a\n3,1e-3,cat,5,6,b\n")
    data = cg.load_data_file(path, label_column="kind", group_column="obj")
    np.testing.assert_array_equal(data.X, [[1, 2.5], [2, 3.5], [3, 1e-3]])
    np.testing.assert_array_equal(data.X2, [[1, 2], [3, 4], [5, 6]])
    assert data.y.tolist() == ["cat", "dog", "cat"] and data.groups.tolist() == ["a", "a", "b"]
    # Without naming the label column, 'kind' is a feature and must be numeric.
    with pytest.raises(DataFileError, match="column 'kind' must be numeric; found 'cat' at line 2"):
        cg.load_data_file(path)


def test_integer_labels_stay_integers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n1,3\n2,7\n")
    assert cg.load_data_file(path).y.dtype == np.int64


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "is empty"),
        ("a,b,label\n", "no data rows"),
        ("a,b\n1,2\n3\n", "line 3 has 1 fields but the header has 2"),
        ("a,b\n1,2\n3,\n", "missing value in column 'b' at line 3"),
        ("a,b\n1,NaN\n", "missing value in column 'b' at line 2"),
        ("a,b\n1,inf\n", "non-finite value .* column 'b'"),
        ("a,a\n1,2\n", "names column 'a' twice"),
        ("a,,c\n1,2,3\n", "column 2 of the header has no name"),
        ("label,view2_x\n1,2\n", "no feature column"),
        ("a,label\n1,\n", "missing value in column 'label' at line 2"),
    ],
)
def test_malformed_csv_gets_one_clear_sentence(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFileError, match=match) as info:
        cg.load_data_file(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_malformed_arrays(tmp_path, arrays):
    cases = {
        "nokey.npz": (dict(y=arrays["y"]), "missing the array 'X'"),
        "typo.npz": (dict(X=arrays["X"], labels=arrays["y"]), "unexpected array 'labels'"),
        "nan.npz": (dict(X=np.where(np.eye(12, 3) > 0, np.nan, 1.0)), "non-finite value .* row 0, column 0"),
        "rows.npz": (dict(X=arrays["X"], X2=arrays["X2"][:5]), "row-paired with X; got 5 rows and 12"),
        "ylen.npz": (dict(X=arrays["X"], y=arrays["y"][:3]), "one label per sample"),
        "pairs.npz": (dict(X=arrays["X"], pairs=np.array([[0, 12]])), "index rows 0..11"),
        "text.npz": (dict(X=np.array([["a", "b"]])), "X must be numeric"),
        "flat.npz": (dict(X=np.arange(3.0)), "2-D array"),
    }
    for name, (content, match) in cases.items():
        np.savez(tmp_path / name, **content)
        with pytest.raises(DataFileError, match=match):
            cg.load_data_file(tmp_path / name)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="cannot be read as a .npy array"):
        cg.load_data_file(tmp_path / "obj.npy")
    with pytest.raises(DataFileError, match="unsupported file type '.txt'"):
        cg.load_data_file(tmp_path / "x.txt")
    with pytest.raises(DataFileError, match="no such file"):
        cg.load_data_file(tmp_path / "missing.csv")


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(DataFileError, match=r"needs the optional package pyarrow; install it with `pip install 'contrastive-gmm\[parquet\]'`"):
        cg.load_data_file(path)


def test_parquet_round_trip_and_errors(tmp_path, arrays):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = cg.write_embedding(tmp_path / "z.parquet", arrays["X"], Z2=arrays["X2"], y=arrays["y"])
    data = cg.load_data_file(path)
    np.testing.assert_array_equal(data.X, arrays["X"])
    np.testing.assert_array_equal(data.X2, arrays["X2"])
    np.testing.assert_array_equal(data.y, arrays["y"])
    pq.write_table(pa.table({"a": [1.0, None], "label": ["x", "y"]}), tmp_path / "null.parquet")
    with pytest.raises(DataFileError, match="non-finite value .* column 'a'"):
        cg.load_data_file(tmp_path / "null.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="cannot be read as a Parquet file"):
        cg.load_data_file(tmp_path / "junk.parquet")


def _valid_files(rng):
    """Valid files of every format, as bytes, to mutate."""
    X = rng.normal(size=(6, 3)).round(3)
    csv_text = "a,b,c,label,view2_d\n" + "".join(f"{r[0]},{r[1]},{r[2]},{i % 2},{i}\n" for i, r in enumerate(X))
    npz, npy = io.BytesIO(), io.BytesIO()
    np.savez(npz, X=X, y=np.arange(6) % 2, pairs=np.array([[0, 1]]))
    np.save(npy, X)
    return {".csv": csv_text.encode(), ".npz": npz.getvalue(), ".npy": npy.getvalue()}


def _mutate(data: bytes, rng) -> bytes:
    kind = rng.integers(5)
    b = bytearray(data)
    if kind == 0:  # flip some bytes
        for i in rng.integers(0, len(b), size=rng.integers(1, 8)):
            b[i] = int(rng.integers(256))
    elif kind == 1:  # truncate
        b = b[: int(rng.integers(0, len(b)))]
    elif kind == 2:  # random garbage
        b = bytearray(rng.integers(0, 256, size=int(rng.integers(0, 200))).astype(np.uint8).tobytes())
    elif kind == 3:  # splice in CSV-ish tokens
        token = rng.choice([b",", b"\n", b"nan", b"\"", b"\x00", b"label", b"1e999", b"-", b"view2_"])
        i = int(rng.integers(0, len(b) + 1))
        b[i:i] = token
    else:  # drop a chunk
        i = int(rng.integers(0, len(b)))
        del b[i : i + int(rng.integers(1, 40))]
    return bytes(b)


def test_fuzzed_files_either_load_cleanly_or_raise_data_file_error(tmp_path):
    """Whatever the bytes, the loader returns consistent finite arrays or raises DataFileError: never anything else."""
    rng = np.random.default_rng(12345)
    originals = _valid_files(rng)
    outcomes = {"loaded": 0, "rejected": 0}
    for trial in range(300):
        suffix = list(originals)[trial % len(originals)]
        path = tmp_path / f"f{trial}{suffix}"
        path.write_bytes(_mutate(originals[suffix], rng))
        try:
            data = cg.load_data_file(path)
        except DataFileError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message and "Traceback" not in message
            outcomes["rejected"] += 1
            continue
        outcomes["loaded"] += 1
        assert data.X.ndim == 2 and data.X.dtype == np.float64 and np.all(np.isfinite(data.X))
        n = data.X.shape[0]
        for extra in (data.y, data.groups):
            assert extra is None or extra.shape == (n,)
        assert data.X2 is None or (data.X2.shape[0] == n and np.all(np.isfinite(data.X2)))
        assert data.pairs is None or (data.pairs.min() >= 0 and data.pairs.max() < n)
    assert outcomes["rejected"] > 50 and outcomes["loaded"] > 5  # both paths were exercised


def test_zip_that_is_not_npz(tmp_path):
    path = tmp_path / "z.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", b"definitely not an npy header")
    # numpy hands back a member without the .npy magic as raw bytes: rejected as non-numeric X.
    with pytest.raises(DataFileError, match="X must be numeric"):
        cg.load_data_file(path)
