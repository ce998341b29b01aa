"""Account names are unique in any letter case, as the provisioning commands and the
admin compare them: "Acme" and "ACME" may not be two tenants. Building the new index
blocks only writes to the accounts table (a few rows, written when an account is
made), never the reads every signed-in request makes."""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models.functions import Lower


def refuse_names_alike(apps: object, schema_editor: object) -> None:
    # A clear stop, naming what to rename, instead of the constraint's IntegrityError.
    Account = apps.get_model("accounts", "Account")
    alike = (
        Account.objects.annotate(folded=Lower("name"))
        .values("folded")
        .annotate(count=models.Count("id"))
        .filter(count__gt=1)
        .values_list("folded", flat=True)
    )
    if alike:
        # Named as stored, so they can be found in the admin.
        stored = Account.objects.annotate(folded=Lower("name")).filter(folded__in=list(alike))
        names = ", ".join(sorted(stored.values_list("name", flat=True)))
        raise RuntimeError(
            f"Accounts whose names differ only in letter case: {names}. "
            "Rename all but one of each in the admin, then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_owner_group"),
    ]

    operations = [
        migrations.RunPython(refuse_names_alike, migrations.RunPython.noop),
        # The exact-name unique index stays (dropping it would lock the table every
        # signed-in request reads); this one adds the other letter cases.
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="accounts_account_name_ci_unique",
                violation_error_message="An account with this name already exists.",
            ),
        ),
    ]
