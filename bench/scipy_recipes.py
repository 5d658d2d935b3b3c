"""Hoffmann et al.'s objective as scipy users write it, shared by the bench scripts (which pin BLAS to
one thread before importing this). Huber threshold DELTA on log-space residuals."""

from __future__ import annotations

import numpy as np
from scipy.special import huber, logsumexp

DELTA = 1e-3


def epoch_objective(x, log_n, log_d, log_loss):
    """Hoffmann et al.'s objective in Epoch's formulation: log of a sum of exps, Huber by np.where."""
    a, b, e, alpha, beta = x
    prediction = np.log(np.exp(a - alpha * log_n) + np.exp(b - beta * log_d) + np.exp(e))
    diff = log_loss - prediction
    size = np.abs(diff)
    return np.sum(np.where(size <= DELTA, 0.5 * diff**2, DELTA * (size - 0.5 * DELTA)))


def objective_and_gradient(x, log_n, log_d, log_loss):
    """The same objective and its exact gradient. With t_k the three terms, T their sum, r = log T -
    log L and psi = clip(r, -delta, delta) = huber'(r): huber(r) = psi (r - psi/2) and
    d/da = sum psi t1/T, d/db = sum psi t2/T, d/de = sum psi t3/T, d/dalpha = -sum psi t1/T log N,
    d/dbeta = -sum psi t2/T log D."""
    a, b, e, alpha, beta = x
    t1 = np.exp(a - alpha * log_n)
    t2 = np.exp(b - beta * log_d)
    t3 = np.exp(e)
    total = t1 + t2 + t3
    r = np.log(total) - log_loss
    psi = np.clip(r, -DELTA, DELTA)
    w = psi / total
    w1, w2 = w * t1, w * t2
    gradient = np.array([w1.sum(), w2.sum(), t3 * w.sum(), -(w1 @ log_n), -(w2 @ log_d)])
    return psi @ (r - 0.5 * psi), gradient


def special_objective_and_gradient(x, log_n, log_d, log_loss):
    """The same through scipy.special.logsumexp and huber: the slower form."""
    a, b, e, alpha, beta = x
    u = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    lse = logsumexp(u, axis=0)
    r = lse - log_loss
    share = np.exp(u - lse)
    psi = np.clip(r, -DELTA, DELTA)
    gradient = np.array(
        [
            psi @ share[0],
            psi @ share[1],
            psi @ share[2],
            -(psi * share[0]) @ log_n,
            -(psi * share[1]) @ log_d,
        ]
    )
    return huber(DELTA, r).sum(), gradient
