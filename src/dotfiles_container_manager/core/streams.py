"""Output as it happens: :class:`LogStream`, and the ``progress=`` callback type.

Runtime-agnostic: a :class:`LogStream` wraps any source of ``(stream, text)`` pairs (a CLI
process's labelled lines, or an in-memory list) and the function that ends that source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .types import LogLine, ProgressEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["LogStream", "ProgressCallback"]

#: ``progress=`` of ``images.build``/``pull``/``push``: called with each line's event, on the
#: calling thread, as the line arrives. An exception it raises aborts the call.
ProgressCallback = Callable[[ProgressEvent], object]


class LogStream:
    """A container's output as it is written: an iterator of :class:`LogLine` and a context
    manager.

    ``with engine.containers.stream_logs(cid) as logs: for line in logs: ...``

    It ends by itself when the output does (with ``follow=True``: when the container stops).
    ``close()``, leaving the ``with`` block, breaking out of the loop and closing (or
    dropping) the stream, an exception while iterating (``CommandTimeoutError``, Ctrl-C)
    all end the process that reads the logs; after that the stream yields nothing more.
    A failure of that process (a missing container: :class:`ContainerNotFoundError`) is
    raised by the iteration that reaches it.

    Args:
        source: ``(stream, text)`` pairs, ``stream`` being ``"stdout"`` or ``"stderr"``.
        close: Ends the source early (idempotent); by default the source's own ``close``.
    """

    __slots__ = ("_close", "_iterator")

    def __init__(
        self,
        source: Iterable[tuple[str, str]],
        close: Callable[[], object] | None = None,
    ) -> None:
        self._iterator: Iterator[tuple[str, str]] | None = iter(source)
        if close is None:
            close = getattr(source, "close", None)
        self._close = close

    @property
    def closed(self) -> bool:
        """True once the stream ended (by itself, by an error, or closed)."""
        return self._iterator is None

    def __iter__(self) -> LogStream:
        return self

    def __next__(self) -> LogLine:
        iterator = self._iterator
        if iterator is None:
            raise StopIteration
        try:
            stream, text = next(iterator)
        except BaseException:  # the end, a failure, a timeout, Ctrl-C: nothing more comes
            self.close()
            raise
        return LogLine(text, stream)

    def close(self) -> None:
        """End the stream now (the process reading the logs is killed and reaped).
        Idempotent."""
        self._iterator = None
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # No `suppress` here: at interpreter exit the module's globals may be gone already.
        try:  # noqa: SIM105
            self.close()
        except Exception:  # noqa: S110
            pass
