"""Step 1 for real data: bundled datasets, user data files, and positive pairs built from labels, groups or index pairs."""

from contrastive_gmm.data.datasets import (
    DataFile,
    DataFileError,
    load_data_file,
    load_digits_views,
    load_real_dataset,
    write_embedding,
)
from contrastive_gmm.data.pairs import (
    pair_indices_from_groups,
    pair_indices_from_labels,
    pairs_from_groups,
    pairs_from_indices,
    pairs_from_labels,
)

__all__ = [
    "DataFile",
    "DataFileError",
    "load_data_file",
    "load_digits_views",
    "load_real_dataset",
    "write_embedding",
    "pair_indices_from_groups",
    "pair_indices_from_labels",
    "pairs_from_groups",
    "pairs_from_indices",
    "pairs_from_labels",
]
