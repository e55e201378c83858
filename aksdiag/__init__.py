"""aksdiag: diagnose private AKS networking. Importing the package costs nothing."""

__version__ = "0.1.0"
