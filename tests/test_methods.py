"""The method registry: each method declared once, and everything that names a method reads it."""

from __future__ import annotations

import numpy as np
import pytest

import contrastive_gmm as cg
from contrastive_gmm.experiments.figures import method_styles
from contrastive_gmm.methods import (
    all_methods,
    find_method,
    get_method,
    method_names,
    method_of,
)
from contrastive_gmm.model_io import as_linear_map

# Trained learners get a short fit (conftest's fast_options): what is tested is the wiring. Two epochs leave a trained map short of its closed form, which the learners rightly warn about.
pytestmark = pytest.mark.filterwarnings("ignore::contrastive_gmm.learners.training.ClosedFormWarning")


@pytest.mark.parametrize("name", method_names())
def test_every_method_builds_fits_and_saves_under_its_name(name, small_data, fast_options, fit_as_registered):
    m = get_method(name)
    options = {k: v for k, v in fast_options.items() if k in m.parameters()}
    model = fit_as_registered(m, m.build(2, random_state=0, **options), small_data)
    assert method_of(model) is m
    # A model file records the registry's name, the one `cgmm fit --method` takes.
    assert as_linear_map(model).method == name
    assert cg.learned_subspace(model).shape[1] == 2 if m.inputs != "two_views" else True


def test_names_and_labels_are_unique_and_both_find_the_method():
    methods = all_methods()
    assert len({m.name for m in methods}) == len(methods) == len({m.label for m in methods})
    for m in methods:
        assert get_method(m.name) is get_method(m.label) is m
    assert find_method("no such method") is None
    with pytest.raises(ValueError, match="unknown method 'nope'.*infonce"):
        get_method("nope")


def test_build_refuses_an_option_the_estimator_does_not_take():
    with pytest.raises(TypeError, match="barlow_twins: unknown option.*temprature"):
        get_method("barlow_twins").build(2, temprature=1.0)


def test_figures_take_each_method_s_colour_from_the_registry():
    labels = [m.label for m in all_methods()]
    styles = method_styles(labels)
    assert all(styles[m.label] == m.style for m in all_methods())
    # Within one study (one figure) no two methods share colour, line and marker.
    zoo = [get_method(n).label for n in ("infonce", "pair_cca", "spectral", "simclr", "simsiam", "barlow_twins", "vicreg", "supcon")]
    assert len({styles[label][0] for label in zoo}) == len(zoo)


def test_a_spec_names_methods_by_the_registry(tmp_path):
    from contrastive_gmm.experiments.spec import ConfigError, MethodSpec, parse_study

    m = MethodSpec.model_validate({"learner": "vicreg", "lambda_var": 10.0})
    assert m.display == "VICReg" and m.build(2, 0).lambda_var == 10.0
    base = {"kind": "loss_zoo", "name": "z", "title": "Z", "seed": 0}
    with pytest.raises((ConfigError, ValueError), match="vicreg.lambda_var: Input should be a valid number"):
        parse_study({**base, "learners": [{"learner": "vicreg", "lambda_var": "lots"}]}, source="z.toml")
    with pytest.raises((ConfigError, ValueError), match="the loss zoo needs pairs or labels"):
        parse_study({**base, "learners": ["clip"]}, source="z.toml")
    spec = parse_study({**base, "learners": ["barlow_twins", "pair_cca"]}, source="z.toml")
    assert spec.method_names() == ["Barlow Twins", "pair CCA"]


def test_fit_embedding_fits_any_registered_method():
    X, y = cg.load_real_dataset("wine")
    for name in ("barlow_twins", "supcon"):
        emb = cg.fit_embedding(name, X, y=y, n_components=2, random_state=0)
        assert emb.method == name and emb.transform(X).shape == (178, 2)
        assert np.isfinite(emb.transform(X)).all()


def _subspaces(model, inputs):
    if inputs == "two_views":
        return [np.linalg.qr(np.asarray(W).T)[0] for W in (model.x_components_, model.y_components_)]
    return [cg.learned_subspace(model)]


@pytest.mark.parametrize("name", method_names())
def test_every_method_centres_its_inputs(name, small_data, fast_options, fit_as_registered):
    # The mixtures the other tests draw have mean zero, so a learner that forgot to centre would
    # pass them; here every input is shifted by 5 and the fit must not move. Same seed and
    # centred data equal to rounding: closed forms agree to 1e-6 degrees; a trained map follows
    # the same trajectory up to float32 rounding (a degree is far more than that, and far less
    # than the tens of degrees an uncentred fit is off).
    m = get_method(name)
    options = {k: v for k, v in fast_options.items() if k in m.parameters()}
    X, Xp, z, A, B = small_data
    shifted = (X + 5.0, Xp + 5.0, z, A + 5.0, B - 5.0)
    plain = fit_as_registered(m, m.build(2, random_state=0, **options), small_data)
    moved = fit_as_registered(m, m.build(2, random_state=0, **options), shifted)
    trained = "max_epochs" in m.parameters()
    for S, T in zip(_subspaces(plain, m.inputs), _subspaces(moved, m.inputs)):
        assert cg.subspace_angles(S, T).max() < (1.0 if trained else 1e-6)


def test_the_temperature_changes_infonce_s_fit(theory_setting):
    # A learner that ignored its temperature would fit the same map at 0.1 and 10 (same seed).
    _, X, Xp, _ = theory_setting
    X, Xp = X[:3000], Xp[:3000]
    cold = cg.InfoNCE(5, temperature=0.1, random_state=0, max_epochs=5).fit(X, Xp)
    hot = cg.InfoNCE(5, temperature=10.0, random_state=0, max_epochs=5).fit(X, Xp)
    assert cg.subspace_angles(cg.learned_subspace(cold), cg.learned_subspace(hot)).max() > 1.0
