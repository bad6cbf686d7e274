"""Turn a classifier's ``criterion`` parameter into a loss class."""

import difflib

from . import CRITERIA

__all__ = ["resolve_criterion"]


def resolve_criterion(criterion):
    """Return the loss class that ``criterion`` names or is.

    Parameters
    ----------
    criterion : str, nn.Module subclass or nn.Module instance
        A name from :data:`~skimbal.losses.CRITERIA`, or a loss class or
        instance (an instance as its class).

    Returns
    -------
    criterion_class : type
        The loss class.

    Raises
    ------
    ValueError
        For an unknown name, suggesting the closest known one.

    Examples
    --------
    >>> from skimbal.losses._resolve import resolve_criterion
    >>> resolve_criterion("focal")
    <class 'skimbal.losses._focal.FocalLoss'>
    >>> resolve_criterion("focall")
    Traceback (most recent call last):
    ...
    ValueError: Unknown criterion='focall'. Did you mean 'focal'? Use one of ...
    """
    if not isinstance(criterion, str):
        return criterion if isinstance(criterion, type) else type(criterion)
    try:
        return CRITERIA[criterion]
    except KeyError:
        close = difflib.get_close_matches(criterion, CRITERIA, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown criterion={criterion!r}.{hint} Use one of "
            f"{sorted(CRITERIA)} or a torch.nn.Module class."
        ) from None
