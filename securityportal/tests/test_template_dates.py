"""Templates' |date (securityportal.template_dates) writes what Django's filter writes,
in the time zone and language of each render, however often a value is formatted."""

from datetime import UTC, date, datetime

from django.template import Context, Template
from django.template.defaultfilters import date as django_date
from django.utils import timezone

MOMENT = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def render(value: object, fmt: str) -> str:
    return Template("{{ value|date:fmt }}").render(Context({"value": value, "fmt": fmt}))


def test_one_instant_is_written_in_the_time_zone_of_each_render():
    with timezone.override("UTC"):
        in_utc = render(MOMENT, "j M Y, H:i e")
    with timezone.override("Asia/Tokyo"):
        in_tokyo = render(MOMENT, "j M Y, H:i e")
    with timezone.override("UTC"):
        again_in_utc = render(MOMENT, "j M Y, H:i e")

    assert in_utc == again_in_utc == "1 Mar 2026, 22:30 UTC"
    assert in_tokyo == "2 Mar 2026, 07:30 JST"


def test_values_that_are_not_datetimes_are_written_as_django_writes_them():
    assert render(date(2026, 3, 1), "D j M") == django_date(date(2026, 3, 1), "D j M")
    assert render("not a date", "Y") == ""
    assert render(None, "Y") == ""
