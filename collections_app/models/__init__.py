from collections_app.models.audit import AuditLog
from collections_app.models.cases import (
    AgingBucket,
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    CloseReason,
    ContactParty,
    ContactSource,
    ContactStatus,
    DelinquentAccount,
    LoanClass,
    Product,
    Stage,
)
from collections_app.models.chain import ChainHead
from collections_app.models.contacts import ContactPointChange
from collections_app.models.org import Branch, Role, Team, User
from collections_app.models.rules import AccountBucketSnapshot, ImportJob, Notification, RulePack

__all__ = [
    "AccountBucketSnapshot",
    "AgingBucket",
    "AuditLog",
    "Borrower",
    "BorrowerAddress",
    "BorrowerPhone",
    "Branch",
    "Case",
    "CaseEvent",
    "ChainHead",
    "CloseReason",
    "ContactParty",
    "ContactPointChange",
    "ContactSource",
    "ContactStatus",
    "DelinquentAccount",
    "ImportJob",
    "LoanClass",
    "Notification",
    "Product",
    "Role",
    "RulePack",
    "Stage",
    "Team",
    "User",
]
