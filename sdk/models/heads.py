"""Detection heads: how class logits become scores, and which loss trains them.

One entry decides the three things that must agree between training and export: the
activation of the export graph, whether the logits carry a background column (column 0,
which the scores drop) and the classification loss. A :class:`~sdk.models.config.DetectorConfig`
names its head; an unknown name fails when the config is built, not after training.

Importing this module is light; Keras loads only when :meth:`Head.scores` builds layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import keras


@dataclass(frozen=True)
class Head:
    """One detection head.

    Attributes:
        name: registry key, stored as ``head`` in ``config.json``.
        activation: ``"softmax"`` (over background + classes) or ``"sigmoid"`` (per class).
        background: the logits hold a background column 0 that the scores drop.
        loss: classification loss, a key of ``sdk.train.losses.CLASSIFICATION_LOSSES``.
        description: one line for messages and docs.
    """

    name: str
    activation: Literal["softmax", "sigmoid"]
    background: bool
    loss: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.background and self.activation != "softmax":
            raise ValueError(f"head {self.name!r}: a background column needs softmax, "
                             f"not {self.activation}")

    def logits_per_anchor(self, num_classes: int) -> int:
        """Width of the class-logit output for ``num_classes`` labels."""
        return num_classes + int(self.background)

    def scores(self, logits: keras.KerasTensor) -> keras.KerasTensor:
        """Keras layers from class logits [B, N, logits_per_anchor] to the canonical ``scores``
        [B, N, C]: activated, background column dropped."""
        from keras import layers

        if not self.background:
            return layers.Activation(self.activation, name="scores")(logits)
        probs = layers.Softmax(axis=-1, name="softmax")(logits)
        return layers.Lambda(lambda p: p[..., 1:], name="scores")(probs)


HEADS: dict[str, Head] = {
    "softmax": Head("softmax", activation="softmax", background=True, loss="softmax_ohem",
                    description="SSD: softmax over background + classes, 3:1 hard negative "
                                "mining"),
    "focal": Head("focal", activation="sigmoid", background=False, loss="focal",
                  description="RetinaNet: one sigmoid per class, focal loss"),
}

# ``loss`` values of configs written before this registry, and the heads they trained.
LEGACY_LOSSES: dict[str, str] = {"softmax_ohem": "softmax", "focal": "focal"}


class UnknownHeadError(ValueError):
    """The requested head is not in :data:`HEADS`."""


def get_head(name: str) -> Head:
    """The registry entry ``name``; raises :class:`UnknownHeadError` listing the valid ones."""
    if name not in HEADS:
        raise UnknownHeadError(
            f"unknown detection head {name!r}; choose one of {sorted(HEADS)}")
    return HEADS[name]
