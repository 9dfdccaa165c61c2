"""What each role may do in governance (admins may do everything; areas decide where).

Directors convene meetings and run the work list; grid workers, desk staff and mediators bring
problems to it and read it. A partner organisation's liaison (who sees only the items their
organisation owns or co-owns) signs for an item, reports progress and completion. Verification
is by staff, and never by the owner (the domain refuses the owner's own people). Directors keep
the paper ledgers of meetings and the work list (who met, what was decided, when an item was
signed for, completed and closed) and bring them in, so they may back-date (``backdate``,
audited): a step is then on time or late by the day the ledger gives.
"""

from __future__ import annotations

from anju_contracts.governance import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

CONVENE = (Role.DIRECTOR,)
STAFF = (Role.DIRECTOR, Role.GRID_WORKER, Role.DESK_STAFF, Role.MEDIATOR)
OWNER = (Role.LIAISON, Role.DIRECTOR, Role.GRID_WORKER)

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "schedule_meeting": (CONVENE, "schedule a meeting, or record one held"),
        "record_meeting": (CONVENE, "record a meeting held, its minutes and decisions"),
        "confirm_minutes": (CONVENE, "confirm a meeting's minutes (its convener)"),
        "correct_minutes": (CONVENE, "correct confirmed minutes (a new fact, with a reason)"),
        "read_meeting": (STAFF, "read a meeting, its minutes and decisions"),
        "open_work_item": (CONVENE, "put a decision on the work list"),
        "assign_work_item": (CONVENE, "give a work item its owner and co-organisations"),
        "receive_work_item": (OWNER, "sign for a work item (签收) for its owner"),
        "report_progress": (OWNER, "report progress or completion of a work item"),
        "verify_work_item": (STAFF, "verify a work item (验收), or send it back"),
        "close_work_item": (CONVENE, "close a verified work item (销号)"),
        "reopen_work_item": (CONVENE, "reopen a closed work item within the window"),
        "extend_deadline": (CONVENE, "extend a work item's deadline (its convener)"),
        "read_work_item": ((*STAFF, Role.LIAISON), "read a work item and its history"),
        "backdate": (
            CONVENE,
            "record a meeting, decision or work-item step dated in the past (from the paper "
            "ledger; judged on time or late by that date); audited",
        ),
    },
)
