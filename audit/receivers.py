"""Every sign-in attempt becomes a LoginEvent, whichever path it took.

Connected to Django's ``user_logged_in`` and ``user_login_failed``, which every
sign-in path sends (the browser form, the API, the admin), so none can skip the
audit trail."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.emails import send_security_email
from accounts.models import User
from audit import devices, events
from audit.models import LoginEvent
from securityportal.client import ClientInfo, recognised_device

_NO_CLIENT = ClientInfo(ip=None, user_agent="")


def _client(request: HttpRequest | None) -> ClientInfo:
    return ClientInfo.from_request(request) if request is not None else _NO_CLIENT


def record_failed_sign_in(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    reason: str | None = None,
    **kwargs: Any,
) -> None:
    """A refused attempt: the name as typed, and why (never the password)."""
    identifier = str(credentials.get("username", ""))[:254]
    channel = credentials.get("channel")
    if channel not in LoginEvent.Channel.values:
        channel = LoginEvent.Channel.BROWSER
    user = User.objects.for_identifier(identifier) if identifier else None
    if reason is None:
        # Deactivated users are refused like wrong passwords (no enumeration);
        # only the trail tells them apart.
        inactive = user is not None and not user.is_active
        reason = (
            LoginEvent.FailureReason.INACTIVE
            if inactive
            else LoginEvent.FailureReason.BAD_CREDENTIALS
        )
    client = _client(request)
    LoginEvent.objects.create(
        user=user,
        account_id=user.account_id if user is not None else None,
        username=identifier,
        channel=channel,
        success=False,
        failure_reason=reason,
        **LoginEvent.columns_for(client),
    )


def record_sign_in(
    sender: type, request: HttpRequest | None, user: User, session: Any = None, **kwargs: Any
) -> None:
    """A successful sign-in, linked to its new session; a device this user has not
    signed in from before is flagged, audited and e-mailed about."""
    # A browser's session row is on its store; the API passes its row along.
    session = session or getattr(getattr(request, "session", None), "row", None)
    channel = session.kind if session is not None else LoginEvent.Channel.BROWSER
    client = _client(request)
    key = devices.device_key(request, channel=channel, client=client)
    known = LoginEvent.objects.filter(user=user, success=True, device_key=key).exists()
    event = LoginEvent.objects.create(
        user=user,
        account_id=user.account_id,
        username=user.get_username(),
        channel=channel,
        success=True,
        new_device=not known,
        device_key=key,
        session=session,
        **LoginEvent.columns_for(client),
    )
    if not known:
        _alert_new_device(request, user, event)


def _alert_new_device(request: HttpRequest | None, user: User, event: LoginEvent) -> None:
    events.record(
        "login.new_device",
        user=user,
        actor=user,
        target=f"session:{event.session_id}" if event.session_id else "",
        details={"channel": event.channel, "device": event.device},
        ip=event.ip,
    )
    disown_url = None
    if event.session_id is not None and request is not None:
        path = reverse("disown_session", args=[devices.disown_token(event.session_id)])
        # Not the Host header alone: an intruder signing in through another allowed
        # host would pick where the victim's security e-mail links to.
        disown_url = (
            settings.PUBLIC_URL + path if settings.PUBLIC_URL else request.build_absolute_uri(path)
        )
    send_security_email(
        user,
        subject="New sign-in to your Security Portal account",
        template="audit/email/new_device.txt",
        context={
            "event": event,
            "device": recognised_device(event.user_agent),
            "disown_url": disown_url,
        },
    )
