"""What a resident's card shows beside the person: each app that links things to people
(demands, calls, …) registers a section here in its AppConfig.ready(), so the registry never
imports them. A section is a callable (actor, resident) → dict or None:

    {"key": "demands", "title": "服务需求", "items": [{"label", "url", "meta"}],
     "actions": [{"label", "url"}], "empty": "暂无"}
"""

from __future__ import annotations

CARD_SECTIONS: list = []


def register_card_section(section) -> None:
    if section not in CARD_SECTIONS:
        CARD_SECTIONS.append(section)


def card_sections(actor, resident) -> list[dict]:
    return [s for s in (section(actor, resident) for section in CARD_SECTIONS) if s]
