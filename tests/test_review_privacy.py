"""The privacy lint: a table of replies that must pass and replies that must fail (with the rule
that must catch them), realistic and tricky, against the bundled clinic's own terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from seo.reviews.privacy import PrivacyLint, lint_for_site, normalise
from seo.site import load_site

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def lint() -> PrivacyLint:
    # the bundled clinic: its conditions (sciatica, back spasm ...), practitioner, business name
    return lint_for_site(load_site(REPO), extra_terms=["dry needling", "TCM"])


MUST_PASS = [
    "Thank you for taking the time to leave a review. We appreciate it!",
    "Thank you for the kind words! Reviews like yours help people in our community find us.",
    "Thanks so much for the five stars!",
    "Thank you for the 5-star review, it made our day.",
    "Thank you from all of us at Acupuncture Associates!",  # the business name is a name
    "We appreciate your patience and your feedback.",  # patience, not patient
    "Thank you for your time and for sharing your thoughts.",  # "your time", not "your time with us"
    "Thank you for sharing your experience.",  # the reviewer's own words, not ours
    "Thank you for getting back to us.",  # "back" is not a body part here
    "We take all feedback seriously. Please contact our office manager directly so we can learn "
    "more and make this right.",
    "We're sorry to hear you were disappointed. Our policy is not to discuss details online; "
    "please reach out to our office manager by phone or in person.",
    "We're always glad to hear from our community. Have a wonderful week!",
    "Thank you! Our whole team is grateful for your kind words.",
    "We hold ourselves to a high standard and we're always working to improve.",
    "Thank you for the thoughtful review. We wish you all the best.",
    "Thank you, we appreciate you taking a moment to write this.",
    "Thanks for the shout-out! We're proud of our friendly front desk team.",
    "Thank you for recommending us to friends and family.",
    "We're a small, local team and reviews like this mean a lot to us.",
    "Thank you! — The team at Acupuncture Associates, Parker",
]

MUST_FAIL = [
    # confirming a patient relationship or a visit
    ("Glad your sciatica is better after your treatments!", {"condition", "relationship"}),
    ("Thank you for your visit!", {"relationship"}),
    ("Thanks for coming in, see you next time!", {"relationship"}),
    ("We hope to see you again soon.", {"relationship"}),
    ("We're so glad we could help with your recovery.", {"relationship", "condition"}),
    ("It was a pleasure meeting you.", {"relationship"}),
    ("We loved having you in the clinic.", {"relationship"}),
    ("Thank you for trusting us with your care.", {"relationship"}),
    ("Our patients always come first.", {"relationship"}),  # says the reviewer is one
    ("We have no record of you in our system.", {"relationship"}),  # the classic mistake
    ("Welcome back, and thank you!", {"relationship"}),
    ("Thanks for your first appointment with us!", {"relationship"}),
    ("We're happy your progress has been so steady.", {"relationship"}),
    ("YOUR   VISIT meant a lot to us.", {"relationship"}),  # case and spacing
    ("Thank you for y\u043eur visit!", {"relationship"}),  # Cyrillic o
    ("Thank you for your\u200b visit!", {"relationship"}),  # zero-width space
    ("Thank you for your recent session.", {"relationship"}),
    # conditions, symptoms, treatments, body parts
    ("So happy to hear the back spasms are gone.", {"condition"}),
    ("We hope your neck feels better soon.", {"condition"}),
    ("We've got your back!", {"condition"}),  # in a back-pain clinic, this reads as a complaint
    ("Great to hear the needles didn't hurt!", {"condition"}),
    ("Glad acupuncture helped with the migraines.", {"condition"}),
    ("Wishing you a quick recovery.", {"condition"}),
    ("Cupping can leave marks, nothing to worry about.", {"condition"}),
    ("Dry needling isn't for everyone.", {"condition"}),  # config's privacy_terms
    ("It can take a few weeks for a thrown-out back to settle.", {"condition"}),  # a synonym
    ("So glad you're feeling better!", {"condition"}),
    ("Many people find relief in just three sessions.", {"condition"}),
    ("Morning stiffness is very common, don't worry.", {"condition"}),
    ("We hope the fertility journey goes well.", {"condition"}),
    # practitioner-patient details
    ("Jordan enjoyed working with you!", {"practitioner", "relationship"}),
    ("Your acupuncturist will be in touch.", {"practitioner"}),
    ("Dr Lee says thank you!", {"practitioner"}),
    ("She treated you with care.", {"practitioner", "relationship"}),
    # appointment details
    ("Sorry about the wait on Tuesday.", {"appointment"}),
    ("We apologize that your 3:30 pm slot ran late.", {"appointment"}),
    ("Sorry about the billing mix-up.", {"appointment"}),
    ("Your copay was refunded.", {"appointment", "relationship"}),
    ("We have waived the cancellation fee.", {"appointment"}),
    ("Sorry for the confusion on 11/3.", {"appointment"}),
    ("Thanks for stopping by yesterday!", {"appointment"}),
    # contact details and links
    ("Please call us at (303) 555-0142.", {"phone"}),
    ("Please call us at 303.555.0142 ext 2.", {"phone"}),
    ("Text +1 303 555 0142 anytime.", {"phone"}),
    ("Book again at https://www.acupunctureassociates.example/book/", {"link"}),
    ("Email us at front-desk@clinic.example so we can help.", {"link"}),
    ("Find us at acupunctureassociates.com!", {"link"}),
    ("Visit www.example.org for more.", {"link"}),
    ("Our site is clinic dot com.", {"link"}),
]


@pytest.mark.parametrize("reply", MUST_PASS)
def test_clean_replies_pass(lint: PrivacyLint, reply: str) -> None:
    assert [h.line() for h in lint.check(reply, reviewer="Ann B.")] == []


@pytest.mark.parametrize("reply,rules", MUST_FAIL)
def test_disclosing_replies_fail(lint: PrivacyLint, reply: str, rules: set[str]) -> None:
    hits = lint.check(reply)
    assert {h.rule for h in hits} >= rules, [h.line() for h in hits]
    for h in hits:  # each hit explained in one line, quoting what it found
        assert "\n" not in h.line() and h.line().startswith(f'{h.rule}: "')


def test_reviewer_name_and_length(lint: PrivacyLint) -> None:
    hits = lint.check("Thank you, Margaret!", reviewer="Margaret O'Neil")
    assert [h.line() for h in hits] == [
        'reviewer: "margaret" is the reviewer\'s name; a reply should not identify them']
    assert lint.check("Thank you!", reviewer="Happy Client") == []  # not names
    assert {h.rule for h in lint.check("")} == {"length"}
    long = "Thank you for the review. " * 200
    assert [h.found for h in lint.check(long)] == [f"{len(long)} bytes"]


def test_every_hit_is_listed_once_in_order(lint: PrivacyLint) -> None:
    hits = lint.check("Your visit, your visit. Call 303-555-0142 about your sciatica.")
    assert [(h.rule, h.found) for h in hits] == [
        ("phone", "303-555-0142"), ("relationship", "your visit"),
        ("condition", "sciatica")]


def test_normalise_folds_lookalikes_and_invisibles() -> None:
    assert normalise("y\u043eur\u00ad vi\u0455it \u2019") == "your visit '"
