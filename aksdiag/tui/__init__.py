"""The Textual front end: a third renderer over the same runner (`aksdiag tui`, `aksdiag demo`).

Only `aksdiag tui` and `aksdiag demo` on a terminal import this package: Textual stays out of `aksdiag --help`.
`session.py` holds what runs (no Textual); `app.py` the App; `widgets/` and `screens/` one file each.
"""
