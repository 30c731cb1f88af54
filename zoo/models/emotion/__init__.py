"""Continuous emotion regressors (Khorram et al., Interspeech 2017) and their evaluation.

`model.py` holds the dilated-convolution, down/up and BLSTM regressors and their
registered factories; `evaluation.py` scores predictions over a corpus (CCC, RMSE) and
measures how smooth they are.
"""

from zoo.models.emotion import evaluation
from zoo.models.emotion.model import EmotionBLSTM, EmotionDilated, EmotionDownUp, EmotionFilter

__all__ = ["EmotionBLSTM", "EmotionDilated", "EmotionDownUp", "EmotionFilter", "evaluation"]
