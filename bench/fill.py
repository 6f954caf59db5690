"""Fill read-model tables directly with INSERT ... SELECT generate_series (API benchmark data).

Read benchmarks measure the read path only, so their 100,000 meetings are generated in SQL
in seconds instead of being projected from events; every column not given gets a neutral
value of its type.
"""
from __future__ import annotations

from django.db import connection, models


def _default(field: models.Field) -> str:
    if field.null:
        return "NULL"
    if isinstance(field, models.JSONField):
        return "'{}'::jsonb" if field.default is dict else "'[]'::jsonb"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, models.DateTimeField):
        return "'2025-01-01T00:00:00Z'::timestamptz"
    if isinstance(field, models.DateField):
        return "'2025-01-01'::date"
    if isinstance(field, models.IntegerField | models.BigIntegerField | models.SmallIntegerField):
        return "0"
    if isinstance(field, models.CharField | models.TextField):
        default = field.default if isinstance(field.default, str) else ""
        return "'" + default.replace("'", "''") + "'"
    raise TypeError(f"no default for {field.model.__name__}.{field.name}")


def fill(model: type[models.Model], count: int, values: dict[str, str]) -> None:
    """Insert `count` rows; `values` maps column names to SQL expressions of `g` (1..count)."""
    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField) and field.column not in values:
            continue  # the database numbers it
        columns.append(connection.ops.quote_name(field.column))
        exprs.append(values.get(field.column, values.get(field.name, None)) or _default(field))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(exprs)} FROM generate_series(1, {int(count)}) AS g"
        )
        cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def uuid_expr(kind: int, var: str = "g") -> str:
    """A deterministic uuid from an integer expression: kind in the first group, n at the end."""
    return f"('{kind:08x}-0000-4000-8000-' || lpad(to_hex({var}), 12, '0'))::uuid"
