"""The leaf layer: events, cancellation and ids, imported by every other layer and importing none."""
