"""Selective sampling on a stream: the budget holds, uncertain items are asked, runs reproduce."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from alwidget.session import default_estimator
from alwidget.stream import VariableUncertainty, simulate_stream

from alw_helpers import run_benchmark, table_rows


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.3])
@pytest.mark.parametrize("randomized", [False, True])
def test_the_label_budget_holds_over_a_long_stream(budget, randomized):
    rng = np.random.default_rng(0)
    p1 = rng.uniform(0.5, 1.0, 20_000)
    vu = VariableUncertainty(budget=budget, randomized=randomized, random_state=0)
    ask = np.concatenate([vu.decide(np.c_[p, 1 - p]) for p in np.array_split(p1, 40)])
    assert abs(ask.mean() - budget) < 0.02 and vu.n_asked == ask.sum() and vu.n_seen == 20_000


def test_uncertain_items_are_asked_far_more_often_than_confident_ones():
    rng = np.random.default_rng(1)
    unsure = rng.random(5000) < 0.5
    proba = np.where(unsure[:, None], [0.55, 0.45], [0.99, 0.01])
    ask = VariableUncertainty(budget=0.2).decide(proba)
    assert ask[unsure].mean() > 10 * ask[~unsure].mean()
    # the threshold adapts: with only confident items, some are still asked (budget allows)
    assert VariableUncertainty(budget=0.2).decide(np.tile([0.99, 0.01], (2000, 1))).any()


def test_randomized_threshold_is_reproducible_under_a_seed():
    P = np.random.default_rng(2).dirichlet([1, 1, 1], 3000)
    a = VariableUncertainty(randomized=True, random_state=7).decide(P)
    b = VariableUncertainty(randomized=True, random_state=7).decide(P)
    c = VariableUncertainty(randomized=True, random_state=8).decide(P)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_a_simulated_stream_keeps_true_labels_for_asked_items_and_learns():
    X, y = load_digits(return_X_y=True)
    r = simulate_stream(
        X[:1400],
        y[:1400],
        default_estimator(),
        X_eval=X[1400:],
        y_eval=y[1400:],
        sampler=VariableUncertainty(budget=0.1, random_state=0),
    )
    assert np.array_equal(r.predicted[r.asked], y[:1400][r.asked])
    assert r.asked.size == r.curve["n_labels"].iloc[-1] <= 0.12 * 1400
    assert r.curve["n_seen"].iloc[-1] == 1400 and (r.predicted >= 0).all()
    assert (
        r.curve["accuracy"].iloc[-1] > r.curve["accuracy"].iloc[0]
        and r.curve["accuracy"].iloc[-1] > 0.85
    )


def test_bad_parameters_say_what_is_expected():
    with pytest.raises(ValueError, match="budget"):
        VariableUncertainty(budget=0)
    with pytest.raises(ValueError, match="step"):
        VariableUncertainty(step=1.5)
    with pytest.raises(ValueError, match="shape"):
        VariableUncertainty().decide(np.ones(3))


def test_stream_benchmark_prints_parseable_sane_figures():
    (row,) = table_rows(run_benchmark("stream.py", "--quick"))
    assert 0.05 <= float(row["stream_labels"]) / 1347 <= 0.15  # budget 0.1 of the stream
    assert 0.8 < float(row["stream_acc"]) <= 1 and 0.8 < float(row["margin_acc_same_labels"]) <= 1
    assert float(row["margin_labels_to_stream_acc"]) > 0
