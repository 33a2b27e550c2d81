"""Spelling lint: British spellings in an en-US site's content (and American ones in an en-GB site).

A word list, not a rule: "-ise" is British in "recognise" but right in "exercise" and "advise", so
only known pairs are flagged, with their inflections. Capitalized words inside a sentence are taken
as proper names ("Fiddler's Green Amphitheatre") and left alone, and so are words listed in
`site.spelling_allow`.
"""

from __future__ import annotations

import re

# -ise/-yse verbs (British) whose US form is -ize/-yze; each gets -ise, -ised, -ises, -ising,
# -isation(s) (or -yse, -ysed, -yses, -ysing)
_ISE = ("recogn", "organ", "real", "special", "apolog", "minim", "maxim", "priorit", "mobil",
        "immobil", "stabil", "custom", "optim", "visual", "emphas", "summar", "categor", "critic",
        "standard", "util", "general", "normal", "personal", "sensit", "desensit", "steril",
        "author", "final", "familiar", "memor", "symbol", "hospital", "energ", "revital",
        "neutral", "central", "equal", "harmon", "synchron", "character", "human", "modern",
        "jeopard", "agon", "sympath", "fertil", "hypnot", "tranquil", "capital", "vapor",
        "natural", "rational", "item", "cannibal")
_YSE = ("analy", "paraly", "cataly", "dialy")
# whole-word pairs: British -> US
_PAIRS = {
    "colour": "color", "colours": "colors", "coloured": "colored", "colourful": "colorful",
    "favour": "favor", "favours": "favors", "favourite": "favorite", "favourites": "favorites",
    "favourable": "favorable", "behaviour": "behavior", "behaviours": "behaviors",
    "behavioural": "behavioral", "neighbour": "neighbor", "neighbours": "neighbors",
    "neighbourhood": "neighborhood", "neighbourhoods": "neighborhoods",
    "neighbouring": "neighboring", "honour": "honor", "honours": "honors", "honoured": "honored",
    "humour": "humor", "labour": "labor", "harbour": "harbor", "rumour": "rumor",
    "flavour": "flavor", "flavours": "flavors", "odour": "odor", "odours": "odors",
    "tumour": "tumor", "tumours": "tumors", "vigour": "vigor", "endeavour": "endeavor",
    "centre": "center", "centres": "centers", "centred": "centered", "centring": "centering",
    "metre": "meter", "metres": "meters", "kilometre": "kilometer", "kilometres": "kilometers",
    "centimetre": "centimeter", "centimetres": "centimeters", "millimetre": "millimeter",
    "millimetres": "millimeters", "litre": "liter", "litres": "liters", "theatre": "theater",
    "theatres": "theaters", "fibre": "fiber", "fibres": "fibers", "calibre": "caliber",
    "sombre": "somber", "spectre": "specter", "licence": "license", "licences": "licenses",
    "defence": "defense", "offence": "offense", "pretence": "pretense",
    "practise": "practice", "practised": "practiced", "practises": "practices",
    "practising": "practicing", "programme": "program", "programmes": "programs",
    "ageing": "aging", "travelled": "traveled", "travelling": "traveling",
    "traveller": "traveler", "travellers": "travelers", "modelling": "modeling",
    "modelled": "modeled", "counselling": "counseling", "counsellor": "counselor",
    "counsellors": "counselors", "labelled": "labeled", "labelling": "labeling",
    "signalling": "signaling", "fuelled": "fueled", "jewellery": "jewelry", "enrol": "enroll",
    "enrolment": "enrollment", "fulfil": "fulfill", "fulfilment": "fulfillment",
    "skilful": "skillful", "wilful": "willful", "instalment": "installment",
    "manoeuvre": "maneuver", "manoeuvres": "maneuvers", "sceptical": "skeptical",
    "mould": "mold", "moulds": "molds", "smoulder": "smolder", "plough": "plow", "tyre": "tire",
    "tyres": "tires", "kerb": "curb", "storey": "story", "storeys": "stories", "cheque": "check",
    "aluminium": "aluminum", "catalogue": "catalog", "analogue": "analog", "grey": "gray",
    "greying": "graying", "oedema": "edema", "oesophagus": "esophagus",
    "diarrhoea": "diarrhea", "haemorrhage": "hemorrhage", "haemoglobin": "hemoglobin",
    "anaemia": "anemia", "anaemic": "anemic", "anaesthetic": "anesthetic",
    "anaesthesia": "anesthesia", "paediatric": "pediatric", "paediatrician": "pediatrician",
    "orthopaedic": "orthopedic", "orthopaedics": "orthopedics", "gynaecology": "gynecology",
    "oestrogen": "estrogen", "foetus": "fetus", "leukaemia": "leukemia", "ischaemia": "ischemia",
    "pyjamas": "pajamas", "cosy": "cozy", "draught": "draft",
    "judgement": "judgment", "acknowledgement": "acknowledgment", "artefact": "artifact",
}


def _inflect() -> dict[str, str]:
    pairs = dict(_PAIRS)
    for stem in _ISE:
        for gb, us in (("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"),
                       ("isation", "ization"), ("isations", "izations")):
            pairs[stem + gb] = stem + us
    for stem in _YSE:
        for gb, us in (("yse", "yze"), ("ysed", "yzed"), ("yses", "yzes"), ("ysing", "yzing")):
            pairs[stem + gb] = stem + us
    pairs.pop("analyses", None)  # also the plural of "analysis" in US English
    return pairs


GB_TO_US = _inflect()
# the reverse list (American spellings in en-GB content) leaves out US forms that are also British
# words: "practice" and "license" (nouns/verbs in both), "program" (software), "meter", "check"...
_NOT_REVERSIBLE = {"practise", "practised", "practises", "practising", "licence", "licences",
                   "programme", "programmes", "metre", "metres", "cheque", "tyre", "tyres", "kerb",
                   "storey", "storeys", "draught", "mould", "moulds", "catalogue", "analogue",
                   "grey", "greying", "judgement", "acknowledgement", "artefact", "fulfil", "enrol"}
US_TO_GB = {us: gb for gb, us in GB_TO_US.items() if gb not in _NOT_REVERSIBLE}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_SENTENCE_END = re.compile(r"[.!?:]\s*$|^\s*$|^\s*[-*#>\d.)]+\s*$")


def lint_spelling(text: str, file: str, locale: str, allow: frozenset[str] = frozenset(),
                  first_line: int = 1) -> list[str]:
    """One finding per word of the other variety: "file:line: 'recognise' is British spelling;
    en-US uses 'recognize'". Capitalized words mid-sentence are proper names and skipped."""
    table, variety = (GB_TO_US, "British") if locale == "en-US" else (US_TO_GB, "American")
    findings = []
    for number, line in enumerate(text.splitlines(), start=first_line):
        for match in _WORD.finditer(line):
            word = match.group(0)
            lower = word.lower().rstrip("'’")
            fix = table.get(lower)
            if fix is None or lower in allow:
                continue
            if word[0].isupper() and not _SENTENCE_END.search(line[: match.start()]):
                continue  # a proper name: "the Denver Performing Arts Centre"
            shown = fix.capitalize() if word[0].isupper() else fix
            findings.append(f"{file}:{number}: {word!r} is {variety} spelling; {locale} uses "
                            f"{shown!r}")
    return findings
