"""The experiment layer, on top of the library: study specs, the engine, the study kinds, claims, figures, the report.

Nothing in the library imports from here; ``import contrastive_gmm`` does not load it (nor
pydantic, matplotlib or dask). A study kind is one module (:mod:`.fisher`, :mod:`.multimodal`,
:mod:`.loss_zoo`, :mod:`.real_data`) that registers its spec class, run and plot with
:func:`~contrastive_gmm.experiments.engine.register_kind`; the shipped specs are
``experiments/studies/*.toml``. Methods are named through the registry in
:mod:`contrastive_gmm.methods`.
"""
