"""The privacy lint for review replies: a reply is public, and a clinic's reply that confirms the
reviewer was seen there, or names or hints at their condition, care, practitioner, appointment or
bill, discloses health information (US regulators have fined practices for exactly that). The
reviewer's own words do not make it safe to repeat them.

Rules (each hit is explained in one line):
- relationship: confirms a patient relationship or a visit ("your visit", "see you next time",
  "glad we could help with your ...", "our patients", "treating you");
- condition: names or hints at a condition, symptom, treatment or body part as a complaint (the
  clinic's own condition names and synonyms from content, a built-in list, config's privacy_terms;
  the business's and locations' names are not counted: "Acupuncture Associates" is a name);
- practitioner: names a practitioner (from config) or who saw the reviewer ("your acupuncturist");
- appointment: a day, date, time, scheduling or billing detail ("on Tuesday", "at 3pm", "your
  copay", "the cancellation fee");
- reviewer: the reviewer's own name (a reply should not identify the person);
- phone, link: a phone number, a URL, a domain or an email address (Google also rejects them);
- length: empty, or longer than Google's 4,096 bytes.
The text is normalised first (Unicode NFKC, look-alike letters, invisible characters, case,
punctuation), so "Your   VISIT", "your\u200bvisit" and "yоur visit" with a Cyrillic o all count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

REPLY_MAX_BYTES = 4096

# Latin look-alikes from Cyrillic and Greek that NFKC leaves alone.
CONFUSABLES = str.maketrans({
    **dict(zip("аеорсухіјѕԁӏԛԝһ", "aeopcyxijsdlqwh", strict=False)),
    **dict(zip("АВЕКМНОРСТУХ", "ABEKMHOPCTYX", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοανρι", "ABEZHIKMNOPTYXoavpi", strict=True))})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def normalise(text: str) -> str:
    """NFKC, look-alikes folded, invisible characters removed, typographic quotes made plain."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(CONFUSABLES)
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")


def words(text: str) -> str:
    """Lower case, only letters, digits and apostrophes, single spaces: what word rules see."""
    text = re.sub(r"[^a-z0-9']+", " ", normalise(text).lower())
    return " " + re.sub(r"\s*'\s*", "'", text).strip() + " "


def _alt(items: Iterable[str]) -> str:
    return "|".join(sorted({re.escape(i) for i in items if i}, key=lambda s: (-len(s), s)))


# -- built-in vocabularies ------------------------------------------------------------------------

CARE = ["visit", "visits", "appointment", "appointments", "appt", "session", "sessions",
        "treatment", "treatments", "care", "therapy", "consultation", "consult", "exam",
        "examination", "intake", "checkup", "check up", "time with us", "time here", "stay",
        "experience with us", "experience here", "experience at", "progress", "recovery", "results",
        "healing", "health", "condition", "conditions", "diagnosis", "symptoms", "symptom", "chart",
        "file", "records", "record", "plan", "treatment plan", "course of treatment", "needling",
        "acupuncture", "cupping", "massage", "adjustment", "procedure", "case", "journey", "pain",
        "injury", "wellness journey", "practitioner", "acupuncturist", "provider",
        "doctor", "therapist", "clinician", "physician", "specialist", "bill", "invoice",
        "copay", "co pay", "insurance", "claim", "balance", "account", "payment", "refund"]
CARE_ADJ = ["first", "last", "recent", "latest", "next", "initial", "follow up", "followup",
            "most recent", "previous", "second", "third", "weekly", "regular", "ongoing",
            "continued", "first few", "last few", "many", "several", "recent few", "two", "three"]
SEEN_VERBS = ["meeting", "met", "having", "had", "hosting", "hosted", "welcomed", "treating",
              "treated", "treat", "serving", "served", "caring for", "cared for", "working with",
              "worked with", "seeing", "saw", "seen", "examining", "examined", "needling",
              "needled", "helped"]
CONDITIONS = [
    "pain", "pains", "painful", "ache", "aches", "aching", "achy", "sore", "soreness", "stiff",
    "stiffness", "spasm", "spasms", "cramp", "cramps", "cramping", "migraine", "migraines",
    "headache", "headaches", "sciatica", "sciatic", "arthritis", "arthritic", "tendonitis",
    "tendinitis", "bursitis", "fibromyalgia", "neuropathy", "plantar fasciitis", "carpal tunnel",
    "tmj", "vertigo", "dizziness", "tinnitus", "insomnia", "sleepless", "sleep problems",
    "sleep issues", "trouble sleeping", "anxiety", "anxious", "depression", "depressed",
    "stressed", "stressful", "stress levels", "reduce stress", "less stress",
    "panic", "ptsd", "trauma", "grief", "fertility", "infertility", "ivf", "iui",
    "pregnancy", "pregnant", "conceive", "conceiving", "conception", "miscarriage", "postpartum",
    "menopause", "perimenopause", "hot flashes", "pms", "menstrual", "endometriosis", "pcos",
    "nausea", "morning sickness", "digestion", "digestive", "ibs", "bloating", "constipation",
    "reflux", "heartburn", "allergy", "allergies", "asthma", "sinus", "sinusitis", "covid",
    "long covid", "fatigue", "exhaustion", "cancer", "chemo", "chemotherapy", "radiation",
    "tumor", "diabetes", "diabetic", "blood pressure", "hypertension", "cholesterol", "addiction",
    "smoking", "quit smoking", "weight loss", "obesity", "injury", "injuries", "injured",
    "surgery", "surgical", "post op", "post surgery", "whiplash", "concussion", "sprain",
    "sprained", "strain", "strained", "fracture", "fractured", "herniated", "bulging disc",
    "slipped disc", "disc", "pinched nerve", "nerve pain", "numbness", "numb", "tingling",
    "inflammation", "inflamed", "swelling", "swollen", "condition", "conditions", "symptom",
    "symptoms", "diagnosis", "diagnosed", "chronic", "acute", "flare up", "flare ups", "flareup",
    "relief", "relieve", "relieved", "heal", "healed", "healing", "recovery", "recovered",
    "recovering", "rehab", "mobility", "range of motion", "posture", "medication", "medications",
    "meds", "prescription", "painkillers", "opioids", "mental health", "illness", "disease",
    "disorder", "syndrome", "infection", "health issue", "health issues", "health concern",
    "health concerns", "health problem", "health problems", "feel better", "feeling better",
    "feels better", "felt better", "get better", "getting better", "doing better", "on the mend",
    "back to normal", "back on your feet", "pain free", "symptom free", "good as new",
    # treatments
    "acupuncture", "needle", "needles", "needling", "dry needling", "electroacupuncture",
    "electro acupuncture", "cupping", "gua sha", "moxa", "moxibustion", "herbs", "herbal",
    "tui na", "massage", "acupressure", "e stim", "adjustment", "adjustments", "manipulation",
]
BODY = ["back", "lower back", "low back", "upper back", "neck", "shoulder", "shoulders", "knee",
        "knees", "hip", "hips", "wrist", "wrists", "ankle", "ankles", "elbow", "elbows", "foot",
        "feet", "heel", "heels", "hand", "hands", "arm", "arms", "leg", "legs", "spine", "jaw",
        "head", "stomach", "belly", "abdomen", "gut", "chest", "joint", "joints", "muscle",
        "muscles", "shoulder blade", "shoulder blades", "tendon", "ligament", "sciatic nerve",
        "body"]
BODY_BEFORE = ["your", "his", "her", "my", "their", "sore", "stiff", "bad", "aching", "achy",
               "painful", "injured", "tight", "tense", "hurt", "hurting", "pulled", "twisted",
               "tweaked", "frozen", "locked", "achy"]
BODY_AFTER = ["pain", "pains", "ache", "aches", "injury", "injuries", "issue", "issues", "problem",
              "problems", "trouble", "spasm", "spasms", "surgery", "feels", "feeling", "felt",
              "is better", "was better", "is feeling", "tension", "tightness", "stiffness",
              "soreness", "healed", "healing", "recovered", "recovering"]
PRACTITIONER_WORDS = ["practitioner", "acupuncturist", "provider", "doctor", "therapist",
                      "clinician", "physician", "specialist", "herbalist", "l ac", "lac", "dipl om",
                      "dacm", "daom"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
          "sept", "oct", "nov", "dec"]
SCHEDULING = ["reschedule", "rescheduled", "rescheduling", "cancel", "cancelled", "canceled",
              "cancellation", "cancellations", "no show", "late fee", "wait time", "waiting room",
              "wait times", "running late", "ran late", "checked in", "check in", "intake form",
              "intake forms", "copay", "co pay", "deductible", "insurance", "insurer",
              "billing", "billed", "bill", "invoice", "invoiced", "charged",
              "charges", "payment", "payments", "refund", "refunded", "balance", "receipt",
              "superbill", "hsa", "fsa", "yesterday", "this morning", "this afternoon",
              "this evening", "last week", "last month", "earlier today", "the other day",
              "last night", "today's", "tomorrow's", "yesterday's"]
COMMON_WORDS = set("""a an and are as at be best big by can client customer dear for friend from
good google great guest happy help her his i in is it just kind local love me my new no not of
on one or our patient person real reviewer satisfied she so team thank thanks that the their them
they this to true truly user very was we well what who will with you your""".split())  # noqa: SIM905


@dataclass(frozen=True)
class Hit:
    rule: str
    found: str
    why: str

    def line(self) -> str:
        return f'{self.rule}: "{self.found}" {self.why}'


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    why: str


def _w(pattern: str) -> re.Pattern[str]:
    """A pattern over `words()` text: whole words only (the text is padded with spaces)."""
    return re.compile(r"(?<=[ ])(?:" + pattern + r")(?=[ ])")


class PrivacyLint:
    """Built once per run from the clinic's terms; `check()` lists every hit."""

    def __init__(self, *, conditions: Iterable[str] = (), practitioners: Iterable[str] = (),
                 extra_terms: Iterable[str] = (), names: Iterable[str] = ()) -> None:
        clinic = {words(t).strip() for t in conditions if words(t).strip()}
        extra = {words(t).strip() for t in extra_terms if words(t).strip()}
        people: set[str] = set()
        for full in practitioners:
            w = words(full).strip()
            if w:
                people.add(w)
                people |= {p for p in w.split() if len(p) >= 3 and p not in COMMON_WORDS}
        self.names = sorted({words(n).strip() for n in names if words(n).strip()},
                            key=lambda s: (-len(s), s))
        care = rf"(?:(?:{_alt(CARE_ADJ)}) )?(?:{_alt(CARE)})"
        self.rules = [
            Rule("relationship", _w(rf"your {care}"),
                 "refers to the reviewer's own care or visit, confirming they were seen here"),
            Rule("relationship", _w(
                rf"(?:{_alt(SEEN_VERBS)}) you|see you (?:again|next|soon|back|at|on|in)|"
                r"to have you back|have you back|welcome back|welcome you back|come back|"
                r"coming back|you came|you visited|no record of you|no record of your|"
                r"our records|our system|our files|our notes|our chart|our charts|"
                r"you were here|you were in|you stopped by|you've been coming|you started coming|"
                r"you've been seeing|next time you're in|"
                r"next time you come|next time you visit|return visit|as always|"
                r"(?:glad|happy|pleased|great|good) (?:that )?(?:we|i|our team) (?:could|were able "
                r"to|was able to|can) help|(?:glad|happy) to have helped|help(?:ed)? (?:you )?with "
                r"your|could help you|able to help you"),
                "confirms a patient relationship or a visit"),
            Rule("relationship", _w(r"patient|patients|patient's|patients'"),
                 "the word patient says or suggests the reviewer is one"),
            Rule("condition", _w(_alt(CONDITIONS)),
                 "names or hints at a condition, symptom or treatment"),
            Rule("condition", _w(rf"(?:{_alt(BODY_BEFORE)}) (?:{_alt(BODY)})|"
                                 rf"(?:{_alt(BODY)}) (?:{_alt(BODY_AFTER)})"),
                 "mentions a body part as a complaint"),
            Rule("practitioner", _w(rf"(?:your|my|his|her) (?:{_alt(PRACTITIONER_WORDS)})|"
                                    r"dr [a-z]+|doctor [a-z]+|(?:he|she|they) (?:treated|saw|"
                                    r"worked with|helped|needled|examined) you|"
                                    r"l ac|dipl om|dacm"),
                 "names or points to the practitioner who saw the reviewer"),
            Rule("appointment", _w(
                rf"(?:on|last|this|that|next|past) (?:{_alt(DAYS)})|(?:{_alt(DAYS)})'s|"
                rf"(?:{_alt(MONTHS)}) [0-9]{{1,2}}(?:st|nd|rd|th)?|[0-9]{{1,2}}(?:st|nd|rd|th)? of "
                rf"(?:{_alt(MONTHS)})|[0-9]{{1,2}}(?: [0-9]{{2}})? ?(?:am|pm|a m|p m)|"
                rf"[0-9]+ (?:days|weeks|months) ago|{_alt(SCHEDULING)}"),
                "is a day, time, scheduling or billing detail of the reviewer's appointment"),
        ]
        if clinic or extra:
            self.rules.append(Rule("condition", _w(_alt(clinic | extra)),
                                   "names one of the clinic's conditions (from content or "
                                   "privacy_terms)"))
        if people:
            self.rules.append(Rule("practitioner", _w(_alt(people)),
                                   "names a practitioner, telling who treated the reviewer"))

    def check(self, text: str, reviewer: str = "") -> list[Hit]:
        hits: list[tuple[int, Hit]] = []
        raw = normalise(text)
        size = len(raw.encode("utf-8"))
        if not raw.strip():
            hits.append((0, Hit("length", "", "the reply is empty")))
        if size > REPLY_MAX_BYTES:
            hits.append((0, Hit("length", f"{size} bytes", f"is over Google's {REPLY_MAX_BYTES:,} "
                                                             "bytes")))
        for m in PHONE.finditer(raw):
            hits.append((m.start(), Hit("phone", m.group(0).strip(), "is a phone number; keep "
                                        "contact details out of public replies")))
        for pattern, what in LINKS:
            for m in pattern.finditer(raw):
                hits.append((m.start(), Hit("link", m.group(0), what)))
        for m in DATE.finditer(raw):
            hits.append((m.start(), Hit("appointment", m.group(0), "is a date; keep the reviewer's "
                                        "appointment details out of public replies")))
        text_w = words(text)
        for name in self.names:  # "Acupuncture Associates" is a name, not a treatment
            text_w = re.sub(rf"(?<= ){re.escape(name)}(?= )", lambda m: " " * len(m.group(0)),
                            text_w)
        for rule in self.rules:
            for m in rule.pattern.finditer(text_w):
                hits.append((m.start() + len(raw), Hit(rule.name, m.group(0), rule.why)))
        for part in _reviewer_parts(reviewer):
            m = re.search(rf"(?<= ){re.escape(part)}(?= )", text_w)
            if m:
                hits.append((m.start() + len(raw), Hit(
                    "reviewer", part, "is the reviewer's name; a reply should not identify them")))
        seen: set[tuple[str, str]] = set()
        out = []
        for _, hit in sorted(hits, key=lambda h: h[0]):
            if (hit.rule, hit.found) not in seen:
                seen.add((hit.rule, hit.found))
                out.append(hit)
        return out


def _reviewer_parts(reviewer: str) -> list[str]:
    parts = []
    for token in normalise(reviewer).split():
        w = words(token).strip()
        if len(w) >= 3 and w.isalpha() and w not in COMMON_WORDS:
            parts.append(w)
    return parts


PHONE = re.compile(r"(?<![\w.])\(?(?:\+?\d[\s().\-\u2010-\u2015]*){7,}(?![\w])")
DATE = re.compile(r"(?<![\w/])\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\w/])")
LINKS = [
    (re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.I), "is a link; Google rejects links in "
     "replies and they can lead anywhere"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I), "is an email address"),
    (re.compile(r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|us|co|info|biz|health|"
                r"clinic|io|me|ly|app|site|online|care|link|page|to)\b(?!@)", re.I),
     "is a web address"),
    (re.compile(r"\bdot (?:com|org|net)\b", re.I), "spells out a web address"),
]


def lint_for_site(site: object, extra_terms: Iterable[str] = ()) -> PrivacyLint:
    """The lint with the clinic's own terms: condition names, short names and synonyms from
    content, practitioners from config, and the business and location names as names."""
    from ..site import Site
    assert isinstance(site, Site)
    terms: list[str] = []
    for c in site.conditions:
        terms += [c.meta.name, c.meta.short_name, *c.meta.synonyms]
    biz = site.config.business
    names = [biz.name, *(loc.name for loc in site.config.locations)]
    return PrivacyLint(conditions=terms, practitioners=[p.name for p in biz.practitioners],
                       extra_terms=extra_terms, names=names)
