"""A statement compiled once and run with each call's values refuses, rather than runs,
a shape that would read the wrong rows."""

import pytest

from audit.models import LoginEvent
from securityportal.compiled import SENTINEL_ID, CompiledQuery

pytestmark = pytest.mark.django_db


def test_two_values_sharing_a_sentinel_are_refused_instead_of_one_taking_the_others_place(
    alice,
):
    # Had it compiled, the user's id would have been replaced by the cursor's: another
    # user's sign-ins read under this one's name.
    mixed_up = CompiledQuery(
        LoginEvent,
        lambda user_id, before: LoginEvent.objects.filter(user_id=user_id, id__lt=before),
        user_id=("user", SENTINEL_ID),
        before=("id", SENTINEL_ID),
    )

    with pytest.raises(ValueError, match="shares its sentinel"):
        mixed_up.rows(user_id=alice.pk, before=10)


def test_a_missing_value_is_refused_rather_than_matched_as_sql_null(alice):
    # "user_id = NULL" matches no row, where the queryset would have asked IS NULL.
    LoginEvent.objects.create(user=alice, username="alice", channel="browser", success=True)
    by_user = CompiledQuery(
        LoginEvent,
        lambda user_id: LoginEvent.objects.filter(user_id=user_id),
        user_id=("user", SENTINEL_ID),
    )
    assert [event.username for event in by_user.rows(user_id=alice.pk)] == ["alice"]

    with pytest.raises(ValueError, match="is None"):
        by_user.rows(user_id=None)
