"""What every recipe's card shares."""


def settings_of(model):
    """A model's constructor settings as a card stores them (no name, no trainable flag)."""
    return {k: v for k, v in model.get_config().items() if k not in ("name", "trainable")}
