"""The IPython layer: the magics, their subcommands, the reference docs and {name} interpolation."""
