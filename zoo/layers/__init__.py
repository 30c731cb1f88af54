"""Layers and cells of the zoo."""

from zoo.layers.crop import CropToReference
from zoo.layers.elman import Elman, ElmanCell
from zoo.layers.gru import GRU, GRUCell
from zoo.layers.jordan import Jordan, JordanCell
from zoo.layers.peephole_lstm import PeepholeLSTM, PeepholeLSTMCell, peephole_from_lstm
from zoo.layers.recurrent import RecurrentCell, RecurrentLayer

__all__ = [
    "CropToReference",
    "Elman",
    "ElmanCell",
    "GRU",
    "GRUCell",
    "Jordan",
    "JordanCell",
    "PeepholeLSTM",
    "PeepholeLSTMCell",
    "RecurrentCell",
    "RecurrentLayer",
    "peephole_from_lstm",
]
