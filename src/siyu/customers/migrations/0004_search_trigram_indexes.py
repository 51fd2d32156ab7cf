"""Search at a million customers: trigram indexes for the list's nickname and remark search
(`icontains`), on PostgreSQL only and only where the pg_trgm extension may be created. They
are plain SQL, not model indexes: SQLite has no equivalent, and without them the search still
works (a scan), only slower."""

from django.db import migrations

INDEXES = {
    # Django's `icontains` on PostgreSQL is `UPPER(col::text) LIKE UPPER(%s)`: index that expression.
    "customer_name_trgm": "customers_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "follow_remark_trgm": "customers_followrelation USING gin ((UPPER(remark::text)) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            if cursor.fetchone() is None:
                return
            # A role that may not create extensions leaves the search unindexed, not broken.
            cursor.execute("SAVEPOINT siyu_trgm")
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # noqa: BLE001 - insufficient privilege and the like
                cursor.execute("ROLLBACK TO SAVEPOINT siyu_trgm")
                return
            cursor.execute("RELEASE SAVEPOINT siyu_trgm")
        for name, target in INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_profile_sync_transfers_lifecycle")]

    operations = [migrations.RunPython(create, drop)]
