"""Layers and cells of the zoo."""

from zoo.layers.bilinear import Bilinear, BilinearCell
from zoo.layers.crop import CropToReference
from zoo.layers.elman import Elman, ElmanCell
from zoo.layers.gated_bilinear import GatedBilinear, GatedBilinearCell
from zoo.layers.gru import GRU, GRUCell
from zoo.layers.jordan import Jordan, JordanCell
from zoo.layers.peephole_lstm import PeepholeLSTM, PeepholeLSTMCell, peephole_from_lstm
from zoo.layers.recurrent import RecurrentCell, RecurrentLayer
from zoo.layers.tensor_product import BilinearProduct
from zoo.layers.tt_matrix import TTMatrix

__all__ = [
    "Bilinear",
    "BilinearCell",
    "BilinearProduct",
    "GatedBilinear",
    "GatedBilinearCell",
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
    "TTMatrix",
    "peephole_from_lstm",
]
