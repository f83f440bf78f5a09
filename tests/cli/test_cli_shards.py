"""``cgmm fit`` on shards: a glob of .npz files, a Dask scheduler, and torchrun processes."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import contrastive_gmm as cg
from contrastive_gmm.cli.main import app

runner = CliRunner()
ROWS = (900, 600, 500)  # unequal shards


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray, cg.GMM]:
    """Three float32 shards of pairs from a known mixture, and all their rows stacked."""
    folder = tmp_path_factory.mktemp("parts")
    gmm = cg.GMM.random(3, 8, random_state=0)
    Xs, Ps = [], []
    for i, n in enumerate(ROWS):
        X, P, _, _ = gmm.sample_pairs(n, random_state=i)
        X, P = X.astype(np.float32), P.astype(np.float32)
        np.savez(folder / f"part{i}.npz", X=X, X2=P)
        Xs.append(X)
        Ps.append(P)
    return folder, np.vstack(Xs), np.vstack(Ps), gmm


def test_a_glob_of_shards_fits_what_one_fit_on_all_rows_gives(shards, tmp_path):
    folder, X, P, _ = shards
    out = tmp_path / "model.npz"
    result = runner.invoke(app, ["fit", "--data", str(folder / "part*.npz"), "--method", "pair_cca", "-k", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 shards, 2000 pairs" in result.output
    model = cg.load_model(out)
    ref = cg.PairCCA(2).fit(X, P)
    # The shards' moments are float32 chunk sums added in float64, the reference's too: agreement to float32
    # rounding over other chunk boundaries (see the Dask test below).
    assert cg.subspace_angles(model.components_.T, ref.components_.T).max() < 1e-3
    np.testing.assert_allclose(model.transform(X), ref.transform(X), rtol=1e-4, atol=1e-4)
    assert model.info["shards"] == 3 and model.info["n_pairs"] == 2000


def test_shards_on_a_dask_cluster(shards, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder, X, P, _ = shards
    out = tmp_path / "cca.npz"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = runner.invoke(app, [
            "fit", "--data", str(folder / "*.npz"), "--method", "cca", "-k", "2", "--out", str(out), "--scheduler", cluster.scheduler_address,
        ])
    assert result.exit_code == 0, result.output
    assert "on the Dask cluster at" in result.output
    model = cg.load_model(out)
    ref = cg.CCA(2).fit(X, P)
    # float32 products over other chunk boundaries (one block per shard) and about another reference point:
    # ~1e-7 relative rounding, amplified by the weaker canonical pair's small eigen-gap (1.6e-4 degrees measured).
    for mine, theirs in ((model.x_components_, ref.x_components_), (model.y_components_, ref.y_components_)):
        assert cg.subspace_angles(mine.T, theirs.T).max() < 1e-3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "infonce"], "--distributed"),  # a trained method on shards needs torchrun processes
        (["--method", "pair_cca", "--distributed"], "torchrun"),  # no launcher's environment
        (["--method", "pair_cca", "--label-column", "y"], "--label-column"),  # table options do not apply
        (["--method", "pca"], "method"),  # not a method that fits shards
    ],
)
def test_shard_mistakes_fail_in_one_line(shards, tmp_path, args, message):
    folder, _, _, _ = shards
    result = runner.invoke(app, ["fit", "--data", str(folder / "*.npz"), "-k", "2", "--out", str(tmp_path / "m.npz"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_no_matching_shard_and_scheduler_without_a_glob(tmp_path):
    result = runner.invoke(app, ["fit", "--data", str(tmp_path / "none*.npz"), "--method", "cca", "-k", "2", "--out", str(tmp_path / "m.npz")])
    assert result.exit_code == 2 and "no shard file matches" in result.output
    plain = tmp_path / "one.npz"
    np.savez(plain, X=np.zeros((4, 2)), X2=np.zeros((4, 2)))
    result = runner.invoke(app, ["fit", "--data", str(plain), "--method", "cca", "-k", "1", "--out", str(tmp_path / "m.npz"), "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "quoted glob" in result.output


def test_distributed_fit_under_torchrun(shards, tmp_path):
    """Two torchrun processes, each reading its shards (0 and 2, then 1), write the map one process fits on all rows."""
    folder, X, P, gmm = shards
    out = tmp_path / "infonce.npz"
    cgmm = Path(sys.executable).parent / "cgmm"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(cgmm),
        "fit", "--data", str(folder / "part*.npz"), "--method", "infonce", "-k", "2", "--out", str(out), "--distributed",
        "--epochs", "30", "--seed", "0",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "on 2 processes" in done.stdout
    model = cg.load_model(out)
    # Rank 0 holds shards 0 and 2, rank 1 shard 1: in one process, those rows in that order.
    order = np.r_[0:900, 1500:2000, 900:1500]
    ref = cg.InfoNCE(2, random_state=0, max_epochs=30).fit(X[order], P[order])
    # Same seed, the same batches drawn from the union: the fits differ by float32 summation order only
    # (~2e-5 degrees measured); 0.05 degrees is far below the seed-to-seed spread.
    assert cg.subspace_angles(model.components_.T, ref.components_.T).max() < 0.05
    assert cg.subspace_angles(model.components_.T, gmm.fisher_subspace()).max() < 15
