"""Long memory: the adding problem at T=200 (issue 3 acceptance)."""

import numpy as np
import pytest

from zoo.data.synthetic import adding_problem
from zoo.recipes.adding import train_adding


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
