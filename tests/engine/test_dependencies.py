"""Dependency inference and normalisation of SQL with sqlglot."""

from __future__ import annotations

import pytest

from interlace.engine.dependencies import normalise_sql, sql_dependencies


def test_joins_and_subqueries_are_collected_in_text_order() -> None:
    sql = """
        SELECT o.id, c.name
        FROM orders o
        JOIN customers c ON c.id = o.customer_id
        LEFT JOIN (SELECT id FROM refunds) r ON r.id = o.id
        WHERE o.region IN (SELECT region FROM regions)
          AND EXISTS (SELECT 1 FROM orders x WHERE x.id = o.id)
    """

    assert sql_dependencies(sql) == ["orders", "customers", "refunds", "regions"]


def test_cte_names_are_not_dependencies_but_their_sources_are() -> None:
    sql = """
        WITH recent AS (SELECT * FROM orders WHERE day > '2026-01-01'),
             totals AS (SELECT id, SUM(amount) AS s FROM recent GROUP BY id)
        SELECT * FROM totals JOIN customers USING (id)
    """

    assert sql_dependencies(sql) == ["orders", "customers"]


def test_cte_shadowing_a_table_still_reads_the_table_inside_it() -> None:
    sql = "WITH orders AS (SELECT * FROM orders WHERE amount > 0) SELECT * FROM orders"

    assert sql_dependencies(sql) == ["orders"]


def test_table_functions_and_reserved_prefixes_are_excluded() -> None:
    sql = """
        SELECT * FROM read_csv('raw/*.csv') a
        JOIN read_parquet_cache b USING (id)
        JOIN range(10) c ON c.range = a.id
        JOIN _scratch d USING (id)
        JOIN 'files/data.parquet' e USING (id)
        JOIN generate_series(1, 3) f ON true
        JOIN kept USING (id)
    """

    assert sql_dependencies(sql) == ["kept"]


def test_qualified_names_give_the_bare_table_name() -> None:
    sql = 'SELECT * FROM staging.orders JOIN "raw"."Customers" USING (id)'

    assert sql_dependencies(sql) == ["orders", "Customers"]


def test_catalog_qualified_and_system_tables_are_not_dependencies() -> None:
    sql = """
        SELECT * FROM pg.public.customers
        JOIN information_schema.tables t ON true
        JOIN orders USING (id)
    """

    assert sql_dependencies(sql) == ["orders"]


def test_repeated_references_are_deduplicated_keeping_first_position() -> None:
    sql = "SELECT * FROM b JOIN a USING (id) UNION ALL SELECT * FROM b"

    assert sql_dependencies(sql) == ["b", "a"]


def test_postgres_dialect_is_supported() -> None:
    sql = "SELECT * FROM orders WHERE payload->>'kind' = 'x' AND id = ANY(ARRAY[1])"

    assert sql_dependencies(sql, dialect="postgres") == ["orders"]


def test_unparseable_sql_raises_value_error_with_position() -> None:
    with pytest.raises(ValueError, match=r"Expected table name.*\(line 1, column 19\)"):
        sql_dependencies("SELECT * FROM WHERE")


def test_normalisation_ignores_comments_whitespace_and_case_of_keywords() -> None:
    one = "select a, b -- the columns\nfrom   orders /* source */ where a > 1"
    two = "SELECT a,\n       b\nFROM orders\nWHERE a > 1;"

    assert normalise_sql(one) == normalise_sql(two)
    assert normalise_sql(one) != normalise_sql("SELECT a, b FROM orders WHERE a > 2")


def test_normalisation_collapses_whitespace_when_parsing_fails() -> None:
    assert normalise_sql("SELECT  (((\n  broken") == "SELECT ((( broken"
