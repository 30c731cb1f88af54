"""Model families; importing this package registers every model."""

from zoo.models import music
from zoo.models.autoregressive import FeedForwardAR, LinearAR
from zoo.models.base import SequenceModel
from zoo.models.char_lm import CharLM
from zoo.models.emotion import EmotionBLSTM, EmotionDilated, EmotionDownUp, EmotionFilter
from zoo.models.recurrent import CELLS, SequenceClassifier, SequenceRegressor
from zoo.models.rnnpb import RNNPB, PBStream
from zoo.models.text import SentenceEncoder, TextRegressor

__all__ = ["SequenceModel", "CharLM", "EmotionBLSTM", "EmotionDilated", "EmotionDownUp",
           "EmotionFilter", "CELLS", "SequenceClassifier", "SequenceRegressor", "RNNPB",
           "PBStream", "SentenceEncoder", "TextRegressor", "LinearAR", "FeedForwardAR", "music"]
