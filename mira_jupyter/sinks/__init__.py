"""Event sinks beyond the log: subscribers of the engine's bus that send events elsewhere."""
