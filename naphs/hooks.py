"""Hooks: the one way an app lets the apps above it take part in what it does, without importing them.

An app declares its hooks in its own `hooks` module (planning.hooks) and calls them where the thing happens;
an app above it connects its functions from its AppConfig.ready. A hook knows its receivers, in the order
they were connected, and calls each with the same arguments: `send` gives every receiver's answer, `pipe`
hands a value from one receiver to the next (a queryset each annotates, say). With no app connected a hook does
nothing, so an app works without the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable


class Hook[**P, R]:
    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Callable[P, R]] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self.receivers)} receivers>"

    def connect(self, receiver: Callable[P, R]) -> Callable[P, R]:
        """Add a receiver (once, however often it is connected); usable as a decorator."""
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def send(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        return [receiver(*args, **kwargs) for receiver in self.receivers]


def pipe[T](hook: Hook[[T], T], value: T) -> T:
    """`value` passed through every receiver of `hook` in turn."""
    for receiver in hook.receivers:
        value = receiver(value)
    return value
