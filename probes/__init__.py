"""One module per probe; each declares `PROBE = Probe(...)` with pure `plan` and `judge` functions."""
