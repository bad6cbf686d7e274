"""Public names of a package imported on first use (PEP 562).

``import skimbal`` and the command line's help then cost milliseconds, not the
seconds PyTorch takes to import; the names behave as if imported eagerly.
This module imports nothing beyond the standard library.
"""

import importlib

__all__ = ["lazy_names"]


def lazy_names(package, sources, public):
    """Module ``__getattr__`` and ``__dir__`` that import names when asked.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    sources : dict of str to str
        Each lazy name -> the relative module that defines it (``"._report"``).
    public : list of str
        The package's ``__all__``, listed by ``dir()`` before it is imported.

    Returns
    -------
    getattr_, dir_ : callable
        To assign to the package's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> import sys
    >>> from skimbal._lazy import lazy_names
    >>> getattr_, dir_ = lazy_names("skimbal", {"save_model": "._persistence"},
    ...                             ["save_model"])
    >>> getattr_("save_model").__module__
    'skimbal._persistence'
    >>> getattr_("no_such_name")
    Traceback (most recent call last):
    ...
    AttributeError: module 'skimbal' has no attribute 'no_such_name'
    """
    namespace = vars(importlib.import_module(package))

    def getattr_(name):
        """Import ``name`` from its module on first use (PEP 562).

        Parameters
        ----------
        name : str
            The attribute looked up on the package.

        Returns
        -------
        value : object
            The public object ``name`` stands for.
        """
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sources[name], package), name)
        namespace[name] = value  # later look-ups skip getattr_
        return value

    def dir_():
        """The package's names, imported or not.

        Returns
        -------
        names : list of str
            Sorted; what ``dir(package)`` shows.
        """
        return sorted(set(namespace) | set(public))

    return getattr_, dir_
