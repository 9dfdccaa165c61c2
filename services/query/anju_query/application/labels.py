"""The dashboard's figures, rates and groups as the community's report names them, in Chinese.

A group this table does not know (a service type a community added to its desk's catalogue)
is shown by its code.
"""

from __future__ import annotations

FIGURES: dict[str, str] = {
    "receptions": "服务站接待居民（人次）",
    "lectures": "理论宣讲与政策解读（次）",
    "civilisation_practice_activities": "文明实践活动（次）",
    "opinion_gathering_sessions": "意见征求会（次）",
    "convenience_services": "便民服务（次）",
    "convenience_services_acted_on": "已办理的便民服务（次）",
    "disputes_resolved": "化解矛盾纠纷（起）",
    "disputes_registered": "登记矛盾纠纷（起）",
    "petitions_handled": "信访代办（件）",
    "health_activities": "健康活动与义诊（次）",
    "health_people_served": "健康活动服务群众（人次）",
    "special_group_flags": "特殊群体登记（人次）",
    "follow_up_visits_on_time": "按时走访特殊群体（次）",
    "follow_up_visits_late": "逾期走访特殊群体（次）",
    "volunteers_active": "参与服务的志愿者（人）",
    "volunteer_hours_approved": "志愿服务时长（小时）",
    "work_items_closed_on_time": "按期办结工作事项（件）",
    "work_items_closed_late": "逾期办结工作事项（件）",
    "satisfaction_ratings": "满意度评价（条）",
}

RATES: dict[str, str] = {
    "response": "便民服务响应率",
    "resolution": "矛盾纠纷化解率",
    "satisfaction": "群众满意度（1–5 分）",
}

GROUPS: dict[str, str] = {
    # dispute tiers (琐事不出楼栋、小事不出网格、大事不出社区)
    "building": "楼栋",
    "grid": "网格",
    "community": "社区",
    "external": "社区以外",
    # the station's gatherings
    "theory_lecture": "理论宣讲",
    "policy_explanation": "政策解读",
    "civilisation_practice": "文明实践",
    "opinion_gathering": "意见征求",
    # the desk's catalogue of convenience services
    "public_rental_application": "公租房申请登记",
    "residence_certificate": "居住证明开具",
    "low_income_certification": "低保认定",
    "employment_information": "就业信息",
    "elderly_window_bill_help": "老年人服务专窗代缴",
    # petitions by proxy
    "answered": "部门已答复",
    "closed": "代办员办结",
    # health activities
    "on_site_consultation": "现场问诊",
    "medical_advice": "医疗咨询",
    "prevention_talk": "疾病预防宣传",
    "free_check_up_day": "免费体检日（义诊）",
    # special groups
    "elderly_alone": "独居老人",
    "mental_disorder": "严重精神障碍患者",
    "disability": "残疾人",
    "low_income": "低保对象",
    # volunteers and their hours
    "grid_worker": "网格员",
    "in_service_party_member": "在职党员",
    "registered_party_member": "报到党员",
    "resident_volunteer": "居民志愿者",
    "volunteer_police": "义警",
    "request": "服务需求",
    "shift": "值守排班",
    # where a work item or a rating came from
    "governance": "联席会议",
    "mediation": "矛盾调解",
    "station": "服务站",
    "volunteering": "志愿服务",
}


def figure_label(name: str) -> str:
    return FIGURES.get(name, name)


def group_label(group: str) -> str:
    return GROUPS.get(group, group)
