"""Rewrites of Redshift string, comparison and pattern-matching constructs that sqlglot transpiles wrongly for DuckDB,
and the one list of this branch's rewrites (with redshift_rewrites_numeric and redshift_rewrites_json).

Each rewrite changes a parsed Redshift statement in place so that DuckDB returns what Redshift's SQL reference
documents (checked by the corpus in tests/sql_corpus), or raises NotSupportedLocally where it cannot. They run
after ``redshift_support.refuse_unsupported``; the functions sqlglot does not know that are rewritten here are
listed in REWRITTEN_FUNCTIONS so that the refusal lets them through.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from framework.warehouse import redshift_rewrites_json as json
from framework.warehouse import redshift_rewrites_numeric as numeric
from framework.warehouse.errors import NotSupportedLocally
from framework.warehouse.expression_builders import TEXT_TYPES, as_text, call, case, int_literal, string_literal

_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
_ASSIGNING = (exp.Update, exp.SetItem, exp.OnConflict)


def _is_text(value: exp.Expression) -> exp.Expression:
    """``typeof(value) = 'VARCHAR'``: DuckDB folds it while planning, so the CASE around it costs nothing (a join
    on it stays a hash join)."""
    return exp.EQ(this=call("TYPEOF", value.copy()), expression=exp.Literal.string("VARCHAR"))


def _rtrim(value: exp.Expression) -> exp.Expression:
    text = string_literal(value)
    if text is not None:
        return exp.Literal.string(text.rstrip(" "))
    # the cast lets DuckDB bind the branch for a value of another type, which the CASE then never takes
    return exp.Trim(this=as_text(value.copy()), expression=exp.Literal.string(" "), position="TRAILING")


def _may_be_text(value: exp.Expression) -> bool:
    if isinstance(value, exp.Literal):
        return value.is_string
    return not isinstance(value, (exp.Null, exp.Boolean, exp.Neg)) and not value.find(exp.Query)


def _decode_as_case(node: exp.DecodeCase) -> exp.Expression:
    """DECODE(x, search, result, ..., default) as a searched CASE; a NULL search matches a NULL x."""
    subject, *pairs = [arg.copy() for arg in node.expressions]
    default = pairs.pop() if len(pairs) % 2 else None
    ifs = []
    for search, result in zip(pairs[::2], pairs[1::2], strict=True):
        if isinstance(search, exp.Null):
            condition: exp.Expression = exp.Is(this=subject.copy(), expression=exp.Null())
        else:
            condition = exp.EQ(this=subject.copy(), expression=search)
            if not isinstance(search, exp.Literal):
                both_null = exp.and_(exp.Is(this=subject.copy(), expression=exp.Null()),
                                     exp.Is(this=search.copy(), expression=exp.Null()))
                condition = exp.or_(condition, both_null)
        ifs.append(exp.If(this=condition, true=result))
    return exp.Case(ifs=ifs, default=default)


def _as_comparisons(expression: exp.Expression) -> None:
    """Simple CASE, DECODE and NULLIF compare with ``=``: written as searched CASEs so that their comparisons are
    those of trailing_blanks_insignificant."""
    for node in list(expression.find_all(exp.Case)):
        subject = node.args.get("this")
        if subject is not None:
            for branch in node.args.get("ifs") or []:
                branch.set("this", exp.EQ(this=subject.copy(), expression=branch.this))
            node.set("this", None)
    for node in list(expression.find_all(exp.DecodeCase)):
        node.replace(_decode_as_case(node))
    for node in list(expression.find_all(exp.Nullif)):
        equal = exp.EQ(this=node.this.copy(), expression=node.expression.copy())
        node.replace(exp.Case(ifs=[exp.If(this=equal, true=exp.Null())], default=node.this.copy()))


def _super_compared_with_text(node: exp.Expression, column: exp.Expression) -> exp.Expression:
    """``column <op> 'text'`` (either way round) where ``column`` is a SUPER: its string, without trailing blanks."""
    literal_on_right = column is node.this
    text = exp.Literal.string((string_literal(node.expression if literal_on_right else node.this) or "").rstrip(" "))

    def compare(found: exp.Expression) -> exp.Expression:
        operands = (_rtrim(found), text) if literal_on_right else (text, _rtrim(found))
        return type(node)(this=operands[0], expression=operands[1])

    return json.super_compared_with_text(column, compare)


def trailing_blanks_insignificant(expression: exp.Expression) -> None:
    """Redshift disregards trailing blanks when it compares CHAR and VARCHAR values ('abc' = 'abc  ' is true);
    DuckDB does not. Each comparison of two values that may be text (in CASE, DECODE, NULLIF and IN lists too)
    compares them without trailing blanks when both are text (decided by type while DuckDB plans), and as
    written otherwise. GROUP BY, DISTINCT and set operations still group on the exact text."""
    _as_comparisons(expression)
    for node in list(expression.find_all(*_COMPARISONS)):
        if isinstance(node.parent, _ASSIGNING):  # SET a = b of UPDATE and MERGE is no comparison
            continue
        left, right = node.this, node.expression
        if not (_may_be_text(left) and _may_be_text(right)):
            continue
        checks = [_is_text(side) for side in (left, right) if string_literal(side) is None]
        if not checks:
            node.replace(type(node)(this=_rtrim(left), expression=_rtrim(right)))
            continue
        trimmed = type(node)(this=_rtrim(left), expression=_rtrim(right))
        compared = case(exp.and_(*checks), trimmed, node.copy())
        if len(checks) == 1:  # one side is a string literal: the other may be a SUPER
            column = left if string_literal(right) is not None else right
            compared.set("ifs", [*compared.args["ifs"],
                                 exp.If(this=json.is_super(column), true=_super_compared_with_text(node, column))])
        node.replace(exp.paren(compared, copy=False))
    for node in list(expression.find_all(exp.In)):
        values = node.expressions
        if not values or not _may_be_text(node.this) or not any(string_literal(v) is not None for v in values) \
                or not all(_may_be_text(v) for v in values):
            continue
        trimmed_in = exp.In(this=_rtrim(node.this), expressions=[_rtrim(v) for v in values])
        node.replace(exp.paren(case(_is_text(node.this), trimmed_in, node.copy()), copy=False))


def casts_to_text_truncate(expression: exp.Expression) -> None:
    """An explicit cast to VARCHAR(n) or CHAR(n) keeps the first n characters (Redshift loads
    'City of South San Francisco'::char(20) as 'City of South San Fr'); DuckDB's VARCHAR has no length."""
    for node in list(expression.find_all(exp.Cast)):
        size = node.to.expressions[0].this if node.to.this in TEXT_TYPES and node.to.expressions else None
        length = int_literal(size) if isinstance(size, exp.Expression) else None
        if length is not None:
            unsized = exp.cast(node.this.copy(), exp.DType.VARCHAR)
            node.replace(exp.Left(this=unsized, expression=exp.Literal.number(length)))


def concat_null_is_null(expression: exp.Expression) -> None:
    """Redshift's CONCAT(a, b) is NULL when either is NULL (like ``||``); DuckDB's concat skips NULLs."""
    for node in list(expression.find_all(exp.Concat)):
        parts = node.expressions
        joined = parts[0].copy()
        for part in parts[1:]:
            joined = exp.DPipe(this=joined, expression=part.copy(), safe=True)
        node.replace(exp.paren(joined, copy=False) if len(parts) > 1 else joined)


def substring_from_before_start(expression: exp.Expression) -> None:
    """Redshift counts a start below 1 as positions before the string (``SUBSTRING('caterpillar', -2, 6)`` is
    ``cat``); DuckDB counts a negative start from the end of the string."""
    for node in list(expression.find_all(exp.Substring)):
        start, length = node.args.get("start"), node.args.get("length")
        if start is None:
            continue
        start_value, length_value = int_literal(start), int_literal(length)
        if length_value is not None and length_value < 0:
            raise NotSupportedLocally("SUBSTRING with a negative length")
        if start_value is not None and start_value >= 1:
            continue
        if start_value is not None:  # a literal start before the string: fold it
            node.set("start", exp.Literal.number(1))
            if length_value is not None:
                node.set("length", exp.Literal.number(max(start_value + length_value - 1, 0)))
            elif length is not None:
                end = exp.Sub(this=length.copy(), expression=exp.Literal.number(1 - start_value))
                node.set("length", _at_least_zero(end))
            continue
        before = exp.LT(this=start.copy(), expression=exp.Literal.number(1))
        node.set("start", exp.Case(ifs=[exp.If(this=before, true=exp.Literal.number(1))], default=start.copy()))
        if length is not None:
            end = exp.Sub(this=exp.Add(this=start.copy(), expression=length.copy()), expression=exp.Literal.number(1))
            node.set("length", exp.Case(ifs=[exp.If(this=before.copy(), true=_at_least_zero(end))],
                                        default=length.copy()))


def _at_least_zero(value: exp.Expression) -> exp.Expression:
    """``CASE WHEN value < 0 THEN 0 ELSE value END``: NULL stays NULL (DuckDB's GREATEST would skip it)."""
    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=negative, true=exp.Literal.number(0))], default=value)


_REGEXP_PARAMETERS = {"c": "c", "i": "i"}


def regexp_replace_every_match(expression: exp.Expression) -> None:
    """Redshift's REGEXP_REPLACE replaces every match (sqlglot reads it as PostgreSQL's, which replaces the
    first); a non-literal position and the 'p' (PCRE) parameter are refused."""
    for node in list(expression.find_all(exp.RegexpReplace)):
        node.set("single_replace", False)
        position = node.args.get("position")
        if position is not None and int_literal(position) is None:
            raise NotSupportedLocally("REGEXP_REPLACE with a non-literal position")
        modifiers = node.args.get("modifiers")
        if modifiers is not None:
            text = string_literal(modifiers)
            if text is None:
                raise NotSupportedLocally("REGEXP_REPLACE with non-literal parameters")
            unknown = sorted(set(text) - set(_REGEXP_PARAMETERS))
            if unknown:
                raise NotSupportedLocally(f"REGEXP_REPLACE parameter '{unknown[0]}'")


def regexp_substr_parameters(expression: exp.Expression) -> None:
    """REGEXP_SUBSTR: the 'e' parameter returns the first subexpression (sqlglot drops it without choosing the
    group); an occurrence beyond the last match is an empty string, as any failed match ('p' is refused)."""
    for node in list(expression.find_all(exp.RegexpExtract)):
        parameters = node.args.get("parameters")
        if parameters is not None:
            text = string_literal(parameters)
            if text is None:
                raise NotSupportedLocally("REGEXP_SUBSTR with non-literal parameters")
            unknown = sorted(set(text) - {"c", "i", "e"})
            if unknown:
                raise NotSupportedLocally(f"REGEXP_SUBSTR parameter '{unknown[0]}'")
            pattern = string_literal(node.expression)
            if "e" in text and node.args.get("group") is None and pattern is not None \
                    and "(" in pattern.replace("(?", ""):
                node.set("group", exp.Literal.number(1))
        occurrence = node.args.get("occurrence")
        if occurrence is not None and int_literal(occurrence) != 1:
            unknown_input = exp.or_(exp.Is(this=node.this.copy(), expression=exp.Null()),
                                    exp.Is(this=node.expression.copy(), expression=exp.Null()))
            found_or_empty = exp.Coalesce(this=node.copy(), expressions=[exp.Literal.string("")])
            node.replace(case(unknown_input, exp.Null(), found_or_empty))


def like_escapes_with_backslash(expression: exp.Expression) -> None:
    """Redshift's LIKE and ILIKE escape with a backslash by default ('a\\_c' matches 'a_c'); DuckDB's have no
    escape character unless ESCAPE names one."""
    for node in list(expression.find_all(exp.Like, exp.ILike)):
        pattern = string_literal(node.expression)
        if isinstance(node.parent, exp.Escape) or (pattern is not None and "\\" not in pattern):
            continue
        node.replace(exp.Escape(this=node.copy(), expression=exp.Literal.string("\\")))


def sha2_bit_lengths(expression: exp.Expression) -> None:
    """SHA2(string, bits): DuckDB has SHA-256 only, and sqlglot writes SHA256 whatever the bits; 0 (meaning 256)
    and 256 are kept, other lengths refused."""
    for node in expression.find_all(exp.SHA2):
        bits = int_literal(node.args.get("length"))
        if bits not in (0, 256, None) or (bits is None and node.args.get("length") is not None):
            shown = f"{bits} bits" if bits is not None else "a non-literal bit length"
            raise NotSupportedLocally(f"SHA2 with {shown}")


def split_part_positions(expression: exp.Expression) -> None:
    """SPLIT_PART's position must be greater than 0 in Redshift; DuckDB counts a negative one from the end."""
    for node in expression.find_all(exp.SplitPart):
        position = int_literal(node.args.get("part_index"))
        if position is not None and position < 1:
            raise NotSupportedLocally("SPLIT_PART with a position below 1")


def similar_to_regex(pattern: str) -> str:
    """The regular expression (RE2, matched against the whole string) of a SQL ``SIMILAR TO`` pattern, as
    PostgreSQL and Redshift read it: ``%`` is any text, ``_`` any character, ``.``, ``^`` and ``$`` are literal,
    ``\\`` escapes the next character, bracket expressions are kept as they are."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            out.append(escaped if escaped.isalnum() else "\\" + escaped)
            i += 2
            continue
        if char == "[":
            end = i + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            end = pattern.find("]", end)
            if end == -1:
                raise NotSupportedLocally("SIMILAR TO pattern with an unclosed '['")
            out.append(pattern[i : end + 1])
            i = end + 1
            continue
        out.append({"%": ".*", "_": ".", ".": "\\.", "^": "\\^", "$": "\\$"}.get(char, char))
        i += 1
    return "".join(out)


def similar_to_as_regex(expression: exp.Expression) -> None:
    """DuckDB's SIMILAR TO takes a regular expression; Redshift's takes a SQL pattern (``%``, ``_``)."""
    for node in list(expression.find_all(exp.SimilarTo)):
        if isinstance(node.parent, exp.Escape):
            raise NotSupportedLocally("SIMILAR TO ... ESCAPE")
        pattern = string_literal(node.expression)
        if pattern is None:
            raise NotSupportedLocally("SIMILAR TO with a non-literal pattern")
        node.set("expression", exp.Literal.string(similar_to_regex(pattern)))


def _quoted(value: exp.Expression, quote: str) -> exp.Expression:
    doubled = exp.Replace(this=value, expression=exp.Literal.string(quote),
                          replacement=exp.Literal.string(quote * 2))
    text = exp.DPipe(this=exp.Literal.string(quote), expression=doubled, safe=True)
    return exp.paren(exp.DPipe(this=text, expression=exp.Literal.string(quote), safe=True), copy=False)


def _utf8(value: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="ENCODE", expressions=[as_text(value)])


def functions_by_name(expression: exp.Expression) -> None:
    """Functions sqlglot passes through by name (``exp.Anonymous``) that DuckDB spells or computes differently."""
    for node in list(expression.find_all(exp.Anonymous)):
        name = node.name.upper()
        if name in _FUNCTIONS:
            arities, build = _FUNCTIONS[name]
            if len(node.expressions) not in arities:
                raise NotSupportedLocally(f"{name}() with {len(node.expressions)} arguments")
            node.replace(build([arg.copy() for arg in node.expressions]))


# Functions sqlglot does not know, rewritten into DuckDB SQL of the same result:
# name -> (accepted argument counts, DuckDB expression of the arguments).
_FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[[list[exp.Expression]], exp.Expression]]] = {
    "REPLICATE": ((2,), lambda args: exp.Repeat(this=args[0], times=args[1])),
    "OCTET_LENGTH": ((1,), lambda args: call("OCTET_LENGTH", _utf8(args[0]))),
    "QUOTE_IDENT": ((1,), lambda args: _quoted(as_text(args[0]), '"')),
    "QUOTE_LITERAL": ((1,), lambda args: _quoted(as_text(args[0]), "'")),
    "FUNC_SHA1": ((1,), lambda args: exp.SHA(this=args[0])),
    **numeric.FUNCTIONS,
    **json.FUNCTIONS,
}

REWRITTEN_FUNCTIONS: frozenset[str] = frozenset(_FUNCTIONS)

# In order: comparisons are rewritten before the other rewrites add comparisons of their own, and casts to
# VARCHAR(n) are cut before floats are printed as text.
REWRITES: tuple[Callable[[exp.Expression], None], ...] = (
    trailing_blanks_insignificant,
    casts_to_text_truncate,
    numeric.values_as_redshift_text,
    numeric.decimal_division_refused,
    concat_null_is_null,
    substring_from_before_start,
    regexp_replace_every_match,
    similar_to_as_regex,
    sha2_bit_lengths,
    split_part_positions,
    regexp_substr_parameters,
    like_escapes_with_backslash,
    functions_by_name,
    numeric.to_char_of_a_number,
    *json.REWRITES,
)
