"""One training run as an object: what `zoo train` checks once and hands to the recipes.

`Training` names the model, its data and the caller's own settings. The command line
makes one from its arguments, checks it, and passes it whole to the recipe module of its
data (`source`): `avec` for AVEC-layout corpora, `uea` for a bundled UEA set, `shards`
for a packed corpus, the recipe table for a shipped entry. Each of them builds the model
once, sized by the data (`zoo.registry.build_for_data`), with `settings` on top.
"""

import json
from dataclasses import dataclass, field

from zoo import registry
from zoo.data.uea import BUNDLED as UEA_SETS
from zoo.recipes.table import RECIPES

#: Defaults of a run on a corpus or shards (a recipe fixes its own, a UEA set has its own).
DEFAULTS = {"epochs": 30, "learning_rate": 1e-3}

#: Sources and the recipe module that trains each.
SOURCES = {"recipe": "table", "uea": "uea", "shards": "shards", "corpus": "avec"}


@dataclass(frozen=True)
class Training:
    """What one run trains, on which data, with which settings.

    Attributes:
        model: a registered model name.
        data: the data as the caller named it: a recipe's data (`zoo.recipes.RECIPES`), a
            bundled UEA set, `"shards:PATH"`, an AVEC-layout folder or `"recola_like"`.
        settings: the caller's own model settings (`zoo train --set`), already parsed;
            never those the data fixes (`zoo.registry.data_settings`).
        epochs, learning_rate: None for the source's own (a recipe's or a UEA set's
            settings, else `DEFAULTS`).
        seed: the run's random seed.
        batch_size: the global batch, for shards.
        export: the tag of a pretrained entry to write, or None.
    """

    model: str
    data: str
    settings: dict = field(default_factory=dict)
    epochs: int = None
    learning_rate: float = None
    seed: int = 0
    batch_size: int = 8
    export: str = None

    @property
    def own(self):
        """Whether the caller chose settings of their own (settings, epochs or rate)."""
        return bool(self.settings) or self.epochs is not None or self.learning_rate is not None

    @property
    def source(self):
        """`"recipe"`, `"uea"`, `"shards"` or `"corpus"`: the recipe module that trains it
        (`SOURCES`). A classifier on a bundled UEA set with settings of the caller's own
        is a run on that set; a shipped entry's recipe keeps its fixed settings."""
        recipe = (self.model, self.data) in RECIPES
        if self.data in UEA_SETS and (
                not recipe or (self.own and registry.task(self.model) == "classes")):
            return "uea"
        if recipe:
            return "recipe"
        return "shards" if self.data.startswith("shards:") else "corpus"

    @property
    def fixed(self):
        """The model settings the data fixes: what `settings` may not name."""
        extra = ("input_mean", "input_std") if self.source == "uea" else ()
        return (*registry.data_settings(self.model), *extra)

    def with_defaults(self):
        """This run with `DEFAULTS` for an unset epoch count or learning rate."""
        return Training(**{**vars(self),
                           "epochs": DEFAULTS["epochs"] if self.epochs is None else self.epochs,
                           "learning_rate": DEFAULTS["learning_rate"]
                           if self.learning_rate is None else self.learning_rate})

    def identity(self):
        """What identifies the run, written into its folder for `--resume` to compare."""
        identity = {"name": self.model, "data": self.data, "epochs": self.epochs,
                    "lr": self.learning_rate, "seed": self.seed, "set": dict(self.settings),
                    "export_pretrained": self.export}
        if self.source == "shards":
            identity["batch_size"] = self.batch_size
        return identity

    def command(self, out):
        """The `zoo train` command line that re-creates this run into `out`."""
        line = [f"zoo train {self.model} --data {self.data}"]
        if self.epochs is not None:
            line.append(f"--epochs {self.epochs}")
        if self.learning_rate is not None:
            line.append(f"--lr {self.learning_rate}")
        line.append(f"--seed {self.seed}")
        line += [f"--set {k}={json.dumps(v)}" for k, v in self.settings.items()]
        line.append(f"--out {out}")
        if self.export:
            line.append(f"--export-pretrained {self.export}")
        return " ".join(line)
