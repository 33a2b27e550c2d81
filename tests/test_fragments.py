"""`{% once %}` fragments: rendered once per key, reused byte for byte, never mixed between keys."""

from __future__ import annotations

import jinja2
import pytest

from seo.pages.fragments import OnceExtension


@pytest.fixture
def env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader({
        "page.j2": "{% once town %}<p>{{ town }} & {{ calls.append(town) or '' }}</p>{% endonce %}"
                   "{% once %}[{{ calls.append('static') or '' }}]{% endonce %}"
                   "{% once town, n %}{{ n }}{% endonce %}|{{ n }}",
        "other.j2": "{% once town %}other {{ town }}{% endonce %}",
    }), autoescape=True, extensions=[OnceExtension], undefined=jinja2.StrictUndefined)


def test_rendered_once_per_key_and_escaped_once(env: jinja2.Environment) -> None:
    calls: list[str] = []
    page = env.get_template("page.j2")
    first = page.render(town="A<b>", n=1, calls=calls)
    assert first == "<p>A&lt;b&gt; & </p>[]1|1"
    assert page.render(town="A<b>", n=2, calls=calls) == "<p>A&lt;b&gt; & </p>[]2|2"
    assert page.render(town="Z", n=1, calls=calls) == "<p>Z & </p>[]1|1"
    assert calls == ["A<b>", "static", "Z"]  # the town fragment once per town, the static once
    assert env.get_template("other.j2").render(town="Z") == "other Z"  # another tag, its own entry


def test_disabled_cache_renders_every_time(env: jinja2.Environment) -> None:
    env.fragment_cache_enabled = False  # type: ignore[attr-defined]
    calls: list[str] = []
    page = env.get_template("page.j2")
    page.render(town="A", n=1, calls=calls)
    page.render(town="A", n=1, calls=calls)
    assert calls == ["A", "static", "A", "static"]


def test_every_page_of_the_sites_is_the_same_without_the_cache(clinic, mini) -> None:
    """The `once` keys in the built-in templates name everything their fragments show: each page
    of the bundled clinic and of the mini site renders the same with the cache off."""
    from seo.pages.plan import plan_site
    from seo.pages.render import Renderer
    from seo.site import load_site

    for root in (clinic, mini):
        site = load_site(root)
        fresh = Renderer(site)
        fresh.env.fragment_cache_enabled = False  # type: ignore[attr-defined]
        plan = plan_site(site)
        for order in (plan, plan[::-1]):  # both orders: whichever page fills an entry first
            cached = Renderer(site)
            for page in order:
                assert cached.render(page) == fresh.render(page), page.url_path
