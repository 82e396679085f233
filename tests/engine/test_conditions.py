"""Conditional subscription: queue_wait('t:cond') and its expression language (spec 4.1-4.4, 6, A).

A condition is checked by polling (timeout 0) a table that holds a known row: 1 means the row
matched (it is given back at once with queue_abort), 0 that it did not, None (NULL) that the
condition did not compile. Values of expressions are checked as `(expr) = V` matching, or
`(expr) IS NULL` matching for NULL. Section A overrides the reference: UNSIGNED columns are read
as unsigned, column names match exactly and case-insensitively (never by prefix), and back-quoted
keyword-named columns do not shift the other columns.
"""

from __future__ import annotations

import re
import time

import pytest

from .engine_helpers import (
    assert_server_alive,
    column,
    count,
    create_queue,
    execute,
    in_owner_mode,
    one,
    queue_abort,
    queue_end,
    rows,
    start_wait,
    unique_name,
    wait,
    wait_until_blocked,
)

pytestmark = pytest.mark.timeout(60)

MATCH, NO_MATCH, ERROR = 1, 0, None
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


# --------------------------------------------------------------------------- helpers


def outcome(conn, table: str, condition: str):
    """queue_wait('table:condition', 0): MATCH (the row is released again at once), NO_MATCH
    (owner mode with no row is left again) or ERROR (NULL: the condition did not compile)."""
    r = wait(conn, f"{table}:{condition}", timeout=0)
    assert r in (MATCH, NO_MATCH, ERROR), f"queue_wait returned {r!r}"
    if r == MATCH:
        assert queue_abort(conn) == 1
    elif r == NO_MATCH:
        assert queue_end(conn) == 1
    return r


def literal(value: int) -> str:
    """A condition-language spelling of a signed 64-bit value (INT64_MIN has no literal)."""
    if value == INT64_MIN:
        return "(-9223372036854775807 - 1)"
    return str(value) if value >= 0 else f"-{-value}"


def assert_value(conn, table: str, expr: str, expected) -> None:
    """The condition expression `expr` evaluates to `expected` (an int, or None for NULL)."""
    cond = f"({expr}) IS NULL" if expected is None else f"({expr}) = {literal(expected)}"
    assert outcome(conn, table, cond) == MATCH, f"{expr!r} should evaluate to {expected!r}"


def owned(conn, table: str, columns: str = "id") -> list:
    """The rows the connection sees (in owner mode: its owned row)."""
    return rows(conn, f"SELECT {columns} FROM {table}")


def take(conn, table: str, condition: str):
    """queue_wait('table:condition', 0) that must deliver a row; returns that row's id."""
    assert wait(conn, f"{table}:{condition}", timeout=0) == 1, f"{condition!r} got no row"
    got = column(conn, f"SELECT id FROM {table}")
    assert len(got) == 1, f"owner sees {got!r}"
    return got[0]


def conditional_counters(conn) -> dict[str, int]:
    """evaluation / compile / compile_cachehit from SHOW ENGINE QUEUE STATUS."""
    status = rows(conn, "SHOW ENGINE QUEUE STATUS")[0][2]
    found = {}
    for name in ("evaluation", "compile", "compile_cachehit"):
        m = re.search(rf"^{name}\s+(\d+)\s*$", status, re.MULTILINE)
        assert m, f"no {name!r} line in SHOW ENGINE QUEUE STATUS:\n{status}"
        found[name] = int(m.group(1))
    return found


@pytest.fixture(scope="module")
def calc(q4m_server):
    """One queue table holding exactly one row: a=5, b=-3, z=0, n=NULL (plus a VARCHAR)."""
    name = unique_name("calc")
    c = q4m_server.connect()
    try:
        create_queue(
            c, name, "a INT NOT NULL, b INT NOT NULL, z INT NOT NULL, n INT NULL, s VARCHAR(20)"
        )
        execute(c, f"INSERT INTO {name} VALUES (5, -3, 0, NULL, 'text')")
    finally:
        c.close()
    yield name
    c = q4m_server.connect()
    try:
        execute(c, f"DROP TABLE IF EXISTS {name}")
    finally:
        c.close()


# --------------------------------------------------------------------------- matching basics


def test_condition_selects_only_matching_rows(conn, make_queue):
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 10), (2, 20), (3, 30)")
    assert take(conn, t, "v = 20") == 2
    assert queue_end(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [1, 3]


def test_no_matching_row_returns_zero_and_leaves_rows_alone(conn, make_queue):
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 10), (2, 20)")
    assert wait(conn, f"{t}:v = 99", timeout=0) == 0
    assert in_owner_mode(conn)
    assert queue_end(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [1, 2]


@pytest.mark.parametrize(
    "condition,expected",
    [("7", MATCH), ("-1", MATCH), ("a", MATCH), ("0", NO_MATCH), ("z", NO_MATCH)],
)
def test_row_matches_when_the_value_is_non_zero(conn, calc, condition, expected):
    assert outcome(conn, calc, condition) == expected


@pytest.mark.parametrize("condition", ["NULL", "n", "n + 1", "n = 1 OR 0"])
def test_row_does_not_match_when_the_value_is_null(conn, calc, condition):
    assert outcome(conn, calc, condition) == NO_MATCH


@pytest.mark.parametrize(
    "condition",
    ["a=5", "a = 5", "  a  =  5  ", "a\t=\n5", "(a=5)and(b=-3)", "( a = 5 ) AND ( b = - 3 )"],
    ids=["no-space", "spaces", "padded", "tab-newline", "parens-no-space", "spaced-minus"],
)
def test_whitespace_between_tokens_is_optional(conn, calc, condition):
    assert outcome(conn, calc, condition) == MATCH


def test_condition_with_database_qualified_table(conn, calc):
    assert wait(conn, f"test.{calc}:a = 5", timeout=0) == 1
    assert owned(conn, calc, "a") == [(5,)]
    assert queue_abort(conn) == 1


def test_condition_applies_per_argument_on_different_tables(conn, make_queue):
    t1 = make_queue("id INT NOT NULL, v INT NOT NULL")
    t2 = make_queue("id INT NOT NULL, w INT NOT NULL")
    execute(conn, f"INSERT INTO {t1} VALUES (1, 1)")
    execute(conn, f"INSERT INTO {t2} VALUES (2, 2)")
    assert wait(conn, f"{t1}:v = 2", f"{t2}:w = 2", timeout=0) == 2
    assert owned(conn, t2) == [(2,)]


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    "condition,expected",
    [
        ("a = 5", MATCH),
        ("a = 6", NO_MATCH),
        ("a != 6", MATCH),
        ("a != 5", NO_MATCH),
        ("b < a", MATCH),
        ("a < 5", NO_MATCH),
        ("a <= 5", MATCH),
        ("a <= 4", NO_MATCH),
        ("a > b", MATCH),
        ("a > 5", NO_MATCH),
        ("a >= 5", MATCH),
        ("a >= 6", NO_MATCH),
        ("b < 0", MATCH),
        ("b > -4", MATCH),
    ],
)
def test_comparison_operators(conn, calc, condition, expected):
    assert outcome(conn, calc, condition) == expected


@pytest.mark.parametrize(
    "expr,value",
    [("5 > 4 > 3", 0), ("5 < 4 < 3", 1), ("3 > 2 = 1", 1), ("a > 4 > 3", 0), ("1 = 1 = 1", 1)],
)
def test_comparisons_chain_left_to_right(conn, calc, expr, value):
    """`a<b<c` is `(a<b)<c`: the 0/1 result of the first comparison is compared next."""
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr", ["NULL = NULL", "n = 1", "n != 1", "1 < NULL", "n >= n"])
def test_comparison_with_null_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    "expr,value",
    [("a + 2", 7), ("a - 7", -2), ("a * b", -15), ("b * b", 9), ("a + b - z", 2)],
)
def test_addition_subtraction_multiplication(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [("7 div 2", 3), ("-7 div 2", -3), ("7 div -2", -3), ("-7 div -2", 3), ("a div 2", 2)],
)
def test_div_is_integer_division_truncating_toward_zero(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("7 mod 3", 1),
        ("-7 mod 3", -1),
        ("a % 3", 2),
        ("b mod 2", -1),
    ],
)
def test_modulo_takes_the_sign_of_the_dividend(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("condition", ["7 DIV 2 = 3", "7 Div 2 = 3", "7 MOD 2 = 1", "7 Mod 2 = 1"])
def test_div_and_mod_must_be_lower_case(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR


@pytest.mark.parametrize("expr", ["1 div 0", "a div z", "a % 0", "a % z", "a mod 0", "a mod z"])
def test_division_and_modulo_by_zero_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


@pytest.mark.parametrize("condition", ["a div z = 0", "a % z = 0", "(a mod z) != 1", "a div 0"])
def test_division_by_zero_does_not_match(conn, calc, condition):
    assert outcome(conn, calc, condition) == NO_MATCH
    assert count(conn, calc) == 1


@pytest.mark.parametrize(
    "expr,value",
    [
        ("(-9223372036854775807 - 1) div -1", INT64_MIN),
        ("(-9223372036854775807 - 1) % -1", 0),
        ("(-9223372036854775807 - 1) mod -1", 0),
    ],
    ids=["div", "percent", "mod"],
)
def test_int64_min_divided_by_minus_one_wraps_without_crashing(q4m_server, conn, calc, expr, value):
    assert_value(conn, calc, expr, value)
    assert_server_alive(q4m_server)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("9223372036854775807 + 1", INT64_MIN),
        ("-9223372036854775807 - 2", INT64_MAX),
        ("4611686018427387904 * 2", INT64_MIN),
        ("-(-9223372036854775807 - 1)", INT64_MIN),
    ],
)
def test_overflow_wraps_around(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr", ["NULL + 1", "n - 1", "n * 0", "0 div n", "n % 2", "a mod n"])
def test_arithmetic_with_null_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


# --------------------------------------------------------------------------- bitwise and shifts


@pytest.mark.parametrize(
    "expr,value",
    [("12 | 3", 15), ("12 & 10", 8), ("12 ^ 10", 6), ("a | 2", 7), ("a & 4", 4), ("a ^ a", 0)],
)
def test_bitwise_or_and_xor(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("1 << 3", 8),
        ("a << 1", 10),
        ("256 >> 4", 16),
        ("1 << 63", INT64_MIN),
        ("-1 >> 63", -1),
        ("9223372036854775807 >> 62", 1),
    ],
)
def test_shifts(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr,value", [("-16 >> 2", -4), ("b >> 1", -2), ("-1 >> 10", -1)])
def test_right_shift_is_arithmetic(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr", ["1 << 64", "1 << 100", "1 << -1", "-1 >> 64", "a >> -1", "-1 >> 1000"]
)
def test_shift_count_outside_0_to_63_gives_zero(conn, calc, expr):
    assert_value(conn, calc, expr, 0)


@pytest.mark.parametrize("expr", ["NULL | 1", "n & 0", "n ^ 1", "n << 1", "1 >> n"])
def test_bitwise_and_shift_with_null_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


# --------------------------------------------------------------------------- unary operators


@pytest.mark.parametrize(
    "expr,value",
    [("-a", -5), ("- b", 3), ("- -a", 5), ("-(2 + 3)", -5), ("a + -2", 3), ("2 - -3", 5)],
)
def test_unary_minus(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr,value", [("~0", -1), ("~a", -6), ("~-1", 0), ("~~a", 5), ("-~0", 1)])
def test_bitwise_not(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr", ["-NULL", "-n", "~n", "~NULL"])
def test_unary_operators_on_null_give_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


# --------------------------------------------------------------------------- pow()


@pytest.mark.parametrize(
    "expr,value",
    [
        ("pow(2, 10)", 1024),
        ("pow(a, 2)", 25),
        ("pow(-2, 3)", -8),
        ("pow(b, 2)", 9),
        ("pow(7, 0)", 1),
        ("pow(0, 0)", 1),
        ("pow(2, 62)", 2**62),
        ("pow(10, 18)", 10**18),
        ("pow(1 + 1, 2 * 2)", 16),
        ("pow(pow(2, 2), 3)", 64),
    ],
)
def test_pow(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize("expr,value", [("pow(2, -1)", 0), ("pow(-2, -1)", 0), ("pow(a, -1)", 0)])
def test_pow_truncates_toward_zero(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr", ["pow(2, 63)", "pow(10, 19)", "pow(-10, 19)", "pow(10, 400)", "pow(0, -1)"]
)
def test_pow_out_of_range_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


@pytest.mark.parametrize("expr", ["pow(NULL, 2)", "pow(2, NULL)", "pow(n, 0)"])
def test_pow_of_null_is_null(conn, calc, expr):
    assert_value(conn, calc, expr, None)


@pytest.mark.parametrize(
    "condition",
    [
        "pow (2, 3) = 8",
        "pow(2) = 2",
        "pow(2, 3, 4) = 8",
        "pow() = 1",
        "pow(2 3) = 8",
        "pow(2, 3 = 8",
        "power(2, 3) = 8",
        "abs(b) = 3",
        "sqrt(4) = 2",
    ],
)
def test_pow_syntax_and_other_functions_are_errors(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR


# --------------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    "expr,value",
    [
        ("1 OR 1 XOR 1", 1),  # OR below XOR: 1 OR (1 XOR 1)
        ("1 || 1 XOR 1", 1),  # || is OR
        ("1 XOR 1 AND 0", 1),  # XOR below AND: 1 XOR (1 AND 0)
        ("1 XOR 1 && 0", 1),  # && is AND
        ("NOT 0 AND 0", 0),  # NOT applies to one comparison: (NOT 0) AND 0
        ("NOT 1 = 2", 1),  # NOT below comparisons: NOT (1 = 2)
        ("0 = 0 | 1", 0),  # comparisons below |: 0 = (0 | 1)
        ("2 | 0 IS FALSE", 0),  # IS below |: (2 | 0) IS FALSE
        ("1 | 2 & 0", 1),  # | below &: 1 | (2 & 0)
        ("6 & 1 << 2", 4),  # & below shifts: 6 & (1 << 2)
        ("1 << 1 + 1", 4),  # shifts below +: 1 << (1 + 1)
        ("2 + 3 * 4", 14),  # + below *
        ("10 - 2 * 3", 4),  # - below *
        ("1 + 8 div 2", 5),  # + below div
        ("1 + 7 % 4", 4),  # + below %
        ("1 + 7 mod 4", 4),  # + below mod
        ("2 * 3 ^ 1", 4),  # * below ^: 2 * (3 ^ 1)
        ("-1 ^ 1", -2),  # ^ below unary minus: (-1) ^ 1
        ("~1 + 1", -1),  # + below ~: (~1) + 1
        ("(2 + 3) * 4", 20),  # parentheses first
        ("NOT (0 AND 0)", 1),  # parentheses around a logical expression
    ],
)
def test_precedence_levels(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("7 * 3 div 2", 10),  # (7 * 3) div 2
        ("8 div 2 * 2", 8),  # (8 div 2) * 2
        ("7 % 4 * 2", 6),  # (7 % 4) * 2
        ("2 * 7 mod 4", 2),  # (2 * 7) mod 4
        ("19 mod 10 div 3", 3),  # (19 mod 10) div 3
    ],
)
def test_multiplicative_operators_share_one_level(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("10 - 3 - 2", 5),
        ("100 div 10 div 5", 2),
        ("16 % 5 % 3", 1),
        ("1 << 2 << 3", 32),
        ("64 >> 2 >> 1", 8),
        ("10 - 3 + 2", 9),
    ],
)
def test_binary_operators_are_left_associative(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


# --------------------------------------------------------------------------- NULL logic


@pytest.mark.parametrize(
    "expr,value",
    [
        ("NULL OR 1", 1),
        ("1 OR NULL", 1),
        ("n OR a", 1),
        ("NULL OR 0", None),
        ("0 OR NULL", None),
        ("NULL OR NULL", None),
        ("0 OR 0", 0),
        ("0 OR 7", 1),
    ],
)
def test_or_is_true_if_either_side_is_true_else_null_if_either_is_null(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("NULL AND 1", 0),
        ("1 AND NULL", 0),
        ("n AND a", 0),
        ("NULL AND 0", 0),
        ("NULL AND NULL", None),
        ("n AND n", None),
        ("1 AND 1", 1),
        ("5 AND -3", 1),
        ("1 AND 0", 0),
    ],
)
def test_and_is_null_only_when_both_sides_are_null(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


def test_not_of_null_and_true_is_true(conn, calc):
    """The spec's example of AND differing from SQL: NOT (NULL AND 1) is 1, not NULL."""
    assert outcome(conn, calc, "NOT (NULL AND 1)") == MATCH


@pytest.mark.parametrize(
    "expr,value",
    [
        ("NULL XOR 1", None),
        ("0 XOR NULL", None),
        ("n XOR a", None),
        ("1 XOR 1", 0),
        ("1 XOR 0", 1),
        ("5 XOR 3", 0),
        ("0 XOR -2", 1),
    ],
)
def test_xor_is_logical_and_propagates_null(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value", [("NOT 0", 1), ("NOT 7", 0), ("NOT a", 0), ("NOT NULL", None), ("NOT n", None)]
)
def test_not(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("NULL IS NULL", 1),
        ("n IS NULL", 1),
        ("0 IS NULL", 0),
        ("a IS NULL", 0),
        ("NULL IS NOT NULL", 0),
        ("a IS NOT NULL", 1),
        ("z IS NOT NULL", 1),
        ("5 IS TRUE", 1),
        ("-1 IS TRUE", 1),
        ("0 IS TRUE", 0),
        ("NULL IS TRUE", 0),
        ("5 IS NOT TRUE", 0),
        ("0 IS NOT TRUE", 1),
        ("NULL IS NOT TRUE", 1),
        ("0 IS FALSE", 1),
        ("5 IS FALSE", 0),
        ("NULL IS FALSE", 0),
        ("0 IS NOT FALSE", 0),
        ("5 IS NOT FALSE", 1),
        ("NULL IS NOT FALSE", 1),
        ("n IS NULL IS TRUE", 1),
    ],
)
def test_is_true_false_null_never_give_null(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "condition",
    [
        "1 or 0",
        "1 Or 0",
        "0 || 1",
        "1 and 1",
        "1 AnD 1",
        "1 && 1",
        "0 xor 1",
        "0 XoR 1",
        "not 0",
        "Not 0",
        "null is null",
        "Null Is Not True",
        "a is not false",
        "z is FALSE",
        "a iS tRuE",
        "n IS nUlL",
    ],
)
def test_keywords_are_case_insensitive(conn, calc, condition):
    assert outcome(conn, calc, condition) == MATCH


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    "expr,value",
    [
        ("42", 42),
        ("0", 0),
        ("1000000", 10**6),
        ("9223372036854775807", INT64_MAX),
        ("1234567890123456789", 1234567890123456789),
    ],
)
def test_decimal_literals(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("0x10", 16),
        ("0xff", 255),
        ("0xFF", 255),
        ("0xAbC", 0xABC),
        ("0x0", 0),
        ("0x7fffffffffffffff", INT64_MAX),
        ("0x0000000000000001", 1),
    ],
)
def test_hexadecimal_literals(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("010", 8),
        ("017", 15),
        ("0777", 511),
        ("00", 0),
        ("0777777777777777777777", INT64_MAX),
    ],
)
def test_leading_zero_means_octal(conn, calc, expr, value):
    assert_value(conn, calc, expr, value)


@pytest.mark.parametrize(
    "condition",
    [
        "9223372036854775808 > 0",
        "18446744073709551616 > 0",
        "99999999999999999999 > 0",
        "123456789012345678901234567890 > 0",
        "0x10000000000000000 > 0",
        "01000000000000000000000 > 0",
        "077777777777777777777777 > 0",
    ],
    ids=[
        "int64max+1",
        "2^64",
        "20-digits",
        "30-digits",
        "17-hex-digits",
        "octal-2^63",
        "octal-huge",
    ],
)
def test_literal_out_of_range_is_an_error(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR


@pytest.mark.parametrize(
    "condition",
    [
        "08 = 8",
        "09 = 9",
        "0x = 0",
        "0xg = 0",
        "0x1g = 1",
        "12abc = 12",
        "1.5 > 1",
        "1e3 > 1",
        ".5 > 0",
    ],
)
def test_malformed_literals_are_errors(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR


# --------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    "condition",
    [
        "a <> 6",
        "a == 5",
        "!z",
        "a = !0",
        "a BETWEEN 1 AND 9",
        "a IN (5)",
        "a IN (4, 5)",
        "s LIKE 'text'",
        "a LIKE 5",
        "s = 'text'",
        'a = "5"',
        "a = '5'",
        "a = ?",
        "a = @x",
        "a = :x",
        "TRUE",
        "FALSE",
        "a = TRUE",
        "a =",
        "= 5",
        "(a = 5",
        "a = 5)",
        "((a = 5)",
        "()",
        "a = = 5",
        "a 5",
        "a = 5 b = -3",
        "a = 5;",
        "a = 5; DELETE FROM t",
        "NOT NOT a",
        "a = NOT 0",
        "a IS 1",
        "a IS",
        "a IS NOT",
        "a IS NOT 5",
        "a IS UNKNOWN",
        "a = 5 AND",
        "OR a = 5",
        "a = 5 OR OR 1",
        "a + + ",
        "a * / 2",
        "a / 2 = 2",
        "a === 5",
        "a <=> 5",
        "a => 5",
        "a := 5",
        "a = 5 # comment",
        "a = 5 /* comment */",
        "`a",
        "``",
        "a.b = 1",
        "test.a = 5",
        "a[0] = 5",
        "{a} = 5",
        "a = 5 AND DIV 2",
        "div = 1",
        "mod",
        " ",
        "\t\n",
        "a ≠ 6",
        "a = 5\x00",
        "a = 5\x00 OR 1",
    ],
)
def test_syntax_errors_give_null(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR
    assert not in_owner_mode(conn)
    assert count(conn, calc) == 1


def test_error_in_any_argument_gives_null_even_if_another_would_match(conn, calc):
    assert wait(conn, f"{calc}:a = 5", f"{calc}:a <> 5", timeout=0) is None
    assert not in_owner_mode(conn)


def test_condition_error_still_consumes_the_previously_owned_row(conn, make_queue):
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 1), (2, 1)")
    assert take(conn, t, "v = 1") == 1
    assert wait(conn, f"{t}:v = = 1", timeout=0) is None
    assert not in_owner_mode(conn)
    assert column(conn, f"SELECT id FROM {t}") == [2]


def test_empty_condition_gives_null(conn, calc):
    assert wait(conn, f"{calc}:", timeout=0) is None
    assert not in_owner_mode(conn)


# --------------------------------------------------------------------------- column names


@pytest.fixture
def named(conn, make_queue):
    """Columns whose names share prefixes, in mixed case, one needing back-quotes."""
    t = make_queue("prio_high INT NOT NULL, Prio INT NOT NULL, `my prio` INT NOT NULL, id INT")
    execute(conn, f"INSERT INTO {t} VALUES (100, 3, 7, 1)")
    return t


@pytest.mark.parametrize(
    "condition",
    ["Prio = 3", "prio = 3", "PRIO = 3", "pRiO = 3", "`Prio` = 3", "`prio` = 3", "`PRIO` = 3"],
)
def test_column_names_match_case_insensitively(conn, named, condition):
    assert outcome(conn, named, condition) == MATCH


@pytest.mark.parametrize("condition", ["`my prio` = 7", "`MY PRIO` = 7", "`prio_high` = 100"])
def test_back_quoted_column_names(conn, named, condition):
    assert outcome(conn, named, condition) == MATCH


@pytest.mark.parametrize(
    "condition",
    ["`pri` = 3", "pri = 3", "`p` = 3", "`prio_h` = 100", "prio_ = 100", "`my` = 7", "`i` = 1"],
)
def test_column_names_never_match_a_prefix(conn, named, condition):
    assert outcome(conn, named, condition) == ERROR


@pytest.mark.parametrize("condition", ["priority = 3", "`prio_highest` = 100", "`my prio2` = 7"])
def test_column_names_never_match_a_longer_name(conn, named, condition):
    assert outcome(conn, named, condition) == ERROR


def test_exact_name_wins_over_an_earlier_column_it_prefixes(conn, named):
    """`prio` is the second column, not the first one whose name starts with "prio"."""
    assert outcome(conn, named, "`prio` = 100") == NO_MATCH
    assert outcome(conn, named, "prio = 100") == NO_MATCH
    assert outcome(conn, named, "prio = 3 AND `prio` = 3") == MATCH


@pytest.mark.parametrize(
    "condition",
    [
        "notes = 1",
        "isbn = 2",
        "nullable = 3",
        "order_id = 4",
        "android = 5",
        "divisor = 6",
        "modulo = 7",
        "pow = 8",
        "xorval = 9",
        "trueish = 10",
        "falsey = 11",
        "is_not = 12",
        "a$b = 13",
        "12 div divisor = 2",
        "15 mod modulo = 1",
        "pow(pow, 2) = 64",
        "not notes = 2 and isbn is not null",
    ],
)
def test_column_names_starting_with_a_keyword_need_no_back_quotes(conn, make_queue, condition):
    t = make_queue(
        "notes INT, isbn INT, nullable INT, order_id INT, android INT, divisor INT, modulo INT, "
        "pow INT, xorval INT, trueish INT, falsey INT, is_not INT, a$b INT"
    )
    execute(conn, f"INSERT INTO {t} VALUES (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)")
    assert outcome(conn, t, condition) == MATCH


@pytest.mark.parametrize("condition", ["`1st` = 1", "`größe` = 2", "`a-b` = 3"])
def test_back_quoted_names_that_are_not_plain_identifiers(conn, make_queue, condition):
    t = make_queue("`1st` INT, `größe` INT, `a-b` INT")
    execute(conn, f"INSERT INTO {t} VALUES (1, 2, 3)")
    assert outcome(conn, t, condition) == MATCH


def test_non_ascii_column_names_match_case_insensitively(conn, make_queue):
    """The server itself accepts `GRÖßE` for a column named `größe` (column names are
    case-insensitive in every character set); the condition language must too."""
    t = make_queue("`größe` INT, id INT")
    execute(conn, f"INSERT INTO {t} VALUES (2, 1)")
    assert one(conn, f"SELECT `GRÖßE` FROM {t}") == 2
    assert outcome(conn, t, "`GRÖßE` = 2") == MATCH


@pytest.mark.parametrize("condition", ["nosuch = 1", "`nosuch` = 1", "a = 5 OR nosuch = 1"])
def test_unknown_column_gives_null(conn, calc, condition):
    assert outcome(conn, calc, condition) == ERROR


@pytest.fixture
def keyword_named(conn, make_queue):
    t = make_queue(
        "`and` INT NOT NULL, x INT NOT NULL, `not` INT NOT NULL, `is` INT NOT NULL, "
        "`null` INT NOT NULL, y INT NOT NULL, `true` INT, z INT"
    )
    execute(conn, f"INSERT INTO {t} VALUES (11, 22, 33, 44, 55, 66, 77, 88)")
    return t


@pytest.mark.parametrize(
    "condition",
    ["`and` = 11", "`not` = 33", "`is` = 44", "`null` = 55", "`true` = 77", "`AND` = 11"],
)
def test_keyword_named_column_can_be_back_quoted(conn, keyword_named, condition):
    assert outcome(conn, keyword_named, condition) == MATCH


@pytest.mark.parametrize("condition", ["x = 22", "y = 66", "z = 88", "x + y + z = 176"])
def test_keyword_named_columns_do_not_shift_other_columns(conn, keyword_named, condition):
    assert outcome(conn, keyword_named, condition) == MATCH


@pytest.mark.parametrize("condition", ["and = 11", "not = 33", "is = 44", "true = 77"])
def test_keyword_named_column_must_be_back_quoted(conn, keyword_named, condition):
    assert outcome(conn, keyword_named, condition) == ERROR


def test_bare_null_is_the_null_literal_not_a_column_named_null(conn, keyword_named):
    assert outcome(conn, keyword_named, "null = 55") == NO_MATCH
    assert outcome(conn, keyword_named, "null IS NULL") == MATCH


@pytest.mark.parametrize(
    "type_sql,value",
    [
        ("CHAR(10)", "'7'"),
        ("VARCHAR(20)", "'7'"),
        ("BINARY(4)", "'7'"),
        ("VARBINARY(8)", "'7'"),
        ("TEXT", "'7'"),
        ("BLOB", "'7'"),
        ("FLOAT", "7"),
        ("DOUBLE", "7"),
        ("DECIMAL(10,2)", "7"),
        ("DATETIME", "'2024-01-01 00:00:07'"),
        ("DATETIME(6)", "'2024-01-01 00:00:07.5'"),
        ("TIMESTAMP NULL", "'2024-01-01 00:00:07'"),
        ("TIME", "'00:00:07'"),
        ("YEAR", "2007"),
        ("BIT(8)", "7"),
        ("BIT(1)", "1"),
        ("ENUM('x','y')", "'y'"),
        ("SET('x','y')", "'x'"),
        ("JSON", "'7'"),
    ],
)
def test_non_integer_column_gives_null(conn, make_queue, type_sql, value):
    t = make_queue(f"c {type_sql}, id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES ({value}, 1)")
    assert outcome(conn, t, "id = 1") == MATCH
    assert outcome(conn, t, "c = 7") == ERROR
    assert outcome(conn, t, "c IS NULL OR 1") == ERROR


# --------------------------------------------------------------------------- column types


@pytest.mark.parametrize(
    "type_sql,value",
    [
        ("TINYINT", -128),
        ("TINYINT", 127),
        ("TINYINT UNSIGNED", 255),
        ("SMALLINT", -32768),
        ("SMALLINT", 32767),
        ("SMALLINT UNSIGNED", 65535),
        ("MEDIUMINT", -8388608),
        ("MEDIUMINT", 8388607),
        ("MEDIUMINT", -1),
        ("MEDIUMINT UNSIGNED", 16777215),
        ("INT", -2147483648),
        ("INT", 2147483647),
        ("INT UNSIGNED", 4294967295),
        ("BIGINT", INT64_MIN),
        ("BIGINT", INT64_MAX),
        ("BIGINT", -2),
        ("BIGINT UNSIGNED", INT64_MAX),
        ("BOOL", 1),
        ("BOOLEAN", 0),
    ],
)
def test_integer_column_value_is_read_exactly(conn, make_queue, type_sql, value):
    t = make_queue(f"c {type_sql} NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (%s)", (value,))
    assert outcome(conn, t, f"c = {literal(value)}") == MATCH
    assert outcome(conn, t, f"c != {literal(value)}") == NO_MATCH


@pytest.mark.parametrize(
    "type_sql,value",
    [
        ("TINYINT UNSIGNED", 200),
        ("SMALLINT UNSIGNED", 40000),
        ("MEDIUMINT UNSIGNED", 9000000),
        ("INT UNSIGNED", 4000000000),
        ("INT UNSIGNED", 4294967295),
    ],
)
def test_unsigned_column_above_the_signed_maximum_is_positive(conn, make_queue, type_sql, value):
    t = make_queue(f"c {type_sql} NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (%s)", (value,))
    assert outcome(conn, t, "c > 0") == MATCH
    assert outcome(conn, t, f"c = {value}") == MATCH
    assert outcome(conn, t, "c < 0") == NO_MATCH


def test_int_unsigned_4000000000_is_greater_than_zero(conn, make_queue):
    t = make_queue("id INT NOT NULL, u INT UNSIGNED NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 5), (2, 4000000000)")
    assert take(conn, t, "u > 100") == 2


@pytest.mark.parametrize("type_sql", ["TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT"])
def test_signed_column_negative_value_is_negative(conn, make_queue, type_sql):
    t = make_queue(f"c {type_sql} NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (-100)")
    assert outcome(conn, t, "c < 0") == MATCH
    assert outcome(conn, t, "c = -100") == MATCH


def test_nullable_column_reads_as_null_when_null(conn, make_queue):
    t = make_queue("id INT NOT NULL, n INT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, NULL), (2, 7), (3, NULL)")
    assert take(conn, t, "n IS NULL") == 1
    assert take(conn, t, "n IS NOT NULL") == 2
    assert take(conn, t, "n IS NULL") == 3
    assert queue_end(conn) == 1


def test_null_column_value_does_not_match_a_comparison(conn, make_queue):
    t = make_queue("id INT NOT NULL, n INT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, NULL), (2, 7)")
    assert take(conn, t, "n != 5") == 2
    assert wait(conn, f"{t}:n != 5", timeout=0) == 0
    assert queue_end(conn) == 1
    assert count(conn, t) == 1


def test_column_after_null_columns_is_read_correctly(conn, make_queue):
    """NULL columns store nothing: the columns after them must still be found."""
    t = make_queue("v VARCHAR(20) NULL, n BIGINT NULL, b BLOB NULL, id INT NOT NULL")
    execute(
        conn,
        f"INSERT INTO {t} VALUES (NULL, NULL, NULL, 1), ('x', NULL, 'b', 2), "
        "(NULL, 5, NULL, 3), ('yy', 6, NULL, 4)",
    )
    assert take(conn, t, "id = 3") == 3
    assert take(conn, t, "id = 1") == 1
    assert take(conn, t, "n = 6") == 4
    assert take(conn, t, "id = 2") == 2
    assert queue_end(conn) == 1


def test_column_after_varchar_and_blob_columns(conn, make_queue):
    t = make_queue(
        "v1 VARCHAR(10) NOT NULL, v2 VARCHAR(300) NOT NULL, b BLOB NOT NULL, "
        "tx MEDIUMTEXT NOT NULL, id INT NOT NULL"
    )
    execute(
        conn,
        f"INSERT INTO {t} VALUES ('', '', '', '', 1), ('abc', REPEAT('x', 300), "
        f"REPEAT('b', 60000), REPEAT('t', 100000), 2), ('z', 'short', 'b', '', 3)",
    )
    assert take(conn, t, "id = 2") == 2
    assert take(conn, t, "id >= 0") == 1
    assert take(conn, t, "id >= -1") == 3
    assert queue_end(conn) == 1


def test_column_after_other_fixed_size_columns(conn, make_queue):
    t = make_queue(
        "c CHAR(10), d DECIMAL(30,10), f FLOAT, g DOUBLE, dt DATETIME(6), tm TIME, y YEAR, "
        "bits BIT(13), e ENUM('a','b'), st SET('x','y'), bn BINARY(3), id INT NOT NULL"
    )
    execute(
        conn,
        f"INSERT INTO {t} VALUES ('abc', 1.5, 2.5, 3.5, '2024-01-01 00:00:00.5', '12:00:00', "
        "2024, b'1010101010101', 'b', 'x,y', 'abc', 1), "
        "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2)",
    )
    assert take(conn, t, "id = 2") == 2
    assert take(conn, t, "id = 1") == 1
    assert queue_end(conn) == 1


def test_several_integer_columns_of_every_width(conn, make_queue):
    t = make_queue(
        "t1 TINYINT, s2 SMALLINT UNSIGNED, v VARCHAR(5), m3 MEDIUMINT, i4 INT, b8 BIGINT, id INT"
    )
    execute(conn, f"INSERT INTO {t} VALUES (-1, 60000, 'x', -70000, 123456789, -5000000000, 1)")
    assert (
        outcome(
            conn,
            t,
            "t1 = -1 AND s2 = 60000 AND m3 = -70000 AND i4 = 123456789 AND b8 = -5000000000",
        )
        == MATCH
    )


@pytest.mark.parametrize(
    "condition,expected_id",
    [
        ("d = 15 + 32 * 3 + 512 * 2024", 1),
        ("d < 2000 * 512", 2),
        ("d IS NULL", 3),
        ("d >> 9 = 2024", 1),
        ("(d >> 5) & 15 = 12", 2),
        ("d & 31 = 31", 2),
    ],
)
def test_date_column_is_its_packed_value(conn, make_queue, condition, expected_id):
    """DATE reads as day + 32 * month + 512 * year."""
    t = make_queue("d DATE NULL, id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES ('2024-03-15', 1), ('1999-12-31', 2), (NULL, 3)")
    assert take(conn, t, condition) == expected_id


# --------------------------------------------------------------------------- priority and order


def test_same_table_conditions_give_priority_by_argument_order(conn, make_queue):
    t = make_queue("id INT NOT NULL, prio INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 1), (2, 0), (3, 1)")
    assert wait(conn, f"{t}:prio=0", f"{t}:prio=1", timeout=0) == 1
    assert owned(conn, t, "id, prio") == [(2, 0)]
    assert wait(conn, f"{t}:prio=0", f"{t}:prio=1", timeout=0) == 2
    assert owned(conn, t, "id, prio") == [(1, 1)]


def test_blocked_waiter_woken_by_three_row_insert_gets_the_higher_priority_row(connect, make_queue):
    """TEST 09-pqueue-single-table-wake-listener: INSERT (1,1),(2,0),(3,1) wakes a waiter
    on prio=0 then prio=1 with row (2,0), not the older (1,1)."""
    waiter, producer = connect(), connect()
    t = make_queue("id INT NOT NULL, prio INT NOT NULL")
    bg = start_wait(waiter, f"{t}:prio=0", f"{t}:prio=1", timeout=20, fetch_owned_from=t)
    wait_until_blocked(producer, [waiter])
    execute(producer, f"INSERT INTO {t} VALUES (1, 1), (2, 0), (3, 1)")
    bg.join(15)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(2, 0)]


def test_second_condition_wins_when_the_first_has_no_row(conn, make_queue):
    t = make_queue("id INT NOT NULL, prio INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 1), (2, 1)")
    assert wait(conn, f"{t}:prio=0", f"{t}:prio=1", timeout=0) == 2
    assert owned(conn, t) == [(1,)]


def test_fifo_order_within_a_condition(conn, make_queue):
    t = make_queue("id INT NOT NULL, kind INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 1), (2, 0), (3, 1)")
    execute(conn, f"INSERT INTO {t} VALUES (4, 0), (5, 1)")
    execute(conn, f"INSERT INTO {t} VALUES (6, 0)")
    execute(conn, f"INSERT INTO {t} VALUES (7, 1), (8, 0)")
    got = [take(conn, t, "kind = 1") for _ in range(4)]
    assert wait(conn, f"{t}:kind = 1", timeout=0) == 0
    got += [take(conn, t, "kind = 0") for _ in range(4)]
    assert queue_end(conn) == 1
    assert got == [1, 3, 5, 7, 2, 4, 6, 8]
    assert count(conn, t) == 0


def test_rows_skipped_by_a_condition_stay_available_in_order(conn, make_queue):
    t = make_queue("id INT NOT NULL, kind INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 0), (2, 1), (3, 0), (4, 1)")
    assert take(conn, t, "kind = 1") == 2
    assert wait(conn, t, timeout=0) == 1
    assert owned(conn, t) == [(1,)]
    assert wait(conn, t, timeout=0) == 1
    assert owned(conn, t) == [(3,)]


# --------------------------------------------------------------------------- blocking waiters


def test_blocked_conditional_waiter_is_not_woken_by_non_matching_rows(connect, make_queue):
    waiter, producer = connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    bg = start_wait(waiter, f"{t}:v = 2", timeout=20, fetch_owned_from=t)
    wait_until_blocked(producer, [waiter])
    execute(producer, f"INSERT INTO {t} VALUES (1, 1)")
    execute(producer, f"INSERT INTO {t} VALUES (2, 3), (3, 1)")
    time.sleep(1.0)
    assert not bg.done, f"the waiter on v = 2 returned {bg.result!r} on non-matching rows"
    assert count(producer, t) == 3
    assert column(producer, f"SELECT id FROM {t}") == [1, 2, 3]
    execute(producer, f"INSERT INTO {t} VALUES (4, 2)")
    bg.join(15)
    assert bg.result == 1
    assert bg.owned_rows == [(4, 2)]


def test_blocked_conditional_waiter_is_woken_by_a_matching_row(connect, make_queue):
    waiter, producer = connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(producer, f"INSERT INTO {t} VALUES (1, 1)")
    bg = start_wait(waiter, f"{t}:v = 2", timeout=20, fetch_owned_from=t)
    wait_until_blocked(producer, [waiter])
    start = time.monotonic()
    execute(producer, f"INSERT INTO {t} VALUES (2, 3), (3, 2), (4, 2)")
    bg.join(15)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(3, 2)]
    assert bg.finished_at - start < 5.0
    assert column(producer, f"SELECT id FROM {t}") == [1, 2, 4]


def test_blocked_conditional_waiter_times_out_with_zero_when_nothing_matches(connect, make_queue):
    waiter, producer = connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    bg = start_wait(waiter, f"{t}:v = 2", timeout=2)
    wait_until_blocked(producer, [waiter])
    execute(producer, f"INSERT INTO {t} VALUES (1, 1)")
    bg.join(10)
    assert bg.error is None
    assert bg.result == 0
    assert bg.finished_at - bg.started_at >= 1.9
    assert count(producer, t) == 1


def test_plain_waiter_gets_the_row_a_conditional_waiter_does_not_want(connect, make_queue):
    picky, plain, producer = connect(), connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    bg_picky = start_wait(picky, f"{t}:v = 2", timeout=20, fetch_owned_from=t)
    wait_until_blocked(producer, [picky])
    bg_plain = start_wait(plain, t, timeout=20, fetch_owned_from=t)
    wait_until_blocked(producer, [plain])
    execute(producer, f"INSERT INTO {t} VALUES (1, 1)")
    bg_plain.join(15)
    assert bg_plain.result == 1
    assert bg_plain.owned_rows == [(1, 1)]
    assert not bg_picky.done
    execute(producer, f"INSERT INTO {t} VALUES (2, 2)")
    bg_picky.join(15)
    assert bg_picky.result == 1
    assert bg_picky.owned_rows == [(2, 2)]


def test_each_blocked_waiter_gets_the_row_matching_its_own_condition(connect, make_queue):
    producer = connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    waiters = [connect() for _ in range(4)]
    bgs = [
        start_wait(w, f"{t}:v = {k}", timeout=20, fetch_owned_from=t) for k, w in enumerate(waiters)
    ]
    wait_until_blocked(producer, waiters)
    execute(producer, f"INSERT INTO {t} VALUES (10, 3), (11, 9), (12, 1), (13, 0), (14, 2)")
    for bg in bgs:
        bg.join(15)
        assert bg.error is None
    assert [bg.result for bg in bgs] == [1, 1, 1, 1]
    assert [bg.owned_rows for bg in bgs] == [[(13, 0)], [(12, 1)], [(14, 2)], [(10, 3)]]
    assert column(producer, f"SELECT id FROM {t}") == [11]


def test_blocked_waiter_keeps_its_condition_while_many_others_are_compiled(connect, make_queue):
    """The per-table cache of compiled conditions is bounded; a waiter's condition must
    survive it being emptied."""
    waiter, other = connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(other, f"INSERT INTO {t} VALUES (1, 0)")
    bg = start_wait(waiter, f"{t}:v = 77", timeout=30, fetch_owned_from=t)
    wait_until_blocked(other, [waiter])
    for k in range(250):
        assert outcome(other, t, f"v = {1000 + k}") == NO_MATCH
    execute(other, f"INSERT INTO {t} VALUES (2, 77)")
    bg.join(15)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(2, 77)]


# --------------------------------------------------------------------------- abort


def test_aborted_row_is_delivered_again_to_a_matching_condition(conn, make_queue):
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 0), (2, 1), (3, 1)")
    assert take(conn, t, "v = 1") == 2
    assert queue_abort(conn) == 1
    assert take(conn, t, "v = 1") == 2


def test_aborted_row_wakes_a_blocked_matching_waiter(connect, make_queue):
    owner, waiter, observer = connect(), connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(owner, f"INSERT INTO {t} VALUES (1, 0), (2, 1)")
    assert take(owner, t, "v = 1") == 2
    bg = start_wait(waiter, f"{t}:v = 1", timeout=20, fetch_owned_from=t)
    wait_until_blocked(observer, [waiter])
    assert queue_abort(owner) == 1
    bg.join(15)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(2, 1)]


def test_aborted_row_is_not_given_to_a_non_matching_condition(connect, make_queue):
    owner, waiter, observer = connect(), connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(owner, f"INSERT INTO {t} VALUES (1, 1)")
    assert take(owner, t, "v = 1") == 1
    bg = start_wait(waiter, f"{t}:v = 2", timeout=3)
    wait_until_blocked(observer, [waiter])
    assert queue_abort(owner) == 1
    bg.join(10)
    assert bg.result == 0
    assert count(observer, t) == 1


def test_row_released_by_disconnect_goes_to_a_blocked_matching_waiter(connect, make_queue):
    owner, waiter, observer = connect(), connect(), connect()
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(owner, f"INSERT INTO {t} VALUES (1, 0), (2, 1)")
    assert take(owner, t, "v = 1") == 2
    bg = start_wait(waiter, f"{t}:v = 1", timeout=20, fetch_owned_from=t)
    wait_until_blocked(observer, [waiter])
    owner.close()
    bg.join(15)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(2, 1)]


# --------------------------------------------------------------------------- ALTER TABLE, restart


def test_condition_after_alter_add_column_first_reads_the_new_layout(conn, make_queue):
    t = make_queue("id INT NOT NULL, v VARCHAR(20) NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a'), (2, 'bb'), (3, 'ccc')")
    assert take(conn, t, "id = 2") == 2  # compiled (and cached) for the old layout
    assert queue_abort(conn) == 1
    execute(conn, f"ALTER TABLE {t} ADD COLUMN pre VARCHAR(50) NOT NULL DEFAULT 'xxxxx' FIRST")
    assert take(conn, t, "id = 2") == 2
    assert take(conn, t, "id = 3") == 3
    assert queue_end(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [1]


def test_column_added_by_alter_is_usable_in_conditions(conn, make_queue):
    t = make_queue("id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1), (2)")
    assert outcome(conn, t, "prio = 0") == ERROR
    execute(conn, f"ALTER TABLE {t} ADD COLUMN prio INT NOT NULL DEFAULT 4")
    execute(conn, f"INSERT INTO {t} VALUES (3, 9)")
    assert take(conn, t, "prio = 9") == 3
    assert take(conn, t, "prio = 4") == 1


def test_column_dropped_by_alter_is_unknown_in_conditions(conn, make_queue):
    t = make_queue("id INT NOT NULL, prio INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 1)")
    assert outcome(conn, t, "prio = 1") == MATCH
    execute(conn, f"ALTER TABLE {t} DROP COLUMN prio")
    assert outcome(conn, t, "prio = 1") == ERROR
    assert outcome(conn, t, "id = 1") == MATCH


def test_condition_after_alter_changing_column_types(conn, make_queue):
    t = make_queue("flag TINYINT NOT NULL, id SMALLINT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, -2), (0, 300)")
    assert outcome(conn, t, "id = 300") == MATCH
    execute(conn, f"ALTER TABLE {t} MODIFY id BIGINT NOT NULL, MODIFY flag VARCHAR(5) NOT NULL")
    assert take(conn, t, "id = 300") == 300
    assert take(conn, t, "id < 0") == -2
    assert outcome(conn, t, "flag = 1") == ERROR


def test_blocked_conditional_waiter_gets_a_matching_row_inserted_after_alter(connect, make_queue):
    waiter, other = connect(), connect()
    t = make_queue("id INT NOT NULL")
    execute(other, f"INSERT INTO {t} VALUES (1)")
    bg = start_wait(waiter, f"{t}:id = 5", timeout=30, fetch_owned_from=t)
    wait_until_blocked(other, [waiter])
    execute(other, f"ALTER TABLE {t} ADD COLUMN pre VARCHAR(20) NOT NULL DEFAULT 'zz' FIRST")
    execute(other, f"INSERT INTO {t} VALUES ('a', 4), ('b', 5)")
    bg.join(20)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [("b", 5)]


def test_condition_after_truncate(conn, make_queue):
    t = make_queue("v VARCHAR(10) NOT NULL, id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES ('a', 1), ('b', 2)")
    assert outcome(conn, t, "id = 2") == MATCH
    execute(conn, f"TRUNCATE TABLE {t}")
    assert outcome(conn, t, "id = 2") == NO_MATCH
    execute(conn, f"INSERT INTO {t} VALUES ('cc', 3), ('d', 2)")
    assert take(conn, t, "id = 2") == 2


@pytest.mark.timeout(180)
@pytest.mark.parametrize("how", ["clean-restart", "kill9"])
def test_condition_after_server_restart_before_any_select(crash_server, how):
    c = crash_server.connect()
    t = create_queue(
        c, unique_name("cond_restart"), "v VARCHAR(100) NOT NULL, prio INT NOT NULL, id INT"
    )
    execute(c, f"INSERT INTO {t} VALUES ('first', 1, 1), ('second-one', 0, 2), ('x', 1, 3)")
    c.close()
    if how == "kill9":
        crash_server.kill9()
        crash_server.start()
    else:
        crash_server.restart()
    c = crash_server.connect()
    try:
        assert wait(c, f"{t}:prio = 0", timeout=0) == 1
        assert one(c, f"SELECT id FROM {t}") == 2
    finally:
        c.close()


# --------------------------------------------------------------------------- long and deep


def test_1000_character_condition_is_evaluated(q4m_server, conn, calc):
    cond = " AND ".join(["a = 5"] * 100)
    cond += " " * (1000 - len(cond))
    assert len(cond) == 1000
    assert outcome(conn, calc, cond) == MATCH
    assert_server_alive(q4m_server)


def test_condition_longer_than_1024_bytes_is_evaluated(conn, calc):
    """Only the table part of a spec is limited (2 x FN_REFLEN); the condition is not, and
    an OR list is how a client spells IN (...)."""
    cond = " OR ".join(f"a = {k}" for k in range(1000, 1200)) + " OR a = 5"
    assert len(cond) > 2000
    assert outcome(conn, calc, cond) == MATCH


def test_1000_character_garbage_condition_gives_null(q4m_server, conn, calc):
    cond = ("a = 5 ) ( %% ~ `x" * 100)[:1000]
    assert outcome(conn, calc, cond) == ERROR
    assert_server_alive(q4m_server)


def test_flat_expression_of_over_300_terms_is_evaluated(conn, calc):
    cond = "+".join(["1"] * 300) + " = 300"
    assert outcome(conn, calc, cond) == MATCH


def test_moderately_nested_parentheses_are_evaluated(conn, calc):
    depth = 40
    cond = "(" * depth + "a" + ")" * depth + " = 5"
    assert outcome(conn, calc, cond) == MATCH


def test_nested_expression_needing_a_deep_stack_is_evaluated(conn, calc):
    """1 + (1 + (1 + ...)) keeps 40 pending values: more than a trivial evaluation stack."""
    depth = 40
    cond = "1 + (" * depth + "1" + ")" * depth + f" = {depth + 1}"
    assert outcome(conn, calc, cond) == MATCH


@pytest.mark.parametrize("depth", [100, 500])
def test_parentheses_nested_deeper_than_64_levels_give_null(q4m_server, conn, calc, depth):
    cond = "(" * depth + "a" + ")" * depth + " = 5"
    assert outcome(conn, calc, cond) == ERROR
    assert_server_alive(q4m_server)


@pytest.mark.parametrize(
    "cond",
    [
        "(" * 1000,
        "(" * 999 + "a",
        "-" * 999 + "1",
        "~" * 999 + "1",
        "-~" * 499 + "1",
        "pow(" * 250,
        "pow(1," * 130 + "1" + ")" * 130,
        "NOT (" * 150 + "1" + ")" * 150,
        "a = 5 OR (" * 90 + "1" + ")" * 90,
    ],
    ids=[
        "open-parens",
        "open-parens-a",
        "minus",
        "tilde",
        "minus-tilde",
        "pow-open",
        "pow-nested",
        "not-nested",
        "or-nested",
    ],
)
def test_deeply_nested_conditions_do_not_crash_the_server(q4m_server, conn, calc, cond):
    assert len(cond) <= 1000
    assert outcome(conn, calc, cond) in (MATCH, NO_MATCH, ERROR)
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- statistics


def test_compile_counter_increases_for_a_new_condition(conn, calc):
    before = conditional_counters(conn)
    assert outcome(conn, calc, f"a = 5 AND b != {time.monotonic_ns()}") == MATCH
    after = conditional_counters(conn)
    assert after["compile"] >= before["compile"] + 1


def test_compile_cachehit_counter_increases_when_a_condition_is_reused(conn, make_queue):
    t = make_queue("id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1)")
    assert outcome(conn, t, "id = 1") == MATCH
    before = conditional_counters(conn)
    assert outcome(conn, t, "id = 1") == MATCH
    assert outcome(conn, t, "id = 1") == MATCH
    after = conditional_counters(conn)
    assert after["compile_cachehit"] >= before["compile_cachehit"] + 2
    assert after["compile"] == before["compile"]


def test_condition_is_evaluated_at_most_once_per_row(conn, make_queue):
    """Spec 4.3: each compiled condition keeps a scan cursor, so polling again does not
    evaluate the rows it has already rejected; only a new row is evaluated."""
    t = make_queue("id INT NOT NULL, v INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)")
    assert outcome(conn, t, "v = 1") == NO_MATCH
    before = conditional_counters(conn)["evaluation"]
    assert outcome(conn, t, "v = 1") == NO_MATCH
    again = conditional_counters(conn)["evaluation"]
    execute(conn, f"INSERT INTO {t} VALUES (6, 0)")
    assert outcome(conn, t, "v = 1") == NO_MATCH
    after_insert = conditional_counters(conn)["evaluation"]
    assert (again - before, after_insert - again) == (0, 1)


def test_evaluation_counter_increases_with_the_rows_examined(conn, make_queue):
    t = make_queue("id INT NOT NULL")
    execute(conn, f"INSERT INTO {t} VALUES (1), (2), (3)")
    before = conditional_counters(conn)
    assert outcome(conn, t, "id = 99") == NO_MATCH
    after = conditional_counters(conn)
    assert after["evaluation"] >= before["evaluation"] + 3
