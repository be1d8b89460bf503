"""The index the review queue reads predictions by: ``scoring_prediction (created_at, id)`` for the
predictions recommended *review* only (a partial index; PostgreSQL and SQLite both have them).

It lives on scoring's table but belongs to the review desk, so it is made with SQL (migration
``reviews/0002``), not declared on scoring's model. SQLite rebuilds a table to alter it and keeps only
the indexes a model declares, so a later scoring migration that alters predictions would drop it
there: :func:`ensure_queue_index` runs after every ``migrate`` (``ReviewsConfig.ready``) and puts it
back when it is missing. PostgreSQL keeps it through an ``ALTER TABLE``.
"""

INDEX_NAME = "prediction_review_queue_idx"
CREATE_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON scoring_prediction (created_at, id) WHERE recommendation = 'review'"
)
DROP_SQL = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def ensure_queue_index(using="default", **kwargs) -> None:
    """Create the index if the predictions' table exists and the index does not (a ``post_migrate`` receiver)."""
    from django.db import connections

    connection = connections[using]
    with connection.cursor() as cursor:
        if "scoring_prediction" not in connection.introspection.table_names(cursor):
            return
        cursor.execute(CREATE_SQL)
