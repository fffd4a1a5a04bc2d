from collections_app.models.audit import AuditLog
from collections_app.models.cases import (
    AgingBucket,
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    CloseReason,
    DelinquentAccount,
    LoanClass,
    Product,
    Stage,
)
from collections_app.models.org import Branch, Role, Team, User

__all__ = [
    "AgingBucket",
    "AuditLog",
    "Borrower",
    "BorrowerAddress",
    "BorrowerPhone",
    "Branch",
    "Case",
    "CaseEvent",
    "CloseReason",
    "DelinquentAccount",
    "LoanClass",
    "Product",
    "Role",
    "Stage",
    "Team",
    "User",
]
