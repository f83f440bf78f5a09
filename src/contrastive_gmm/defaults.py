"""Defaults that the library and the command line share, in a module that imports nothing.

The command line builds its options (and ``cgmm --help``) from these without importing the
learners, so the values are declared here once and read by :func:`~contrastive_gmm.fit_embedding`
and the real-data study as well.
"""

#: The fraction of the training variance the real-data recipe's PCA preprocessing keeps.
PREPROCESS_VARIANCE = 0.99
#: How many partners per training row the real-data recipe draws (same class, or any with probability delta).
N_PAIRS_PER_SAMPLE = 10

__all__ = ["PREPROCESS_VARIANCE", "N_PAIRS_PER_SAMPLE"]
