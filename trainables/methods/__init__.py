"""The methods, by name. Each is one file of plain PyTorch (no Ray)."""

from __future__ import annotations

from .aae import AdversarialAutoencoder
from .ame_ae import AMEAutoencoder
from .base import Encoding, Method, WeightSpec
from .beta_vae import BetaVAE
from .factor_vae import FactorVAE
from .imae import IMAE
from .info_vae import InfoVAE
from .joint_vae import JointVAE
from .infoae import InfoAE
from .rf_vae import RelevanceFactorVAE

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (BetaVAE, FactorVAE, RelevanceFactorVAE, JointVAE, InfoVAE, IMAE, InfoAE, AdversarialAutoencoder, AMEAutoencoder)
}


def get_method(name: str) -> type[Method]:
    try:
        return METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; methods are {', '.join(METHODS)}") from None


__all__ = ["METHODS", "Encoding", "Method", "WeightSpec", "get_method"]
