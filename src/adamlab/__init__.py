"""adamlab: Adam and its rivals from scratch, proven against torch.optim, compared fairly."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("adamlab")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
