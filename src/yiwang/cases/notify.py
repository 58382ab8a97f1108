"""Telling people: in-app notices always, plus pluggable transports (e-mail now; SMS and
messaging apps later) named in settings.YIWANG_NOTIFY_TRANSPORTS. Sent after commit, so a
rolled-back change tells nobody."""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.org.models import Role, RoleKind

from .models import Case, Follower, Notification

log = logging.getLogger(__name__)


class Transport:
    """A way to reach a person besides the in-app notice."""

    name = "base"

    def send(self, user, case: Case | None, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class EmailTransport(Transport):
    name = "email"

    def send(self, user, case, text):
        if not user.email:
            return
        from django.core.mail import send_mail

        subject = f"[一网治理] {case.number}" if case else "[一网治理]"
        send_mail(subject, text, None, [user.email], fail_silently=True)


def _transports() -> list[Transport]:
    out = []
    for path in getattr(settings, "YIWANG_NOTIFY_TRANSPORTS", []):
        module, _, name = path.rpartition(".")
        out.append(getattr(import_module(module), name)())
    return out


def _deliver(user_ids: list[int], case: Case | None, text: str) -> None:
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    Notification.objects.bulk_create(
        [Notification(user_id=uid, case=case, text=text[:300]) for uid in user_ids]
    )
    transports = _transports()
    if transports:
        for user in get_user_model().objects.filter(id__in=user_ids):
            for transport in transports:
                try:
                    transport.send(user, case, text)
                except Exception:  # one failing channel must not stop the others
                    log.exception("transport %s failed", transport.name)


def users(user_ids: list[int], case: Case | None, text: str) -> None:
    transaction.on_commit(lambda: _deliver(list(user_ids), case, text))


def case_changed(case: Case, text: str) -> None:
    """The reporter and every follower (reporters of merged duplicates too)."""
    if not case.wants_reply and case.state not in ("closed", "rejected"):
        return

    def send():
        ids = list(Follower.objects.filter(case=case).values_list("user_id", flat=True))
        for dup in case.duplicates.all():
            ids += list(Follower.objects.filter(case=dup).values_list("user_id", flat=True))
        _deliver(ids, case, text)

    transaction.on_commit(send)


def departments(depts, case: Case, text: str) -> None:
    ids = [d.id for d in depts]

    def send():
        staff = Role.objects.filter(kind=RoleKind.DEPARTMENT_STAFF, department_id__in=ids)
        _deliver(list(staff.values_list("user_id", flat=True)), case, text)

    transaction.on_commit(send)


def desk(case: Case, text: str) -> None:
    """The desk the case sits on: community, street or district staff."""

    def send():
        q = Role.objects.none()
        if case.level in ("grid", "community"):
            q = Role.objects.filter(community_id=case.community_id) | Role.objects.filter(
                grid_id=case.grid_id
            )
        elif case.level == "street":
            q = Role.objects.filter(street_id=case.street_id)
        else:
            q = Role.objects.filter(kind__in=[RoleKind.DISTRICT_LEADER, RoleKind.DISTRICT_ADMIN])
        _deliver(list(q.values_list("user_id", flat=True)), case, text)

    transaction.on_commit(send)
