"""Inference-aware sizing against Sardana et al.'s (2024) table and an independent scipy solution."""

import math

import pytest
import scalinglaw
from scalinglaw.inference import inference_optimal
from scipy.optimize import minimize_scalar

# Hoffmann et al.'s published (rounded) parameters, the ones Sardana et al. use.
PAPER = scalinglaw.Law(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)


def scipy_for_loss(law, loss, T):
    """min over ln N of 6 N D(N) + 2 N T with L(N, D(N)) = loss, by scipy's bounded Brent."""
    x_min = math.log(law.A / (loss - law.E)) / law.alpha

    def flops(x):
        n = math.exp(x)
        d = (law.B / (loss - law.E - law.A * n**-law.alpha)) ** (1 / law.beta)
        return (6 * n * d + 2 * n * T) / 1e20

    found = minimize_scalar(
        flops, bounds=(x_min + 1e-9, x_min + 30), method="bounded", options={"xatol": 1e-10}
    )
    n = math.exp(found.x)
    return n, (law.B / (loss - law.E - law.A * n**-law.alpha)) ** (1 / law.beta)


def scipy_for_budget(law, C, T):
    def loss(x):
        n = math.exp(x)
        return law.E + law.A * n**-law.alpha + law.B * ((C - 2 * n * T) / (6 * n)) ** -law.beta

    found = minimize_scalar(
        loss, bounds=(0.0, math.log(C / (2 * T)) - 1e-9), method="bounded", options={"xatol": 1e-10}
    )
    return math.exp(found.x)


def test_sardana_table_target_loss():
    plan = inference_optimal(PAPER, 2e12, loss=1.947)
    # The issue's figures from Sardana et al.'s table: N = 2.41836e10, D = 2.65705e12, 70.96% of the
    # Chinchilla-optimal parameters, 146.77% of its tokens, 95.22% of its FLOPs.
    assert plan.N == pytest.approx(2.41836e10, rel=5e-6)
    assert plan.D == pytest.approx(2.65705e12, rel=5e-6)
    assert plan.N_ratio == pytest.approx(0.7096, abs=5e-5)
    assert plan.D_ratio == pytest.approx(1.4677, abs=5e-5)
    assert plan.flops_ratio == pytest.approx(0.9522, abs=5e-5)
    assert plan.loss == pytest.approx(1.947, rel=1e-12)
    n, d = scipy_for_loss(PAPER, 1.947, 2e12)
    assert plan.N == pytest.approx(n, rel=1e-7) and plan.D == pytest.approx(d, rel=1e-7)


def test_chinchilla_13b_saving():
    loss = float(PAPER.optimal_for_size(13e9).loss)
    plan = inference_optimal(PAPER, 2e12, loss=loss)
    assert plan.N == pytest.approx(6.9686e9, rel=1e-5)
    assert plan.flops_saved == pytest.approx(1.6917e22, rel=1e-4)
    assert plan.flops_saved / plan.chinchilla_total_flops == pytest.approx(0.1745, abs=5e-5)
    assert plan.chinchilla_N == pytest.approx(13e9, rel=1e-12)


def test_no_inference_is_the_compute_optimal_model():
    plan = inference_optimal(PAPER, 0, loss=2.1)
    assert plan.N == pytest.approx(plan.chinchilla_N, rel=1e-12)
    assert plan.D == pytest.approx(plan.chinchilla_D, rel=1e-12)
    best = inference_optimal(PAPER, 0.0, C=1e23)
    assert best.N == pytest.approx(float(PAPER.compute_optimal(1e23).N), rel=1e-12)


@pytest.mark.parametrize("T", [1e10, 2e12, 1e14])
def test_total_budget_against_scipy(T):
    C = 1e24
    plan = inference_optimal(PAPER, T, C=C)
    assert plan.total_flops == pytest.approx(C, rel=1e-12)
    assert plan.N == pytest.approx(scipy_for_budget(PAPER, C, T), rel=1e-6)
    # The loss-target answer at the loss it reaches is the same model: the two questions are dual.
    dual = inference_optimal(PAPER, T, loss=plan.loss)
    assert dual.N == pytest.approx(plan.N, rel=1e-9)


def test_more_inference_means_smaller_models_trained_longer():
    plans = [inference_optimal(PAPER, T, loss=2.0) for T in (0, 1e11, 1e12, 1e13)]
    assert all(a.N > b.N and a.D < b.D for a, b in zip(plans, plans[1:]))


def test_to_dict_is_labelled_scalars():
    record = inference_optimal(PAPER, 2e12, loss=1.947).to_dict()
    assert all(isinstance(value, float) for value in record.values())
    assert record["total_flops"] == record["training_flops"] + record["inference_flops"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inference_tokens": -1.0, "loss": 2.0}, "inference_tokens must be >= 0"),
        ({"inference_tokens": math.nan, "loss": 2.0}, "inference_tokens must be finite"),
        ({"inference_tokens": 1e12}, "exactly one of loss"),
        ({"inference_tokens": 1e12, "loss": 2.0, "C": 1e23}, "exactly one of loss"),
        ({"inference_tokens": 1e12, "loss": 1.5}, "not above E"),
        ({"inference_tokens": 1e12, "loss": "2"}, "loss must be a real number"),
        ({"inference_tokens": 1e12, "C": -1.0}, "C must be finite and > 0"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        inference_optimal(PAPER, **kwargs)
