"""The claims lint's quick pre-check never hides a claim the full pattern finds."""

from __future__ import annotations

import pytest

from seo.content import lint_claims


@pytest.mark.parametrize("claim", [
    "Acupuncture CURES sciatica", "it cured me", "curing migraines", "Guaranteed results",
    "we guarantee it", "100% effective", "100 % relief", "a Miracle", "Permanently fix your back",
    "permanent relief", "Eliminates all pain", "eliminate pain", "it never comes back", "Risk-free",
    "risk free trial",
])
def test_every_kind_of_claim_is_found(claim: str) -> None:
    text = f"Plain first line.\n\nSome words, then {claim}, then more.\n"
    assert [f.split(": claim")[0] for f in lint_claims(text, "content/x.md")] == ["content/x.md:3"]


def test_plain_text_has_no_findings() -> None:
    assert lint_claims("Acupuncture may help; results vary.\nBook a visit.", "x.md") == []
