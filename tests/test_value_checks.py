"""`seo check` refuses values that make no sense, with one line naming file, line and key: names,
phones, emails, hours, special hours, dates, states, ZIPs, coordinates, duplicates; and it
validates what the jobs read (schedule.yaml, keywords, integration settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import check_error

from seo.values import check_phone


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


SITE, TOWNS = "config/site.yaml", "config/towns.yaml"
KNEE = "content/conditions/knee-pain.md"

CASES = [
    ("blank-business-name", SITE, "  name: Example Acupuncture", '  name: "   "',
     r"config/site\.yaml:2: business\.name: must not be blank"),
    ("nul-business-name", SITE, "  name: Example Acupuncture", '  name: "Example\\0"',
     r"config/site\.yaml:2: control character U\+0000"),
    ("blank-practitioner", SITE, "name: Pat Tester", 'name: " "',
     r"business\.practitioners\[0\]\.name: must not be blank"),
    ("blank-category", SITE, "{primary: Acupuncturist}", "{primary: Acupuncturist, additional: ['']}",
     r"business\.categories\.additional\[0\]: must not be blank"),
    ("repeated-category", SITE, "{primary: Acupuncturist}",
     "{primary: Acupuncturist, additional: [acupuncturist]}",
     r"business\.categories\.additional\[0\]: 'acupuncturist' repeats primary"),
    ("duplicate-practitioner", SITE, "    - {id: doc, name: Pat Tester, credentials: L.Ac.}",
     "    - {id: doc, name: Pat Tester, credentials: L.Ac.}\n    - {id: doc, name: Sam Other}",
     r"config/site\.yaml:\d+: business\.practitioners\[1\]\.id: duplicate practitioner id 'doc'"),
    ("phone-free-text", SITE, '  telephone: "+1-303-555-0100"', "  telephone: call us anytime",
     r"config/site\.yaml:6: business\.telephone: 'call us anytime' is not a telephone number"),
    ("phone-too-short", SITE, 'telephone: "+1-303-555-0100"\n    hours', 'telephone: "+1 303"\n    hours',
     r"locations\[0\]\.telephone: '\+1 303' is not an E\.164 number"),
    ("email-javascript", SITE, "  description: A small",
     "  email: javascript:alert(1)\n  description: A small",
     r"business\.email: 'javascript:alert\(1\)' is not an email address"),
    ("special-open-no-times", SITE, '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}',
     '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}\n    special_hours:\n'
     "      - {date: 2026-12-24, closed: false}",
     r"config/site\.yaml:\d+: locations\[0\]\.special_hours\[0\]: opens and closes are needed"),
    ("special-closes-before-opens", SITE, '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}',
     '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}\n    special_hours:\n'
     '      - {date: 2026-12-24, closed: false, opens: "14:00", closes: "10:00"}',
     r"special_hours\[0\]: closes 10:00 is not after opens 14:00"),
    ("special-date-zero", SITE, '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}',
     '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}\n    special_hours:\n'
     "      - {date: 0, closed: true}",
     r"special_hours\[0\]\.date: 0 is not a date \(YYYY-MM-DD\)"),
    ("special-date-twice", SITE, '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}',
     '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}\n    special_hours:\n'
     "      - {date: 2026-12-25}\n      - {date: 2026-12-25}",
     r"special_hours\[1\]\.date: 2026-12-25 is listed twice"),
    ("overlapping-hours", SITE, '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}',
     '      - {days: [Mo, We, Fr], opens: "09:00", closes: "17:00"}\n'
     '      - {days: [We], opens: "16:00", closes: "19:00"}',
     r"config/site\.yaml:\d+: locations\[0\]\.hours\[1\]: overlaps hours\[0\] on Wednesday"),
    ("day-twice", SITE, "days: [Mo, We, Fr]", "days: [Mo, We, Mo]",
     r"locations\[0\]\.hours\[0\]\.days\[2\]: Monday is listed twice"),
    ("region-zz", SITE, "region: CO", "region: ZZ",
     r"locations\[0\]\.address\.region: 'ZZ' is not a US state"),
    ("postal-code", SITE, 'postal_code: "80000"', "postal_code: abc",
     r"locations\[0\]\.address\.postal_code: 'abc' is not a ZIP code"),
    ("location-null-island", SITE, "geo: {lat: 39.60, lng: -104.80}", "geo: {lat: 0, lng: 0}",
     r"locations\[0\]\.geo: coordinates 0, 0 are in the Atlantic"),
    ("nan-latitude", SITE, "geo: {lat: 39.60, lng: -104.80}", "geo: {lat: .nan, lng: -104.80}",
     r"locations\[0\]\.geo\.lat: Input should be a finite number"),
    ("blank-town-name", TOWNS, "  - name: Alpha", '  - name: "\t"',
     r"config/towns\.yaml:2: towns\[0\]\.name: must not be blank"),
    ("blank-county", TOWNS, "county: Alpha County", "county: ' '",
     r"towns\[0\]\.county: must not be blank"),
    ("state-zz", TOWNS, "state: CO", "state: ZZ", r"towns\[0\]\.state: 'ZZ' is not a US state"),
    ("zip-abc", TOWNS, "landmarks: [Alpha Library]", "landmarks: [Alpha Library]\n    zip_codes: [abc]",
     r"towns\[0\]\.zip_codes\[0\]: 'abc' is not a ZIP code"),
    ("town-null-island", TOWNS, "geo: {lat: 39.61, lng: -104.81}", "geo: {lat: 0.0, lng: 0.0}",
     r"config/towns\.yaml:\d+: towns\[0\]\.geo: coordinates 0, 0"),
    ("same-town-name", TOWNS, "  - name: Beta Springs", "  - name: alpha",
     r"config/towns\.yaml:\d+: towns\[1\]\.name: duplicate town alpha, CO \(also towns\[0\]\)"),
    ("blank-condition-name", KNEE, "name: Knee Pain", "name: '  '",
     r"content/conditions/knee-pain\.md:2: name: must not be blank"),
    ("blank-symptom", KNEE, "symptoms: [Aching after stairs,", "symptoms: ['', Aching after stairs,",
     r"knee-pain\.md:\d+: symptoms\[0\]: must not be blank"),
    ("review-in-2099", KNEE, "reviewed: {date: 2026-10-01", "reviewed: {date: 2099-10-01",
     r"knee-pain\.md:\d+: reviewed\.date: 2099-10-01 is in the future"),
    ("review-date-zero", KNEE, "reviewed: {date: 2026-10-01", "reviewed: {date: 0",
     r"knee-pain\.md:\d+: reviewed\.date: 0 is not a date"),
    ("same-condition-name", KNEE, "name: Knee Pain", "name: Wrist Pain",
     r"duplicate condition name 'Wrist Pain'"),
    ("keyword-format-spec", SITE, "site:\n", "keywords:\n  patterns: ['{town:>999999999}']\nsite:\n",
     r"keywords\.patterns\[0\]: placeholders take no format"),
    ("keyword-unknown-field", SITE, "site:\n", "keywords:\n  town_patterns: ['{condition} {town}']\nsite:\n",
     r"keywords\.town_patterns\[0\]: unknown placeholder \{condition\}"),
    ("email-from-javascript", SITE, "site:\n",
     "integrations:\n  email: {host: smtp.test, from: 'javascript:alert(1)', to: [a@b.test]}\nsite:\n",
     r"integrations\.email\.from: 'javascript:alert\(1\)' is not an email address"),
    ("email-host", SITE, "site:\n", "integrations:\n  email: {host: 'smtp test;rm', from: a@b.test, "
     "to: [a@b.test]}\nsite:\n", r"integrations\.email\.host: 'smtp test;rm' is not a host name"),
    ("email-ca-file", SITE, "site:\n", "integrations:\n  email: {ca_file: /no/such/ca.pem}\nsite:\n",
     r"integrations\.email\.ca_file: '/no/such/ca\.pem' is not a file"),
]


@pytest.mark.parametrize("name,file,old,new,pattern", CASES, ids=[c[0] for c in CASES])
def test_nonsense_is_refused(mini: Path, name: str, file: str, old: str, new: str,
                             pattern: str) -> None:
    edit(mini / file, old, new)
    check_error(mini, pattern)


SCHEDULE = [
    ("timezone: America\n", r"config/schedule\.yaml:1: timezone: unknown timezone 'America'"),
    ("timezone: " + "A" * 300 + "\n", r"timezone: unknown timezone 'AAAA+\.\.\.'"),
    ("timezone: ../../etc/passwd\n", r"timezone: unknown timezone"),
    ('jobs:\n  weekly: {cron: "0 5 * * sun#1"}\n', r"jobs\.weekly\.cron: .*day of week 'sun#1'"),
    ('jobs:\n  weekly: {cron: "0 5 * * tuesdays"}\n', r"day of week 'tuesdays' is not"),
    ('jobs:\n  weekly: {cron: "0 5 * * mon-fri2"}\n', r"day of week 'mon-fri2' is not"),
    ('jobs:\n  weekly: {cron: "0 5 L * *"}\n', r"day of month 'L' is not 1-31"),
    ('jobs:\n  weekly: {cron: "5/10 5 * * *"}\n', r"minute '5/10': a step /n goes after"),
]


@pytest.mark.parametrize("text,pattern", SCHEDULE, ids=[s[1][:30] for s in SCHEDULE])
def test_check_validates_the_schedule(mini: Path, text: str, pattern: str) -> None:
    (mini / "config/schedule.yaml").write_text(text)
    line = check_error(mini, pattern)
    assert line.startswith("error: config/schedule.yaml:")


@pytest.mark.parametrize("number", ["+13035550142", "+1-303-555-0142", "+1 (303) 555-0142",
                                    "(303) 555-0142", "303-555-0142", "303.555.0142",
                                    "1 303 555 0142", "+44 20 7946 0958", "+49 30 901820"])
def test_phone_numbers_accepted(number: str) -> None:
    assert check_phone(number) == number


@pytest.mark.parametrize("number", ["555-0142", "+1 303 555", "+0 123 456 789", "call us",
                                    "javascript:alert(1)", "303-555-0142 ext 5", "(303 555-0142",
                                    "+1 (303) (555) 0142", "+1 103 555 0142", "12345678901234567"])
def test_phone_numbers_refused(number: str) -> None:
    with pytest.raises(ValueError):
        check_phone(number)
