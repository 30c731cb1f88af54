"""RNNPB on real motion data (BasicMotions): learnt without labels, recognised on test."""

import numpy as np
import pytest

import zoo
from zoo.motion import learn_uea, recognition_report


@pytest.mark.slow
def test_basicmotions_recognised_pbs_sit_nearest_their_own_class():
    model, train = learn_uea("BasicMotions", seed=0)
    report = recognition_report(model, zoo.data.load_uea("BasicMotions", "test"))
    # The paper's criterion (Tables IV-V): each recognised class mean is nearest its own
    # trained class mean.
    assert report["diagonal_smallest"], report["table"]
    # Issue 4 asks for >= 0.9; seed 0 measures 0.9 (benchmarks/rnnpb_motion.py, 8 starts). The
    # bound sits below the measurement to catch regressions, not to claim the target.
    assert report["accuracy"] >= 0.85
    assert report["errors"][1] < report["errors"][0]
    assert np.isfinite(report["pbs"]).all()
