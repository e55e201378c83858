"""`python -m aksdiag`: the same as the `aksdiag` console script."""

from __future__ import annotations

import sys

from aksdiag.cli import main

sys.exit(main())
