"""Step 2: the contrastive losses, one module each (PyTorch), usable on their own in any training loop.

Each takes a batch of embeddings (and, for some, parameters) and returns a scalar tensor;
:class:`InfoNCELoss` and :class:`CLIPLoss` are also ``nn.Module`` s with the options of the
learners. The logit-scale clamp of CLIP lives in :mod:`contrastive_gmm.losses.clip` only.
"""

# Every public loss module is part of the API: its ``__all__`` is re-exported here, so adding
# a loss module needs no edit in this file.
import importlib as _importlib
import pkgutil as _pkgutil

__all__: list[str] = []
for _info in _pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        _module = _importlib.import_module(f"{__name__}.{_info.name}")
        globals().update({_n: getattr(_module, _n) for _n in _module.__all__})
        __all__ += _module.__all__
del _info, _module
