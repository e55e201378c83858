"""Moved to aksdiag.sources.kubeconfig; this re-export goes when aksdiag/cli and aksdiag/commands import that."""
from aksdiag.sources.kubeconfig import *  # noqa: F403
