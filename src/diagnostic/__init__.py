"""diagnostic: the diagnostic territorial of a CPTS from French open data.

`diagnostic.load(territoire)` is the notebook entry point (see api.py)."""

__all__ = ["Diagnostic", "load"]


def __getattr__(name):  # keep `import diagnostic` light for the command line
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
