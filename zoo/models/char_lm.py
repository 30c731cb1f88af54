"""Character-level language model: predicts the next character, generates text.

The recipe of the RNN lectures ("Sequential modeling"; Y. Huang, GWU DATS 6202): characters
are embedded, run through recurrent layers, and a softmax over the vocabulary gives the next
character; generation feeds each sampled character back in, with temperature, top-k or greedy choice.
"""

import keras
import numpy as np
from keras import ops

from zoo import backend
from zoo.layers import loop
from zoo.models.base import SequenceModel
from zoo.models.recurrent import REFERENCES, _stack
from zoo.registry import register_model
from zoo.validation import check_positive, check_rate

UNKNOWN = 0


@keras.saving.register_keras_serializable(package="zoo")
class CharLM(SequenceModel):
    """Next-character model over a fixed character vocabulary.

    Ids: 0 is any character not in `vocabulary`; `vocabulary[i]` is id `i + 1`. The
    model maps `(batch, time)` ids to `(batch, time, len(vocabulary) + 1)` logits.

    Args:
        vocabulary: a string of distinct characters (e.g. `CharLM.vocabulary_of(text)`).
        cell: a key of `zoo.models.recurrent.CELLS`. Default `"gru"`.
        units: units per layer. Default 256.
        depth: recurrent layers. Default 2.
        embedding_dim: default 64.
        dropout: input dropout of the recurrent layers. Default 0.
        cell_options: dict of extra arguments for every recurrent layer (e.g.
            `{"tensor_format": "cp", "rank": 8}` for a tensor cell). Default None.

    Example:

    ```python
    lm = zoo.get("char_lm", vocabulary=zoo.models.CharLM.vocabulary_of(text))
    x, y = lm.windows(text, length=100)
    lm.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    lm.fit(x, y, epochs=10)
    print(lm.generate("ROMEO:", 200, temperature=0.8))
    ```
    """

    def __init__(self, vocabulary, cell="gru", units=256, depth=2, embedding_dim=64,
                 dropout=0.0, cell_options=None, **kwargs):
        if not isinstance(vocabulary, str) or not vocabulary:
            raise ValueError("`vocabulary` must be a non-empty string of characters.")
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` must not repeat a character.")
        check_positive(units=units, depth=depth, embedding_dim=embedding_dim)
        check_rate("dropout", dropout)
        size = len(vocabulary) + 1
        inputs = keras.Input((None,), dtype="int32", name="ids")
        x = keras.layers.Embedding(size, embedding_dim, name="embedding")(inputs)
        x = _stack(x, cell, units, depth, False, dropout, 0.0, True, cell_options)
        logits = keras.layers.Dense(size, name="logits")(x)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self._keep(vocabulary=vocabulary, cell=cell, units=units, depth=depth,
                   embedding_dim=embedding_dim, dropout=dropout, cell_options=cell_options)
        self.input_dim = None
        self.reference = (
            "A. Karpathy, \"The unreasonable effectiveness of recurrent neural networks\", 2015; "
            + REFERENCES[cell]
        )
        self._index = {c: i + 1 for i, c in enumerate(vocabulary)}
        self._step_fn = None

    @staticmethod
    def vocabulary_of(text):
        """The sorted distinct characters of `text`."""
        return "".join(sorted(set(text)))

    @property
    def vocabulary_size(self):
        return len(self.vocabulary) + 1

    def encode(self, text):
        """Ids of `text`; characters outside the vocabulary become 0."""
        return np.array([self._index.get(c, UNKNOWN) for c in text], dtype="int32")

    def decode(self, ids):
        return "".join(self.vocabulary[i - 1] if i > 0 else "\ufffd" for i in np.asarray(ids).ravel())

    def windows(self, text, length=100, stride=None):
        """`(x, y)` training pairs: windows of `length` ids and the same shifted by one."""
        check_positive(length=length)
        ids = self.encode(text)
        if len(ids) < length + 1:
            raise ValueError(f"The text has {len(ids)} characters; windows need at least {length + 1}.")
        stride = stride or length
        starts = np.arange(0, len(ids) - length, stride)
        x = np.stack([ids[s : s + length] for s in starts])
        y = np.stack([ids[s + 1 : s + length + 1] for s in starts])
        return x, y

    def _check(self, x):
        if isinstance(x, np.ndarray) or (hasattr(x, "numpy") and hasattr(x, "shape")):
            ids = np.asarray(x)
            if ids.ndim != 2:
                raise ValueError(f"CharLM takes ids shaped (batch, time). Received shape {ids.shape}.")
            if ids.shape[1] == 0:
                raise ValueError("CharLM received an empty sequence.")
            if ids.dtype.kind not in "iu":
                raise ValueError(f"CharLM takes integer ids; received dtype {ids.dtype}. Use `encode`.")
            if ids.min() < 0 or ids.max() >= self.vocabulary_size:
                raise ValueError(
                    f"Ids must lie in [0, {self.vocabulary_size}); received {ids.min()}..{ids.max()}."
                )
        return x

    # -- generation -------------------------------------------------------------------
    def _recurrent_cells(self):
        return [layer.cell for layer in self.layers if isinstance(layer, keras.layers.RNN)]

    def _step(self, ids, states):
        x = self.get_layer("embedding")(ids)
        x, new_states = loop.step_stack(self._recurrent_cells(), x, states)
        return self.get_layer("logits")(x), new_states

    def generate(self, prompt, length, temperature=1.0, top_k=None, greedy=False, seed=None):
        """Continues `prompt` by `length` characters.

        Args:
            prompt: non-empty start text.
            length: characters to add.
            temperature: > 0; below 1 sharpens, above 1 flattens the distribution.
            top_k: sample among the `top_k` most likely characters only.
            greedy: always take the most likely character.
            seed: seed of the sampler.

        Returns:
            `prompt` plus the generated characters.
        """
        if not prompt:
            raise ValueError("`prompt` must hold at least one character.")
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0. Received: {temperature}")
        if top_k is not None and not 0 < top_k <= self.vocabulary_size:
            raise ValueError(f"`top_k` must be in 1..{self.vocabulary_size}. Received: {top_k}")
        if self._step_fn is None:
            self._step_fn = backend.function(self, self._step, jit=False)
        rng = np.random.default_rng(seed)
        states = [cell.get_initial_state(1) for cell in self._recurrent_cells()]
        ids = self.encode(prompt)
        for i in ids[:-1]:
            _, states = self._step_fn(ops.convert_to_tensor([i]), states)
        token, out = int(ids[-1]), []
        for _ in range(length):
            logits, states = self._step_fn(ops.convert_to_tensor([token]), states)
            logits = ops.convert_to_numpy(logits).astype("float64")[0]
            logits[UNKNOWN] = -np.inf
            if greedy:
                token = int(np.argmax(logits))
            else:
                logits = logits / temperature
                if top_k is not None:
                    cutoff = np.sort(logits)[-top_k]
                    logits = np.where(logits < cutoff, -np.inf, logits)
                p = np.exp(logits - logits.max())
                token = int(rng.choice(len(p), p=p / p.sum()))
            out.append(token)
        return prompt + self.decode(out)


@register_model(task="tokens")
def char_lm(vocabulary=None, **overrides):
    """Character language model: embedding 64, 2 GRU layers x 256, softmax over characters.

    Default vocabulary: printable ASCII plus newline.
    """
    if vocabulary is None:
        vocabulary = "\n" + "".join(chr(c) for c in range(32, 127))
    return CharLM(vocabulary, **{"cell": "gru", "units": 256, "depth": 2, **overrides})


@register_model(task="tokens")
def bilinear_char_lm(vocabulary=None, **overrides):
    """Character model over the bilinear (second-order) cell with its full tensor: embedding
    32, one layer x 128. The best held-out model of `benchmarks/shakespeare.py` (the
    tensor cell of Mathews' thesis on characters); it beats the 384-unit GRU of `char_lm`.
    """
    settings = {"cell": "bilinear", "units": 128, "depth": 1, "embedding_dim": 32,
                "cell_options": {"tensor_format": "full"}, **overrides}
    return char_lm(vocabulary, **settings)
