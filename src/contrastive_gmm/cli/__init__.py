"""The command line, `cgmm`: composes the library and the experiments; no logic of its own."""

from contrastive_gmm.cli.main import app, run

__all__ = ["app", "run"]
