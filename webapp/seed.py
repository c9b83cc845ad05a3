"""Demo data for `flask seed-demo`: idempotent, found again by name on every run, written through
the same services as the API and the dashboard (so the same rules and validation apply)."""

import sqlalchemy as sa

from .extensions import db
from .models import Agent, Task
from .schemas.agents import AgentCreate
from .schemas.tasks import TaskCreate
from .services import agents as agent_service
from .services import orgs
from .services import tasks as task_service

DEMO_ORG = "Demo Co"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"

DEMO_AGENTS = [
    {
        "name": "Delivery confirmation",
        "system_prompt": "You are a friendly agent for Demo Co confirming delivery windows. "
        "Confirm the customer's name, the order id and a delivery time; offer a callback if busy.",
        "starting_message": "Hi {{customer_name}}, this is Demo Co calling about your order.",
        "voice_settings": {
            "voice_id": "21m00Tcm4TlvDq8ikWAM",
            "stability": 0.5,
            "similarity_boost": 0.75,
            "speed": 1.0,
        },
        "dtmf_rules": {"inputs": {"1": {"action": "confirm", "label": "confirmed"}, "9": {"action": "opt_out"}}},
        # a task without a name still opens with "Hi there, ..."
        "dynamic_variables": {"customer_name": "there"},
    },
    {
        "name": "Clinic reminders",
        "system_prompt": "You remind patients of appointments and reschedule when asked.",
        "starting_message": "Hello, this is the clinic with a reminder about your appointment.",
        "voice_settings": {"stability": 0.6, "similarity_boost": 0.8},
        "dtmf_rules": {"navigation": [{"when": "press 1 for appointments", "press": "1"}]},
    },
]

DEMO_TASKS = [
    (
        "Delivery confirmation",
        "Confirm order A-1001",
        "+14155550123",
        {"customer_name": "Jane Roe", "order_id": "A-1001"},
    ),
    ("Delivery confirmation", "No answer example", "+15005550001", {"customer_name": "Sam Lee", "order_id": "A-1002"}),
    ("Delivery confirmation", "Key press example", "+15005550006", {"customer_name": "Ana Diaz", "order_id": "A-1003"}),
    ("Clinic reminders", "IVR example", "+15005550005", {"customer_name": "Chris Park", "appointment": "Tuesday 10am"}),
]


def seed_demo_data() -> list[str]:
    lines = []
    user = orgs.find_user(DEMO_EMAIL)
    if user is None:
        org, user = orgs.sign_up(org_name=DEMO_ORG, email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo Owner")
        lines.append(f"Created organization {DEMO_ORG}; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
    org_id = orgs.memberships_of(user.id)[0].organization_id
    agents = {}
    for spec in DEMO_AGENTS:
        agent = db.session.execute(
            sa.select(Agent).where(
                Agent.organization_id == org_id, Agent.name == spec["name"], Agent.deleted_at.is_(None)
            )
        ).scalar_one_or_none()
        if agent is None:
            agent = agent_service.create_agent(org_id, AgentCreate(**spec))
            lines.append(f"Created agent {spec['name']}")
        agents[spec["name"]] = agent.id
    for agent_name, task_name, number, context in DEMO_TASKS:
        exists = db.session.execute(
            sa.select(Task.id).where(Task.organization_id == org_id, Task.name == task_name)
        ).first()
        if exists is None:
            task_service.create_task(org_id, TaskCreate(agent_id=agents[agent_name], name=task_name, to_number=number,
                                                        context_data=context))  # fmt: skip
            lines.append(f"Created task {task_name} ({number})")
    return lines or ["Demo data already present; nothing to do"]
