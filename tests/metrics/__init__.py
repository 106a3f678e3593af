"""The metrics pipeline: the generated agent config, checked by structure, by promtool and by running it."""
