"""SQL column lineage: what each output column is computed from."""

from __future__ import annotations

import pytest

from interlace.lineage import LineageError, ModelColumnLineage, sql_column_lineage
from tests.lineage.factories import columns, confidences, edges, expressions

ORDERS = {
    "order_id": "int64",
    "customer_id": "int64",
    "amount": "float64",
    "status": "string",
    "ordered_at": "timestamp",
}
CUSTOMERS = {"customer_id": "int64", "name": "string", "region": "string"}
EMPLOYEES = {"id": "int64", "name": "string", "manager_id": "int64"}
REFUNDS = {"refund_id": "int64", "refund_amount": "float64"}
SCHEMAS = {
    "orders": ORDERS,
    "customers": CUSTOMERS,
    "employees": EMPLOYEES,
    "refunds": REFUNDS,
}


def trace(
    sql: str, schemas: dict[str, dict[str, str]] | None = None
) -> ModelColumnLineage:
    return sql_column_lineage("out", sql, SCHEMAS if schemas is None else schemas)


def test_self_join_with_aliases_traces_both_aliases_to_the_same_model() -> None:
    sql = """
        SELECT e.id, e.name AS employee, m.name AS manager
        FROM employees AS e LEFT JOIN employees AS m ON e.manager_id = m.id
    """

    result = trace(sql)

    assert edges(result) == {
        ("employees", "id", "id", "direct"),
        ("employees", "name", "employee", "renamed"),
        ("employees", "name", "manager", "renamed"),
    }
    assert expressions(result)[("name", "manager")] == "m.name"


def test_chain_of_ctes_resolves_to_the_real_upstream_columns() -> None:
    sql = """
        WITH paid AS (
            SELECT order_id, customer_id, amount FROM orders WHERE status = 'paid'
        ), per_customer AS (
            SELECT customer_id AS buyer, SUM(amount) AS spent
            FROM paid GROUP BY customer_id
        ), ranked AS (SELECT buyer, spent FROM per_customer)
        SELECT buyer, spent AS total_spent FROM ranked
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "customer_id", "buyer", "renamed"),
        ("orders", "amount", "total_spent", "aggregated"),
    }
    assert expressions(result)[("amount", "total_spent")] == "SUM(amount)"
    assert columns(result) == [("buyer", "int64"), ("total_spent", "float64")]


def test_select_star_expands_every_column_of_the_upstream_in_order() -> None:
    result = trace("SELECT * FROM orders")

    assert columns(result) == list(ORDERS.items())
    assert edges(result) == {("orders", c, c, "direct") for c in ORDERS}
    assert result.complete


def test_qualified_star_over_a_join_marks_the_join_key_joined() -> None:
    sql = """
        SELECT o.*, c.name FROM orders AS o
        JOIN customers AS c ON o.customer_id = c.customer_id
    """

    result = trace(sql)

    assert [name for name, _ in columns(result)] == [*ORDERS, "name"]
    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("orders", "customer_id", "customer_id", "joined"),
        ("orders", "amount", "amount", "direct"),
        ("orders", "status", "status", "direct"),
        ("orders", "ordered_at", "ordered_at", "direct"),
        ("customers", "name", "name", "direct"),
    }


def test_star_exclude_and_replace_follow_duckdb() -> None:
    sql = """
        SELECT * EXCLUDE (status, ordered_at) REPLACE (amount * 100 AS amount)
        FROM orders
    """

    result = trace(sql)

    assert columns(result) == [
        ("order_id", "int64"),
        ("customer_id", "int64"),
        ("amount", "float64"),
    ]
    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("orders", "customer_id", "customer_id", "direct"),
        ("orders", "amount", "amount", "derived"),
    }


def test_window_functions_mark_every_column_they_read_as_window() -> None:
    sql = """
        SELECT order_id,
               ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ordered_at) AS nth,
               SUM(amount) OVER (PARTITION BY customer_id) AS customer_total
        FROM orders
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("orders", "customer_id", "nth", "window"),
        ("orders", "ordered_at", "nth", "window"),
        ("orders", "amount", "customer_total", "window"),
        ("orders", "customer_id", "customer_total", "window"),
    }
    assert columns(result) == [
        ("order_id", "int64"),
        ("nth", "int64"),
        ("customer_total", "float64"),
    ]


def test_union_all_draws_edges_from_every_branch() -> None:
    sql = """
        SELECT order_id AS id, amount FROM orders
        UNION ALL
        SELECT refund_id, -refund_amount FROM refunds
    """

    result = trace(sql)

    assert [name for name, _ in columns(result)] == ["id", "amount"]
    assert edges(result) == {
        ("orders", "order_id", "id", "renamed"),
        ("orders", "amount", "amount", "direct"),
        ("refunds", "refund_id", "id", "renamed"),
        ("refunds", "refund_amount", "amount", "derived"),
    }


def test_expression_over_several_columns_has_one_derived_edge_per_column() -> None:
    schemas = {"lines": {"qty": "int32", "price": "float64", "discount": "float64"}}
    sql = "SELECT qty * price * (1 - discount) AS net FROM lines"

    result = trace(sql, schemas)

    assert edges(result) == {
        ("lines", "qty", "net", "derived"),
        ("lines", "price", "net", "derived"),
        ("lines", "discount", "net", "derived"),
    }
    assert set(expressions(result).values()) == {"qty * price * (1 - discount)"}


def test_group_by_all_aggregates_measures_and_passes_keys_through() -> None:
    sql = """
        SELECT customer_id, status, SUM(amount) AS revenue, COUNT(*) AS orders,
               COUNT(DISTINCT order_id) AS distinct_orders
        FROM orders GROUP BY ALL
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "customer_id", "customer_id", "direct"),
        ("orders", "status", "status", "direct"),
        ("orders", "amount", "revenue", "aggregated"),
        ("orders", "order_id", "distinct_orders", "aggregated"),
    }
    assert columns(result) == [
        ("customer_id", "int64"),
        ("status", "string"),
        ("revenue", "float64"),
        ("orders", "int64"),
        ("distinct_orders", "int64"),
    ]


def test_cast_of_a_column_is_cast_and_of_an_aggregate_stays_aggregated() -> None:
    sql = """
        SELECT CAST(amount AS DECIMAL(18, 2)) AS amount,
               order_id::VARCHAR AS order_key,
               TRY_CAST(status AS INTEGER) AS status_code,
               CAST(SUM(amount) AS BIGINT) AS total
        FROM orders
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "amount", "amount", "cast"),
        ("orders", "order_id", "order_key", "cast"),
        ("orders", "status", "status_code", "cast"),
        ("orders", "amount", "total", "aggregated"),
    }
    assert columns(result) == [
        ("amount", "decimal(18,2)"),
        ("order_key", "string"),
        ("status_code", "int32"),
        ("total", "int64"),
    ]


def test_renamed_columns_keep_the_source_type() -> None:
    result = trace("SELECT order_id AS id, amount AS value, status FROM orders")

    assert edges(result) == {
        ("orders", "order_id", "id", "renamed"),
        ("orders", "amount", "value", "renamed"),
        ("orders", "status", "status", "direct"),
    }
    assert columns(result) == [
        ("id", "int64"),
        ("value", "float64"),
        ("status", "string"),
    ]


def test_derived_table_with_a_column_list_renames_its_columns() -> None:
    sql = """
        SELECT t.id, t.orders FROM (
            SELECT customer_id, COUNT(order_id) FROM orders GROUP BY 1
        ) AS t(id, orders)
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "customer_id", "id", "renamed"),
        ("orders", "order_id", "orders", "aggregated"),
    }


def test_correlated_scalar_subquery_traces_its_output_only() -> None:
    sql = """
        SELECT c.customer_id,
               (SELECT MAX(o.amount) FROM orders AS o
                WHERE o.customer_id = c.customer_id) AS largest
        FROM customers AS c
    """

    result = trace(sql)

    assert edges(result) == {
        ("customers", "customer_id", "customer_id", "direct"),
        ("orders", "amount", "largest", "aggregated"),
    }
    assert columns(result)[1] == ("largest", "float64")


def test_join_keys_are_joined_and_other_joined_columns_stay_direct() -> None:
    sql = """
        SELECT o.order_id, o.customer_id, c.name, c.region
        FROM orders AS o JOIN customers AS c ON o.customer_id = c.customer_id
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("orders", "customer_id", "customer_id", "joined"),
        ("customers", "name", "name", "direct"),
        ("customers", "region", "region", "direct"),
    }


def test_using_column_comes_from_both_sides_of_the_join() -> None:
    sql = """
        SELECT customer_id, o.amount, c.name
        FROM orders AS o JOIN customers AS c USING (customer_id)
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "customer_id", "customer_id", "joined"),
        ("customers", "customer_id", "customer_id", "joined"),
        ("orders", "amount", "amount", "direct"),
        ("customers", "name", "name", "direct"),
    }


def test_later_output_columns_may_use_earlier_aliases() -> None:
    result = trace("SELECT amount * 2 AS doubled, doubled + 1 AS plus_one FROM orders")

    assert edges(result) == {
        ("orders", "amount", "doubled", "derived"),
        ("orders", "amount", "plus_one", "derived"),
    }
    assert expressions(result)[("amount", "plus_one")] == "doubled + 1"


def test_unknown_upstream_is_traced_by_name_with_lower_confidence() -> None:
    sql = """
        SELECT o.order_id, o.amount * r.rate AS converted, r.currency, note
        FROM orders AS o JOIN rates AS r ON o.status = r.code
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("orders", "amount", "converted", "derived"),
        ("rates", "rate", "converted", "derived"),
        ("rates", "currency", "currency", "direct"),
        ("rates", "note", "note", "unknown"),
    }
    assert confidences(result) == {
        ("orders", "order_id", "order_id"): 1.0,
        ("orders", "amount", "converted"): 1.0,
        ("rates", "rate", "converted"): 0.8,
        ("rates", "currency", "currency"): 0.8,
        ("rates", "note", "note"): 0.5,
    }


def test_name_that_several_unknown_upstreams_could_hold_goes_to_each() -> None:
    result = trace("SELECT x FROM a JOIN b ON a.id = b.id", {})

    assert edges(result) == {("a", "x", "x", "unknown"), ("b", "x", "x", "unknown")}
    assert set(confidences(result).values()) == {0.3}


def test_star_over_an_unknown_upstream_lists_only_known_columns() -> None:
    sql = "SELECT *, o.amount FROM mystery JOIN orders AS o ON mystery.id = o.order_id"

    result = trace(sql)

    assert not result.complete
    assert [name for name, _ in columns(result)] == [*ORDERS, "amount_1"]
    assert any("`mystery`" in warning for warning in result.warnings)


def test_names_match_case_insensitively_and_keep_their_spelling() -> None:
    result = trace('SELECT "Amount", ORDER_ID AS Id FROM Analytics.ORDERS')

    assert edges(result) == {
        ("orders", "amount", "Amount", "direct"),
        ("orders", "order_id", "Id", "renamed"),
    }


def test_duplicate_output_names_are_suffixed_like_duckdb() -> None:
    sql = "SELECT o.customer_id, c.customer_id FROM orders AS o, customers AS c"

    result = trace(sql)

    assert [name for name, _ in columns(result)] == ["customer_id", "customer_id_1"]
    assert edges(result) == {
        ("orders", "customer_id", "customer_id", "direct"),
        ("customers", "customer_id", "customer_id_1", "renamed"),
    }


def test_expression_without_alias_is_named_like_duckdb_names_it() -> None:
    result = trace("SELECT count(*), sum(amount) FROM orders")

    assert [name for name, _ in columns(result)] == ["count_star()", "sum(amount)"]


def test_sql_that_does_not_parse_raises_a_lineage_error_with_its_position() -> None:
    with pytest.raises(LineageError, match=r"`out`: SQL could not be parsed at line 1"):
        trace("SELECT FROM WHERE (")


def test_statement_that_is_not_a_query_raises_a_lineage_error() -> None:
    with pytest.raises(LineageError, match="expected a SELECT query, found `CREATE`"):
        trace("CREATE TABLE x (a INT)")


def test_union_by_name_matches_branches_by_column_name() -> None:
    sql = """
        SELECT order_id AS id, amount FROM orders
        UNION ALL BY NAME
        SELECT refund_amount AS amount, refund_id AS id, 'refund' AS kind FROM refunds
    """

    result = trace(sql)

    assert [name for name, _ in columns(result)] == ["id", "amount", "kind"]
    assert edges(result) == {
        ("orders", "order_id", "id", "renamed"),
        ("orders", "amount", "amount", "direct"),
        ("refunds", "refund_id", "id", "renamed"),
        ("refunds", "refund_amount", "amount", "renamed"),
    }


def test_recursive_cte_traces_its_anchor_and_does_not_fail() -> None:
    sql = """
        WITH RECURSIVE chain(id, boss) AS (
            SELECT id, manager_id FROM employees
            UNION ALL
            SELECT c.id, e.manager_id
            FROM chain AS c JOIN employees AS e ON c.boss = e.id
        )
        SELECT id, boss FROM chain
    """

    result = trace(sql)

    assert ("employees", "id", "id", "direct") in edges(result)
    assert ("employees", "manager_id", "boss", "renamed") in edges(result)


def test_table_functions_and_unnest_are_sources_without_a_model() -> None:
    sql = """
        SELECT f.path, u.tag, o.order_id
        FROM read_parquet('x/*.parquet') AS f(path)
        CROSS JOIN orders AS o
        CROSS JOIN UNNEST([o.status]) AS u(tag)
    """

    result = trace(sql)

    assert edges(result) == {
        ("orders", "status", "tag", "derived"),
        ("orders", "order_id", "order_id", "direct"),
    }
    assert [name for name, _ in columns(result)] == ["path", "tag", "order_id"]


def test_struct_field_access_is_derived_from_the_struct_column() -> None:
    schemas = {"events": {"id": "int64", "payload": "struct<kind: string>"}}

    result = trace("SELECT id, payload.kind FROM events", schemas)

    assert edges(result) == {
        ("events", "id", "id", "direct"),
        ("events", "payload", "kind", "derived"),
    }


def test_semi_join_side_is_neither_selected_by_star_nor_a_value_source() -> None:
    sql = "SELECT * FROM customers SEMI JOIN orders USING (customer_id)"

    result = trace(sql)

    assert [name for name, _ in columns(result)] == list(CUSTOMERS)
    assert edges(result) == {
        ("customers", "customer_id", "customer_id", "joined"),
        ("customers", "name", "name", "direct"),
        ("customers", "region", "region", "direct"),
    }


def test_lateral_subquery_may_read_earlier_from_items() -> None:
    sql = """
        SELECT c.name, l.total FROM customers AS c,
        LATERAL (SELECT SUM(amount) AS total FROM orders AS o
                 WHERE o.customer_id = c.customer_id) AS l
    """

    result = trace(sql)

    assert edges(result) == {
        ("customers", "name", "name", "direct"),
        ("orders", "amount", "total", "aggregated"),
    }


def test_natural_join_merges_the_common_columns() -> None:
    result = trace("SELECT * FROM orders NATURAL JOIN customers")

    assert [name for name, _ in columns(result)] == [*ORDERS, "name", "region"]
    assert ("customers", "customer_id", "customer_id", "joined") in edges(result)
    assert ("orders", "customer_id", "customer_id", "joined") in edges(result)


def test_files_and_pivots_are_not_traced_to_models() -> None:
    files = trace("SELECT x FROM 'exports/orders.parquet'")
    pivoted = trace("SELECT * FROM orders PIVOT (SUM(amount) FOR status IN ('a'))")

    assert edges(files) == set()
    assert edges(pivoted) == set()
    assert not pivoted.complete
    assert "PIVOT and UNPIVOT outputs are not traced" in pivoted.warnings


def test_list_comprehension_variables_are_not_columns() -> None:
    schemas = {"t": {"xs": "list<int64>"}}

    result = trace("SELECT [x * 2 FOR x IN xs] AS doubled FROM t", schemas)

    assert edges(result) == {("t", "xs", "doubled", "derived")}
    assert result.warnings == ()


def test_column_missing_from_a_known_schema_is_kept_as_unknown() -> None:
    result = trace("SELECT o.coupon FROM orders AS o")

    assert edges(result) == {("orders", "coupon", "coupon", "unknown")}
    assert confidences(result) == {("orders", "coupon", "coupon"): 0.3}
    assert result.warnings == (
        "column `coupon` is not among the known columns of `orders`",
    )
