from django.utils.translation import gettext_lazy as _


class DoorstepError(Exception):
    """A refusal a user should read: the message says what and why, nothing changed."""

    default_message = _("The action was refused.")

    def __init__(self, message=None, *, code: str = ""):
        self.message = message or self.default_message
        self.code = code or self.__class__.__name__
        super().__init__(str(self.message))


class TransitionNotAllowed(DoorstepError):
    default_message = _("This stage change is not allowed.")


class StaleObject(DoorstepError):
    default_message = _("Someone else changed this case meanwhile; reload the page and try again.")


class NotPermitted(DoorstepError):
    default_message = _("You may not do this.")


class RuleRefused(DoorstepError):
    """A compliance rule of the active rule pack refused the action."""

    def __init__(self, message, *, rule: str):
        self.rule = rule
        super().__init__(message, code=rule)


class CaseRuleError(TransitionNotAllowed):
    """A write on a case refused by a rule of the workflow, named by ``rule`` (the API's ``code``).

    ``conflict``: the refusal comes from the case's state having changed under the writer (closed
    meanwhile, moved to another stage, reassigned): the API answers 409 rather than 400.
    """

    def __init__(self, message=None, *, rule: str, conflict: bool = False):
        self.rule = rule
        self.conflict = conflict
        super().__init__(message, code=rule)
