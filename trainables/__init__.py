"""How one trial trains: data, networks, methods, weighting, metrics and the Tune trainable."""
