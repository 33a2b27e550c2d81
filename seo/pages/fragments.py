"""`{% once key, ... %}...{% endonce %}`: a template fragment rendered once per build per key.

Most of a town x condition page is shared with other pages: the condition's symptoms and treatment
with every town's page for that condition, the getting-here facts with every page for that town,
the footer with every page served by that location. Rendering those parts again for each of 10,000
pages was most of a build's time. A fragment wrapped in `once` is rendered the first time its key
is seen and reused after that, byte for byte:

    {% once condition.slug %}<ul>{% for s in condition.meta.symptoms %}...{% endfor %}</ul>{% endonce %}

The key is the template's name, the tag's line and the values given, so two `once` blocks never
share an entry. The key must name everything the fragment shows: a fragment that uses the town
must have the town's slug in its key (the golden-site test renders every page both ways). The
cache belongs to one Jinja environment, i.e. one build.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

MAX_ENTRIES = 200_000  # a bound: past it fragments are rendered each time (still correct)


class OnceExtension(Extension):
    tags = {"once"}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.extend(fragment_cache={}, fragment_cache_enabled=True)

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        lineno = token.lineno
        parts: list[nodes.Expr] = [nodes.Const(parser.name), nodes.Const(lineno)]
        while parser.stream.current.type != "block_end":
            if len(parts) > 2:
                parser.stream.expect("comma")
            parts.append(parser.parse_expression())
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        call = self.call_method("_render_once", [nodes.Tuple(parts, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render_once(self, key: tuple[Any, ...], caller: Any) -> str:
        env = self.environment
        cache: dict[tuple[Any, ...], str] = env.fragment_cache  # type: ignore[attr-defined]
        if not env.fragment_cache_enabled:  # type: ignore[attr-defined]
            return caller()  # type: ignore[no-any-return]
        found = cache.get(key)
        if found is None:
            found = caller()  # Markup under autoescape: reused as is, never escaped twice
            if len(cache) < MAX_ENTRIES:
                cache[key] = found
        return found
