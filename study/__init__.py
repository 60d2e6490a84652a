"""What to run and where: study specs, trial designs, launching Tune, the `study` CLI."""
