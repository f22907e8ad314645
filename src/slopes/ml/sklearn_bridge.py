"""Where slopes' estimators meet scikit-learn, without making scikit-learn a requirement.

scikit-learn asks an estimator for its tags (``__sklearn_tags__``), catches its own
``NotFittedError`` and filters its own warning classes. This module answers those questions
lazily: tags are built only when scikit-learn calls for them (so it is imported then), and
errors and warnings are raised as classes that are *both* slopes' and scikit-learn's when
scikit-learn has been imported by the program, and slopes' alone otherwise. ``import
slopes`` never imports scikit-learn.

Examples
--------
>>> from slopes.ml.sklearn_bridge import bridged
>>> from slopes.ml.estimator import NotFittedError
>>> import sklearn.exceptions
>>> cls = bridged(NotFittedError, "NotFittedError")
>>> issubclass(cls, NotFittedError), issubclass(cls, sklearn.exceptions.NotFittedError)
(True, True)
"""

from __future__ import annotations

import functools
import sys

__all__ = ["bridged", "base_tags", "with_role", "transformer_tags", "global_transform_output", "html_repr"]


def bridged(ours: type, name: str) -> type:
    """``ours``, or a subclass of it and of ``sklearn.exceptions.<name>`` once scikit-learn is loaded.

    Raising the result lets both ``except slopes...`` and ``except sklearn...`` catch it
    (scikit-learn's tools catch their own classes); without scikit-learn loaded nobody can
    be catching its class, so ``ours`` is returned unchanged.

    Parameters
    ----------
    ours : type
        slopes' exception or warning class.
    name : str
        The class of the same role in ``sklearn.exceptions``.

    Examples
    --------
    >>> from slopes.ml.estimator import ConvergenceWarning
    >>> import sklearn.exceptions
    >>> issubclass(bridged(ConvergenceWarning, "ConvergenceWarning"), sklearn.exceptions.ConvergenceWarning)
    True
    """
    module = sys.modules.get("sklearn.exceptions")
    if module is None:
        return ours
    return _combined(ours, getattr(module, name))


@functools.cache
def _combined(ours: type, theirs: type) -> type:
    # one class per pair (cached), named and documented as slopes' own; it pickles as slopes'
    # class (a joblib worker's error reaches the parent), which the module can name
    return type(
        ours.__name__,
        (ours, theirs),
        {"__module__": ours.__module__, "__doc__": ours.__doc__, "__reduce__": lambda e: (ours, e.args)},
    )


def base_tags():
    """scikit-learn's ``Tags`` of a plain estimator: no role yet, no target required.

    Examples
    --------
    >>> base_tags().estimator_type is None
    True
    """
    from sklearn.utils import Tags, TargetTags

    return Tags(
        estimator_type=None,
        target_tags=TargetTags(required=False),
        transformer_tags=None,
        regressor_tags=None,
        classifier_tags=None,
    )


def with_role(tags, role: str):
    """``tags`` marked as a ``"classifier"`` or ``"regressor"`` that requires ``y`` (as scikit-learn's mixins do).

    Examples
    --------
    >>> with_role(base_tags(), "classifier").estimator_type
    'classifier'
    """
    from sklearn.utils import ClassifierTags, RegressorTags

    tags.estimator_type = role
    if role == "classifier":
        tags.classifier_tags = ClassifierTags()
    else:
        tags.regressor_tags = RegressorTags()
    tags.target_tags.required = True
    return tags


def transformer_tags(tags):
    """``tags`` of a transformer that returns float32 for float32 input and float64 for float64.

    Examples
    --------
    >>> transformer_tags(base_tags()).transformer_tags.preserves_dtype
    ['float64', 'float32']
    """
    from sklearn.utils import TransformerTags

    tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
    return tags


def global_transform_output() -> str:
    """scikit-learn's ``set_config(transform_output=...)`` if scikit-learn is loaded, else ``"default"``.

    Examples
    --------
    >>> import sklearn
    >>> with sklearn.config_context(transform_output="default"):
    ...     global_transform_output()
    'default'
    """
    sklearn = sys.modules.get("sklearn")
    if sklearn is None:  # never imported: no global setting can exist
        return "default"
    return sklearn.get_config().get("transform_output", "default")


def html_repr(estimator, plain) -> str:
    """scikit-learn's HTML diagram of ``estimator`` where scikit-learn is installed, else ``plain()``.

    ``plain()`` is used too when scikit-learn's ``display`` option is ``"text"``.

    Examples
    --------
    >>> from slopes.ml import LinearRegression
    >>> "sk-" in html_repr(LinearRegression(), lambda: "plain")
    True
    """
    try:
        import sklearn
        from sklearn.utils import estimator_html_repr
    except ImportError:
        return plain()
    if sklearn.get_config().get("display") == "text":
        return plain()
    return estimator_html_repr(estimator)
