"""Each law's term shares (FitResult.term_shares, the JSON's "term_shares"): every term's largest share of
the predicted loss over the runs, finite for every law, against the terms written here in numpy."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scalinglaw
from conftest import MUENNIGHOFF_BASE as BASE
from conftest import data_constrained_terms
from scalinglaw import DataConstrained


def largest_shares(terms):
    total = sum(terms)
    return [float(np.max(t / total)) for t in terms]


@pytest.fixture(scope="module")
def repeated():
    rng = np.random.default_rng(3)
    n = np.repeat(np.geomspace(1e8, 9e9, 6), 5)
    d = np.tile(np.geomspace(2e9, 2e11, 5), 6)
    u = d / rng.uniform(1.0, 40.0, d.size)
    law = DataConstrained(**BASE, R_D=15.387756, R_N=5.309743)
    loss = law.predict(n, d, u) * np.exp(rng.normal(0.0, 0.003, d.size))
    return n, d, u, loss


def test_data_constrained_shares_are_its_terms_shares(repeated):
    n, d, u, loss = repeated
    result = scalinglaw.fit(n, d, loss, law="data_constrained", fixed=BASE, unique_tokens=u)
    terms = data_constrained_terms(result.law.params, n, d, u)
    np.testing.assert_allclose(sum(terms), result.law.predict(n, d, u), rtol=1e-13)  # the core's law
    np.testing.assert_allclose(result.term_shares, largest_shares(terms), rtol=1e-12)
    assert all(0 < share <= 1 for share in result.term_shares)
    document = result.to_dict()
    assert document["term_shares"] == list(result.term_shares)
    json.dumps(document, allow_nan=False)  # no NaN left for the JSON


def test_data_constrained_without_decay_has_chinchillas_shares(repeated):
    n, d, u, loss = repeated
    pinned = {name: value for name, value in BASE.items() if name != "E"}
    chinchilla = scalinglaw.fit(n, d, loss, fixed=pinned)
    no_decay = {**pinned, "R_D": math.inf, "R_N": math.inf}
    law = scalinglaw.fit(n, d, loss, law="data_constrained", fixed=no_decay, unique_tokens=u)
    assert law.law.E == pytest.approx(chinchilla.law.E, rel=1e-8)  # to the solver's tolerance
    np.testing.assert_allclose(law.term_shares, chinchilla.term_shares, rtol=1e-8)


def test_kaplan_shares_are_of_its_bracket(chinchilla_240):
    n, d, loss = chinchilla_240
    starts = scalinglaw.law_default_starts("kaplan")[::20]
    result = scalinglaw.fit(n, d, loss, law="kaplan", starts=starts)
    p = result.law.params
    terms = [(p["N_c"] / n) ** (p["alpha_N"] / p["alpha_D"]), p["D_c"] / d]
    np.testing.assert_allclose(result.term_shares, largest_shares(terms), rtol=1e-12)
