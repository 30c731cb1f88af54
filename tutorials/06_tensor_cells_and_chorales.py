"""Tutorial 06: tensor recurrent cells, their rank, and a Bach chorale written to MIDI.

The thesis seed (`004_*`) lets the input choose the recurrent matrix: a bilinear cell adds
`T(x, h)_k = sum_ij x_i h_j W[i, j, k]` to its transition. The 3-way tensor `W` is large,
so it is stored decomposed, and its rank is a knob that also regularises.

1. Build the bilinear cell with its tensor full, as CP of several ranks and as a tensor
   train; count parameters against the full tensor. A GRU whose own matrices are tensor
   trains (`kernel_format="tt"`) shrinks the same way.
2. See that the CP cell is the full cell with the tensor built from its factors.
3. Train your own chorale model (bilinear cell, CP rank 4) on the bundled Bach chorales and
   score it in nats per time step against the independent-notes baseline and the shipped
   `music_rnn.bach_chorales`.
4. Let the shipped model continue a held-out chorale; write the result as MIDI and
   MusicXML (music21) and plot the piano roll next to the real continuation.

    python tutorials/06_tensor_cells_and_chorales.py [--fast] [--out tutorial_out/06]

Writes `OUT/chorale.mid`, `OUT/chorale.musicxml`, `OUT/piano_roll.png` and
`OUT/scores.json`. The full run trains up to 150 epochs, stopping early (about 2 minutes on 2 CPU cores);
`--fast` trains 2 epochs on 24 chorales.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.data.scores import write_roll  # noqa: E402
from zoo.files import write_text  # noqa: E402
from zoo.layers.tensor_product import tensor_summary  # noqa: E402
from zoo.models.music import independent_notes_nll, nll_per_timestep, sample_rolls  # noqa: E402
from zoo.plots import FAST_NOTICE, plot_piano_roll  # noqa: E402
from zoo.recipes.music import chorale_data, fit_music  # noqa: E402

FULL = dict(chorales=None, epochs=150, units=32, frames=32)
FAST = dict(chorales=24, epochs=2, units=8, frames=16)


def tensor_parameters(model):
    rows = tensor_summary(model)
    return sum(r["parameters"] for r in rows), sum(r["full_tensor_parameters"] for r in rows)


def run(out, fast=False, seed=0):
    settings = FAST if fast else FULL
    if fast:
        print(FAST_NOTICE)
    out = Path(out)
    keras.utils.set_random_seed(seed)

    # 1. Rank and parameter count: 12 inputs, 32 units.
    x = np.random.default_rng(seed).normal(size=(4, 20, 12)).astype("float32")
    print("bilinear cell, 12 inputs x 32 units: tensor parameters (full tensor 12 x 32 x 32)")
    for options in ({"tensor_format": "full"}, {"tensor_format": "cp", "rank": 2},
                    {"tensor_format": "cp", "rank": 8}, {"tensor_format": "tt", "rank": (4, 4)}):
        model = keras.Sequential([keras.Input((20, 12)), zoo.layers.Bilinear(32, **options)])
        stored, full = tensor_parameters(model)
        print(f"  {str(options):45s} {stored:6d} of {full}")
    dense = zoo.get("gru_classifier", input_dim=256, classes=5, units=64)
    tt = zoo.get("gru_classifier", input_dim=256, classes=5, units=64,
                 cell_options={"kernel_format": "tt", "tt_rank": 4})
    print(f"GRU on 256 inputs: {dense.count_params()} parameters dense, {tt.count_params()} "
          f"with its input matrix as a rank-4 tensor train")

    # 2. CP is the full tensor, factored.
    cp = zoo.layers.Bilinear(32, tensor_format="cp", rank=8, return_sequences=True)
    full = zoo.layers.Bilinear(32, tensor_format="full", return_sequences=True)
    cp(x), full(x)
    for source, target in zip(cp.weights, full.weights):
        if "tensor_product" not in source.path:
            target.assign(source)
    full.cell.tensor_product.tensor.assign(cp.cell.tensor_product.full_tensor())
    gap = float(np.abs(np.asarray(cp(x)) - np.asarray(full(x))).max())
    print(f"CP rank-8 cell against the full cell holding the tensor built from its factors: "
          f"largest difference {gap:.1e}")

    # 3. Your own chorale model.
    data, chorales = chorale_data()
    if settings["chorales"]:
        n = settings["chorales"]
        data["train"] = tuple(a[:n] for a in data["train"])
    model = zoo.get("music_rnn", cell="bilinear", units=settings["units"],
                    cell_options={"tensor_format": "cp", "rank": 4})
    fit_music(model, data, epochs=settings["epochs"], seed=seed)
    own = nll_per_timestep(model, *data["test"])
    baseline = independent_notes_nll(chorales["train"].rolls, chorales["test"].rolls)
    shipped_model = zoo.get("music_rnn", weights="bach_chorales")
    shipped = nll_per_timestep(shipped_model, *data["test"])
    print(f"test NLL per time step (nats): yours {own:.3f}, independent notes {baseline:.3f}, "
          f"music_rnn.bach_chorales {shipped:.3f}")

    # 4. The shipped model continues a held-out chorale.
    real = chorales["test"].rolls[0]
    given = 4
    roll = sample_rolls(shipped_model, settings["frames"], real[:given], temperature=1.0,
                        seed=seed)
    midi = write_roll(roll, out / "chorale.mid", overwrite=True)
    xml = write_roll(roll, out / "chorale.musicxml", overwrite=True)
    plot_piano_roll(roll, out / "piano_roll.png", primed=given,
                    title=f"{chorales['test'].names[0]}: {given} given beats, then the model")
    plot_piano_roll(real[:given + settings["frames"]], out / "real.png", primed=given,
                    title=f"{chorales['test'].names[0]} as Bach wrote it")
    keys = float(roll[given:].sum(-1).mean())
    print(f"the model sounds {keys:.1f} keys a beat (Bach: "
          f"{float(real.sum(-1).mean()):.1f}); wrote {midi}, {xml}, {out / 'piano_roll.png'}")
    scores = {"own_nll": own, "independent_notes_nll": baseline, "shipped_nll": shipped,
              "cp_full_gap": gap, "keys_per_beat": keys}
    write_text(out / "scores.json", json.dumps(scores, indent=2))
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="2 epochs on 24 chorales")
    parser.add_argument("--out", default="tutorial_out/06",
                        help="output folder (default: tutorial_out/06)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    run(args.out, args.fast, args.seed)


if __name__ == "__main__":
    main()
