"""scikit-learn's callback API (``sklearn.callback``, new in 1.9), or a no-op.

With scikit-learn >= 1.9, ``est.set_callbacks(ProgressBar())`` and other
callbacks see each epoch as a task of ``fit``. Older versions get stand-ins
with the same interface that do nothing.
"""

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9

    class _NoCallbackContext:
        """Callback context that calls nothing."""

        def subcontext(self, **kwargs):
            return self

        def call_on_fit_task_begin(self, **kwargs):
            return self

        def call_on_fit_task_end(self, **kwargs):
            return False

    class CallbackSupportMixin:
        """Stand-in for ``sklearn.callback.CallbackSupportMixin``."""

        def _init_callback_context(self, **kwargs):
            return _NoCallbackContext()

    def with_callbacks(method):
        """Stand-in for ``sklearn.callback.with_callbacks``."""
        return method


__all__ = ["CallbackSupportMixin", "with_callbacks"]
