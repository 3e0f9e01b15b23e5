"""Sphinx configuration of the sklearn_lstm documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
Links to the Python, NumPy, scikit-learn and joblib docs need their inventories
from the network, so they are only fetched when the environment variable
``SKLEARN_LSTM_DOCS_INTERSPHINX=1`` is set; offline builds (CI) skip them.
"""

import os
import re

import sklearn_lstm

# -- Project information ------------------------------------------------------

project = "sklearn_lstm"
author = "sklearn_lstm developers"
copyright = f"2026, {author}"
version = sklearn_lstm.__version__
release = sklearn_lstm.__version__

# -- General configuration ----------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.extlinks",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "literal"

# autosummary writes one page per public object under generated/, from the
# templates in _templates/autosummary (methods in full, then the examples).
autosummary_generate = True

# numpydoc renders the docstrings; the class template documents the methods,
# so numpydoc does not list them a second time.
numpydoc_show_class_members = False
numpydoc_validation_checks = set()

# :arxiv:`Kingma & Ba (2014) <1412.6980>` in docstrings.
extlinks = {"arxiv": ("https://arxiv.org/abs/%s", "arXiv:%s")}

# Cross-references to other projects' docs, only when the network is there.
if os.environ.get("SKLEARN_LSTM_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
    }
else:
    intersphinx_mapping = {}

# -- Example gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "matplotlib_animations": False,
    # Links code in the examples to the API pages. Recent sphinx-gallery
    # versions do that by themselves and only log that the option is ignored.
    "reference_url": {"sklearn_lstm": None},
    "doc_module": ("sklearn_lstm",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "download_all_examples": False,
}

# -- HTML output --------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_lstm {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


# -- Offline builds ------------------------------------------------------------

# The methods the estimators inherit from scikit-learn (score, set_output,
# set_fit_request, ...) have docstrings with :ref: and :term: links into
# scikit-learn's own docs. Without intersphinx they cannot resolve and would
# fail the -W build, so offline they are turned into plain text.
_SKLEARN_LINK = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`>]*>)?`")


def _unlink_sklearn_docstrings(app, what, name, obj, options, lines):
    """Replace the :ref: and :term: roles of scikit-learn docstrings by their text."""
    if intersphinx_mapping:
        return
    if not str(getattr(obj, "__module__", "")).startswith("sklearn."):
        return
    lines[:] = [_SKLEARN_LINK.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_sklearn_docstrings)
