"""Route handlers made by a factory (one table row per operation of the same shape, e.g. the
lifecycle steps of a measure) instead of written out one by one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def as_method(fn: F, owner: str, name: str, **annotations: Any) -> F:
    """`fn` named as the method `owner.name` it stands for (a controller orders its handlers by
    that name, and the OpenAPI document follows the order), with `annotations` in place of its
    own (the type of the request body, of the response)."""
    fn.__name__ = name
    fn.__qualname__ = f"{owner}.{name}"
    fn.__annotations__ = {**fn.__annotations__, **annotations}
    return fn
