"""Model families; importing this package registers every model."""

from zoo.models.base import SequenceModel
from zoo.models.emotion import EmotionBLSTM, EmotionDilated, EmotionDownUp, EmotionFilter

__all__ = ["SequenceModel", "EmotionBLSTM", "EmotionDilated", "EmotionDownUp",
           "EmotionFilter"]
