"""How other apps plug into the case pages without the case core importing them.

The core owns the case page, the case list and the timeline; an app registers, at start-up
(``AppConfig.ready``), the panels it adds to the case page, what it adds to each case-list row, how
its timeline events read and the choice sets that label its event payloads. Registration order does
not matter: panels are shown by their ``order``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, TextChoices


@dataclass(frozen=True)
class CasePanel:
    """A block of the case page: ``template`` is included with the page context, extended by what
    ``context(user=, case=, can_act=)`` returns. ``select_related`` / ``prefetch_related`` name what
    the panel reads of the case, so the page loads it with the case (a ``Prefetch`` sets how a related
    list is read; other panels may then read the same list from the case instead of querying it again).
    ``annotations(user=)`` returns expressions the case query adds for the panel (a value or a row's
    fields read by subquery), so a single value costs the page no query of its own."""

    name: str
    template: str
    order: int
    context: Callable[..., dict] | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str | Prefetch, ...] = ()
    annotations: Callable[..., dict] | None = None


@dataclass(frozen=True)
class HomePanel:
    """A block at the top of the home page: ``template`` with what ``context(user=, request=)`` returns
    (``request`` for what the user's session holds, e.g. the start of today's route)."""

    name: str
    template: str
    order: int
    context: Callable[..., dict] | None = None


@dataclass
class _Registry:
    panels: dict[str, CasePanel] = field(default_factory=dict)
    home_panels: dict[str, HomePanel] = field(default_factory=dict)
    row_decorators: dict[str, Callable[[list], None]] = field(default_factory=dict)
    describers: dict[str, Callable] = field(default_factory=dict)
    payload_choices: dict[str, type[TextChoices]] = field(default_factory=dict)


_registry = _Registry()


def register_case_panel(panel: CasePanel) -> None:
    _registry.panels[panel.name] = panel


def register_home_panel(panel: HomePanel) -> None:
    _registry.home_panels[panel.name] = panel


def home_panels() -> list[HomePanel]:
    return sorted(_registry.home_panels.values(), key=lambda panel: (panel.order, panel.name))


def home_panel_context(*, user, request=None) -> dict:
    context: dict = {}
    for panel in home_panels():
        if panel.context is not None:
            context.update(panel.context(user=user, request=request))
    return context


def register_case_rows(name: str, decorate: Callable[[list], None]) -> None:
    """``decorate(cases)`` sets attributes on a page of case-list rows (one query for the page)."""
    _registry.row_decorators[name] = decorate


def register_event_describer(kind: str, describe: Callable) -> None:
    """``describe(payload) -> str``: one readable line for a timeline event of that kind."""
    _registry.describers[kind] = describe


def register_payload_choices(key: str, choices: type[TextChoices]) -> None:
    """Label the value under ``key`` of an event's payload with these choices (e.g. a visit outcome)."""
    _registry.payload_choices[key] = choices


def case_panels() -> list[CasePanel]:
    return sorted(_registry.panels.values(), key=lambda panel: (panel.order, panel.name))


def case_page_relations() -> tuple[list[str], list[str | Prefetch]]:
    """What the registered panels read of the case: (select_related, prefetch_related)."""
    panels = case_panels()
    return (
        [name for panel in panels for name in panel.select_related],
        [name for panel in panels for name in panel.prefetch_related],
    )


def case_page_annotations(*, user) -> dict:
    """What the registered panels add to the case query for this user (``CasePanel.annotations``)."""
    annotations: dict = {}
    for panel in case_panels():
        if panel.annotations is not None:
            annotations.update(panel.annotations(user=user))
    return annotations


def panel_context(*, user, case, can_act: bool) -> dict:
    context: dict = {}
    for panel in case_panels():
        if panel.context is not None:
            context.update(panel.context(user=user, case=case, can_act=can_act))
    return context


def decorate_case_rows(cases: Iterable) -> None:
    cases = list(cases)
    for decorate in _registry.row_decorators.values():
        decorate(cases)


def event_describer(kind: str) -> Callable | None:
    return _registry.describers.get(kind)


def payload_label(key: str, value) -> str:
    """The label of ``value`` under payload ``key``, or the value itself when no app labels it."""
    choices = _registry.payload_choices.get(key)
    if choices is None:
        return str(value or "")
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")
