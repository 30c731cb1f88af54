"""Long memory: the adding problem at T=200 (issue 3 acceptance) and variable binding."""

import numpy as np
import pytest

from zoo.data.synthetic import adding_problem
from zoo.recipes.adding import train_adding
from zoo.recipes.binding import train_binding


def test_adding_problem_batches():
    x, y = adding_problem(500, 200, np.random.default_rng(0))
    assert x.shape == (500, 200, 2) and y.shape == (500, 1)
    np.testing.assert_array_equal(x[..., 1].sum(1), 2.0)
    assert (x[:, :100, 1].sum(1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(1), rtol=1e-6)
    # Predicting the mean (1.0) scores about 1/6.
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.02


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["gru", "peephole_lstm"])
def test_gated_cells_solve_the_adding_problem_at_200_steps(cell):
    result = train_adding(cell, length=200, max_steps=2500, seed=0)
    assert result["solved"], f"{cell}: test MSE {result['test_mse']:.4f} after {result['steps']} steps"


@pytest.mark.slow
def test_elman_does_not_solve_it_in_the_same_budget():
    result = train_adding("elman", length=200, max_steps=600, seed=0)
    assert result["test_mse"] > 0.05, result["curve"]


@pytest.mark.slow
def test_a_gated_tensor_cell_solves_the_adding_problem_at_200_steps():
    """Issue 19: at least one gated tensor cell solves it (CP rank 16, the default)."""
    result = train_adding("gated_bilinear", length=200, max_steps=2500, seed=0)
    assert result["solved"], f"test MSE {result['test_mse']:.4f} after {result['steps']} steps"


def test_binding_curriculum_adds_one_pair_per_stage_and_scores_the_full_task():
    result = train_binding("elman", pairs=3, symbols=4, units=8, batch=16, max_steps=12,
                           check_every=4, curriculum=True, advance_at=0.01, target=1.01)
    assert result["stages"] == [(0, 1), (4, 2), (8, 3)]
    assert [step for step, _ in result["curve"]] == [4, 8, 12]
    assert result["steps"] == 12 and not result["solved"]
    fixed = train_binding("elman", pairs=3, symbols=4, units=8, batch=16, max_steps=6,
                          check_every=4, target=1.01)
    assert fixed["stages"] == [(0, 3)] and [s for s, _ in fixed["curve"]] == [4, 6]


@pytest.mark.parametrize("settings", [{"advance_at": 0.0, "curriculum": True},
                                      {"advance_at": 1.5, "curriculum": True},
                                      {"max_steps": 0}, {"check_every": 0}])
def test_binding_refuses_bad_settings(settings):
    with pytest.raises(ValueError, match="received"):
        train_binding("elman", pairs=2, symbols=4, units=4, **settings)
