"""What each role may do in mediation (admins may do everything; areas decide where).

A sensitive dispute is further limited by the one access policy: only its mediators and the
directors whose areas cover it see it at all.

Mediators, the community police at the mediation point, petition agents and directors keep the
paper ledgers of disputes and petitions, so they may back-date (``backdate``, audited); grid
workers and desk staff record what happens as it happens.
"""

from __future__ import annotations

from anju_contracts.mediation import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

DIRECTOR = Role.DIRECTOR
GRID = Role.GRID_WORKER
DESK = Role.DESK_STAFF
MEDIATOR = Role.MEDIATOR
POLICE = Role.POLICE
AGENT = Role.PETITION_AGENT

PATROL = (DIRECTOR, GRID, DESK, MEDIATOR, POLICE)
"""Who reports and reads signals and disputes: the staff who meet residents' conflicts."""
CASEWORK = (DIRECTOR, GRID, MEDIATOR, POLICE)
"""Who works a dispute: sessions, agreements, referrals, follow-ups."""
DECIDERS = (DIRECTOR, GRID, MEDIATOR)
"""Who moves a dispute's outcome (resolve, close, reopen, escalate) and assigns its mediators:
the director, mediators, and grid workers, who mediate at building and grid tier."""
SERVICE = Role.SERVICE
"""Another Anju service acting on its own (the integration service opening what a 12345 work
order becomes), within the areas its token names."""
PETITIONS = (DIRECTOR, AGENT)
LEDGERS = (DIRECTOR, MEDIATOR, POLICE, AGENT)
"""Who brings in what the paper ledgers of disputes and petitions hold."""

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "report_signal": ((*PATROL, SERVICE), "report a conflict signal found on patrol"),
        "read_signal": (PATROL, "read a conflict signal"),
        "dismiss_signal": (CASEWORK, "dismiss a signal that needs no mediation"),
        "convert_signal": (CASEWORK, "turn a signal into a dispute"),
        "register_dispute": ((*PATROL, SERVICE), "register a dispute"),
        "read_dispute": (PATROL, "read a dispute"),
        "escalate_dispute": (DECIDERS, "escalate a dispute to a higher tier"),
        "assign_mediator": (DECIDERS, "assign a mediator to a dispute"),
        "reassign_mediator": (DECIDERS, "hand a dispute to another mediator"),
        "unassign_mediator": (DECIDERS, "take a mediator off a dispute"),
        "schedule_session": (CASEWORK, "schedule a mediation session"),
        "hold_session": (CASEWORK, "record a mediation session held"),
        "reach_agreement": (CASEWORK, "record the parties' agreement"),
        "fail_mediation": (CASEWORK, "record that mediation failed"),
        "refer_dispute": (CASEWORK, "refer a dispute to an outside body"),
        "answer_referral": (CASEWORK, "record an outside body's answer"),
        "follow_up_agreement": (CASEWORK, "record whether an agreement is carried out"),
        "record_return_visit": (CASEWORK, "record a return visit to the parties"),
        "resolve_dispute": (DECIDERS, "resolve a dispute"),
        "close_dispute": (DECIDERS, "close a resolved dispute"),
        "reopen_dispute": (DECIDERS, "reopen a closed dispute within the window"),
        "proxy_petition": (PETITIONS, "take a resident's petition by proxy"),
        "read_petition": ((DIRECTOR, GRID, AGENT), "read a petition"),
        "forward_petition": (PETITIONS, "forward a petition to its department"),
        "accept_petition": (PETITIONS, "record the department's acceptance"),
        "answer_petition": (PETITIONS, "record the department's answer"),
        "close_petition": (PETITIONS, "close a petition"),
        "backdate": (
            LEDGERS,
            "record a signal, dispute fact or petition step dated in the past (from the paper "
            "ledger of disputes or petitions); audited",
        ),
    },
)
