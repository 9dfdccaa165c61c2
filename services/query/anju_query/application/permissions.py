"""What each role may read in the query service (admins may read everything; the areas in a
token, and a record's sensitivity, decide which records — ``eventkit.access``)."""

from __future__ import annotations

from eventkit.access import Permissions
from eventkit.auth import Role

DIRECTOR = Role.DIRECTOR
GRID = Role.GRID_WORKER
DESK = Role.DESK_STAFF
MEDIATOR = Role.MEDIATOR
POLICE = Role.POLICE
AGENT = Role.PETITION_AGENT
DOCTOR = Role.DOCTOR
COORDINATOR = Role.VOLUNTEER_COORDINATOR
LIAISON = Role.LIAISON

READ_RESIDENTS = "read_residents"
READ_FULL_ID_NUMBER = "read_full_id_number"
READ_FOLLOW_UPS = "read_follow_ups"
READ_AREAS = "read_areas"
READ_AREA_SUMMARY = "read_area_summary"
READ_DISPUTES = "read_disputes"
READ_SIGNALS = "read_signals"
READ_PETITIONS = "read_petitions"
READ_HEALTH_VISITS = "read_health_visits"
READ_HEALTH_PROGRAMMES = "read_health_programmes"
READ_HEALTH_COVERAGE = "read_health_coverage"
READ_HEALTH_ACTIVITIES = "read_health_activities"
READ_SERVICE_REQUESTS = "read_service_requests"
READ_SERVICE_STATISTICS = "read_service_statistics"
READ_VOLUNTEER_HOURS = "read_volunteer_hours"
READ_VOLUNTEERS = "read_volunteers"
READ_HOST_UNIT_SUMMARY = "read_host_unit_summary"
READ_ORGANISATIONS = "read_organisations"
READ_LIAISON_PHONES = "read_liaison_phones"
READ_STATION_RECEPTIONS = "read_station_receptions"
READ_STATION_SERVICES = "read_station_services"
READ_STATION_CERTIFICATES = "read_station_certificates"
READ_STATION_GATHERINGS = "read_station_gatherings"
READ_STATION_OPINIONS = "read_station_opinions"
READ_STATION_ROSTER = "read_station_roster"
READ_MEETINGS = "read_meetings"
READ_WORK_ITEMS = "read_work_items"
READ_DASHBOARD = "read_dashboard"
READ_DASHBOARD_DETAILS = "read_dashboard_details"
READ_REPORT = "read_report"
READ_AUDIT = "read_audit"

PERMISSIONS = Permissions.of(
    "query",
    {
        READ_RESIDENTS: (
            (DIRECTOR, GRID, DESK, DOCTOR),
            "the resident directory and profiles",
        ),
        READ_FULL_ID_NUMBER: ((DIRECTOR,), "identity numbers unmasked (audited)"),
        READ_FOLLOW_UPS: ((DIRECTOR, GRID), "the follow-up board of special groups"),
        READ_AREA_SUMMARY: ((DIRECTOR, GRID, DESK), "residents and flags counted per grid"),
        READ_AREAS: (
            (DIRECTOR, GRID, DESK, MEDIATOR, POLICE, AGENT, DOCTOR, COORDINATOR),
            "the area tree (names only)",
        ),
        READ_DISPUTES: (
            (DIRECTOR, GRID, DESK, MEDIATOR, POLICE),
            "the dispute board, a dispute, the statistics",
        ),
        READ_SIGNALS: ((DIRECTOR, GRID, DESK, MEDIATOR, POLICE), "conflict signals"),
        READ_PETITIONS: ((DIRECTOR, GRID, AGENT), "petitions by proxy"),
        READ_HEALTH_VISITS: (
            (DOCTOR, GRID, DIRECTOR, DESK),
            "due and overdue health visits; a profile's health record and open visits",
        ),
        READ_HEALTH_PROGRAMMES: (
            (DOCTOR,),
            "which programme a health visit is for (a chronic-disease programme names a diagnosis)",
        ),
        READ_HEALTH_COVERAGE: ((DIRECTOR, DOCTOR, GRID), "the 65+ annual check-up coverage"),
        READ_HEALTH_ACTIVITIES: (
            (DIRECTOR, DOCTOR, DESK, GRID),
            "health activities and clinic days, with their counts",
        ),
        READ_SERVICE_REQUESTS: (
            (COORDINATOR, DIRECTOR, GRID, DESK),
            "service requests with their age and counts per grid; a profile's services",
        ),
        READ_SERVICE_STATISTICS: (
            (COORDINATOR, DIRECTOR),
            "service requests delivered per month and kind, with the mean satisfaction",
        ),
        READ_VOLUNTEER_HOURS: (
            (COORDINATOR, DIRECTOR),
            "approved volunteer hours per volunteer, team and host organisation",
        ),
        READ_VOLUNTEERS: (
            (COORDINATOR, DIRECTOR, GRID),
            "volunteers with their hours of the last 12 months and who is an active volunteer",
        ),
        READ_HOST_UNIT_SUMMARY: (
            (COORDINATOR, DIRECTOR),
            "a host organisation's quarterly summary of its in-service party members",
        ),
        READ_ORGANISATIONS: (
            (DIRECTOR, DESK, GRID, MEDIATOR, POLICE, COORDINATOR, DOCTOR, AGENT),
            "partner organisations and their liaisons (names and roles)",
        ),
        READ_LIAISON_PHONES: ((DIRECTOR,), "the phone numbers of partners' liaisons"),
        READ_STATION_RECEPTIONS: (
            (DIRECTOR, DESK),
            "the station's receptions counted per period, purpose and referral; a profile's "
            "station section",
        ),
        READ_STATION_SERVICES: (
            (DIRECTOR, DESK),
            "the station's convenience services, overdue hand-offs, time to completion and "
            "satisfaction",
        ),
        READ_STATION_CERTIFICATES: (
            (DIRECTOR, DESK),
            "residence certificates issued at the desk, valid or revoked (the holder's name only "
            "to those who may see the resident); a profile's certificates",
        ),
        READ_STATION_GATHERINGS: (
            (DIRECTOR, DESK),
            "the station's lectures and activities with their attendance, totalled per kind",
        ),
        READ_STATION_OPINIONS: (
            (DIRECTOR, DESK),
            "the opinions raised at opinion-gathering sessions and what became of each",
        ),
        READ_STATION_ROSTER: (
            (DIRECTOR, DESK, GRID),
            "who is on duty at the desk and the pioneer post, per day (grid workers steer "
            "residents there)",
        ),
        READ_MEETINGS: (
            (DIRECTOR, GRID, DESK, MEDIATOR),
            "the meeting register: attending organisations, decisions and the work items they "
            "became",
        ),
        READ_WORK_ITEMS: (
            (DIRECTOR, GRID, DESK, MEDIATOR, LIAISON),
            "the work-list board, an item's history, items overdue, on-time completion rates "
            "(a liaison: only the items their organisations own or co-own)",
        ),
        READ_DASHBOARD: (
            (DIRECTOR, GRID, DESK, COORDINATOR, LIAISON),
            "the report's figures for a period and the records behind each (small counts of "
            "sensitive groups suppressed, without read_dashboard_details)",
        ),
        READ_DASHBOARD_DETAILS: (
            (DIRECTOR,),
            "small counts of sensitive groups on the dashboard, and the records behind them",
        ),
        READ_REPORT: (
            (DIRECTOR,),
            "the community's printable report (PDF, HTML): its figures, charts and the records "
            "behind them",
        ),
        READ_AUDIT: (
            (DIRECTOR,),
            "the audit of sensitive reads (who read which sensitive record, when, by which "
            "route) of the records in the caller's areas",
        ),
    },
)
