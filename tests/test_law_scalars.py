"""Scalars in, scalars out: every law's (and a FitResult's) answers are Python floats for scalar
questions, and arrays of the question's shape for array-likes (a 0-d array stays a 0-d array)."""

import numpy as np
import pytest
import scalinglaw
from scalinglaw import frontier
from scalinglaw.law import Chinchilla, DataConstrained, Kaplan

LAWS = [
    Chinchilla(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283),
    Kaplan(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103),
    DataConstrained(E=1.87, A=521.0, B=1488.0, alpha=0.353, beta=0.353, R_D=15.4, R_N=5.3),
]
FIELDS = ("C", "N", "D", "loss", "tokens_per_parameter")


def questions(law):
    """(method, scalar question, array question) for each allocation a law answers."""
    reachable = float(law.compute_optimal(1e23).loss)  # a loss every law reaches
    return [
        ("compute_optimal", 5.76e23, np.array([[1e21, 1e22, 1e23], [1e24, 5.76e23, 1e20]])),
        ("budget_for_loss", reachable, np.array([reachable, reachable + 0.1])),
        ("optimal_for_size", 7e10, np.array([[1e9], [7e10]])),
    ]


@pytest.mark.parametrize("law", LAWS, ids=lambda law: law.KIND)
def test_allocations(law, fit_240):
    for owner in (law, fit_240) if law.KIND == "chinchilla" else (law,):
        for method, scalar, array in questions(owner.law if owner is fit_240 else owner):
            one = getattr(owner, method)(scalar)
            assert all(type(getattr(one, name)) is float for name in FIELDS), method
            assert len(one) == 1
            assert all(type(value) is float for value in one.to_dict().values())
            many = getattr(owner, method)(array)
            assert all(getattr(many, name).shape == array.shape for name in FIELDS), method
            assert many.to_dict()["N"] == many.N.tolist()
            # Each element is the scalar answer to its own question, exactly.
            index = np.unravel_index(array.size - 1, array.shape)
            last = getattr(owner, method)(float(array[index]))
            assert all(getattr(many, name)[index] == getattr(last, name) for name in FIELDS), method
            zero_d = getattr(owner, method)(np.array(scalar))
            assert isinstance(zero_d.N, np.ndarray) and zero_d.N.shape == () and zero_d.N == one.N
            listed = getattr(owner, method)([scalar])
            assert listed.N.shape == (1,) and listed.N[0] == one.N


@pytest.mark.parametrize("law", LAWS, ids=lambda law: law.KIND)
def test_predict(law):
    loss = law.predict(7e10, 1.4e12)
    assert type(loss) is float
    n = np.array([[7e10, 1e9, 4e8]])
    d = np.array([[1.4e12], [2e10]])
    grid = law.predict(n, d)
    assert grid.shape == (2, 3) and grid[0, 0] == loss
    assert type(law.predict(np.float64(7e10), 1.4e12)) is float  # a numpy scalar is a scalar
    assert law.predict(np.array(7e10), 1.4e12).shape == ()
    assert law.predict([7e10], 1.4e12).shape == (1,)


def test_predict_with_unique_tokens_is_a_float_too():
    law = LAWS[2]
    repeated = law.predict(7e10, 1.4e12, 3e11)
    assert type(repeated) is float and repeated > law.predict(7e10, 1.4e12)
    assert law.predict(7e10, 1.4e12, [3e11, 1.4e12]).shape == (2,)


def test_the_fit_predicts_scalars_as_floats(fit_240):
    assert type(fit_240.predict(7e10, 1.4e12)) is float
    assert fit_240.predict(7e10, 1.4e12) == fit_240.law.predict(7e10, 1.4e12)
    assert fit_240.predict(np.array([7e10, 1e9]), 1.4e12).shape == (2,)


def test_the_frontier_functions_too():
    law = LAWS[0]
    assert type(frontier.compute_optimal(law, 1e23).N) is float
    assert frontier.budget_for_loss(law, [2.0, 2.1]).N.shape == (2,)
    assert type(scalinglaw.frontier.optimal_for_size(law, 7e10).D) is float
