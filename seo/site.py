"""Load and validate the clinic's whole source of truth, once, into one Site model."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .content import Condition, Note, lint_claims, load_condition, load_note
from .errors import UserError
from .files import Reader, project_files, project_root
from .geo import direction, drive_estimate, miles_between
from .locale import Locale, Phone, get_locale
from .settings import Image, Location, Practitioner, SiteConfig, TownConfig, TownsFile
from .spelling import lint_spelling
from .validate import validate_model
from .values import duplicates
from .yamlio import Located, load_yaml

MIN_DECIMALS = 5  # Google asks for at least 5 decimals in LocalBusiness geo coordinates


@dataclass(frozen=True)
class Town:
    config: TownConfig
    location: Location
    straight_miles: float
    road_miles: float
    drive_minutes: int
    direction: str  # of the town as seen from the clinic
    note: Note | None
    condition_notes: dict[str, Note]
    nearby: tuple[str, ...]  # slugs of the closest other towns

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_home(self) -> bool:
        """The town the serving clinic is in ("our Parker clinic" is not "from Parker")."""
        return self.config.name.casefold() == self.location.address.locality.casefold()

    @property
    def county_is_city(self) -> bool:
        """A consolidated city-county ("City and County of Denver"): naming both reads oddly."""
        county = self.config.county.casefold()
        return county.startswith("city and county of") or county == f"city of {self.name.casefold()}"

    def facts(self) -> list[str]:
        """The town's own checkable facts, as they appear in page text."""
        c = self.config
        return [c.county, f"{self.road_miles} miles", f"{self.drive_minutes} minutes",
                *c.neighborhoods, *c.roads, *c.landmarks, *c.zip_codes]


@dataclass
class Site:
    root: Path
    config: SiteConfig
    towns: list[Town]
    conditions: list[Condition]
    examples: list[str] = field(default_factory=list)  # "config/site.yaml:12: business.telephone"
    claims: list[str] = field(default_factory=list)
    fingerprint: str = ""  # hash of every input file
    config_text: str = ""  # config/site.yaml as read (page fingerprints hash it)
    bios: dict[str, Note] = field(default_factory=dict)  # practitioner id -> full biography
    spelling: list[str] = field(default_factory=list)  # the spelling lint's findings
    warnings: list[str] = field(default_factory=list)  # `seo check` warnings (publishable anyway)
    phones: dict[str, Phone] = field(default_factory=dict)  # raw number -> display and E.164

    def __post_init__(self) -> None:
        self._towns = {t.slug: t for t in self.towns}
        self._conditions = {c.slug: c for c in self.conditions}
        self._served: dict[str, list[Town]] = {}
        for town in self.towns:
            self._served.setdefault(town.location.id, []).append(town)
        self.locale: Locale = get_locale(self.config.site.locale)

    def phone(self, number: str) -> Phone:
        return self.phones[number]

    def practitioner(self, pid: str) -> Practitioner:
        return next(p for p in self.config.business.practitioners if p.id == pid)

    def treats(self, practitioner: Practitioner) -> list[Condition]:
        """The conditions a practitioner treats (all of them unless listed)."""
        if not practitioner.treats:
            return self.conditions
        return [self._conditions[slug] for slug in practitioner.treats]

    def image_path(self, image: Image) -> Path:
        return self.root / "content/images" / image.file

    def towns_served_by(self, location_id: str) -> list[Town]:
        return self._served.get(location_id, [])

    def town(self, slug: str) -> Town:
        if slug in self._towns:
            return self._towns[slug]
        raise UserError(f"unknown town {slug!r} (known: {', '.join(t.slug for t in self.towns)})",
                        key="--town")

    def condition(self, slug: str) -> Condition:
        if slug in self._conditions:
            return self._conditions[slug]
        known = ", ".join(c.slug for c in self.conditions)
        raise UserError(f"unknown condition {slug!r} (known: {known})", key="--condition")

    def location(self, loc_id: str) -> Location:
        return next(loc for loc in self.config.locations if loc.id == loc_id)

    def path(self, setting: str) -> Path:
        """A path setting resolved against the project root."""
        p = Path(setting)
        return p if p.is_absolute() else self.root / p


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_site(root: Path | str = ".") -> Site:
    """Read config/ and content/ under `root`; raise UserError on the first problem found."""
    root = project_root(root)
    digest = hashlib.sha256()
    site_loc = load_yaml(root / "config/site.yaml", "config/site.yaml", root)
    config = validate_model(SiteConfig, site_loc)
    towns_loc = load_yaml(root / "config/towns.yaml", "config/towns.yaml", root)
    towns_file = validate_model(TownsFile, towns_loc)
    examples = [f"{loc.file}:{loc.line_of(p)}: {p}" for loc in (site_loc, towns_loc)
                for p in loc.examples]
    for loc in (site_loc, towns_loc):
        digest.update(loc.text.encode())

    reader = Reader(root)  # one per load: folders resolved once, never cached across loads
    conditions = _load_conditions(root, reader, digest)
    cond_slugs = {c.slug for c in conditions}
    for cond in conditions:
        for i, rel in enumerate(cond.meta.related):
            if rel not in cond_slugs or rel == cond.slug:
                raise UserError(f"unknown related condition {rel!r}", file=cond.file,
                                key=f"related[{i}]")
        if cond.meta.reviewed and cond.meta.reviewed.by not in {
                p.id for p in config.business.practitioners}:
            raise UserError(f"unknown practitioner {cond.meta.reviewed.by!r}", file=cond.file,
                            key="reviewed.by")

    towns = _build_towns(root, reader, config, towns_file, towns_loc, cond_slugs, digest)
    phones = _check_phones(config, site_loc)
    bios = _load_bios(root, reader, config, digest)
    _check_practitioners(config, site_loc, cond_slugs)
    _check_images(root, config, site_loc, digest)
    notes = [n for town in towns for n in [town.note, *town.condition_notes.values()] if n]
    notes += bios.values()
    claims = [f for c in conditions for f in lint_claims(c.source_text, c.file)]
    for note in notes:
        claims += lint_claims(note.text, note.file)
    allow = frozenset(w.lower() for w in config.site.spelling_allow)
    spelling = [f for c in conditions
                for f in lint_spelling(c.source_text, c.file, config.site.locale, allow)]
    for note in notes:
        spelling += lint_spelling(note.text, note.file, config.site.locale, allow)
    for loc in (site_loc, towns_loc):
        spelling += _lint_yaml_text(loc, config.site.locale, allow)
    return Site(root=root, config=config, towns=towns, conditions=conditions, examples=examples,
                claims=claims, fingerprint=digest.hexdigest(), config_text=site_loc.text,
                bios=bios, spelling=spelling,
                warnings=_warnings(config, site_loc), phones=phones)


def _lint_yaml_text(located: Located, locale: str, allow: frozenset[str]) -> list[str]:
    """Spelling in config text: descriptions, comments, town facts (and the British key
    `neighbourhoods`, which still loads but reads as a typo on a US site)."""
    return lint_spelling(located.text, located.file, locale, allow)


def _check_phones(config: SiteConfig, located: Located) -> dict[str, Phone]:
    """Every phone number parsed once: a number that can't be dialled is a config error."""
    locale = get_locale(config.site.locale)
    numbers = [("business.telephone", config.business.telephone,
                config.locations[0].address.country)]
    numbers += [(f"locations[{i}].telephone", loc.telephone, loc.address.country)
                for i, loc in enumerate(config.locations)]
    phones: dict[str, Phone] = {}
    for key, number, country in numbers:
        try:
            phones[number] = locale.phone(number, country)
        except ValueError as exc:
            raise UserError(str(exc), file=located.file, key=key, line=located.line_of(key)) from None
    return phones


def _load_bios(root: Path, reader: Reader, config: SiteConfig,
               digest: hashlib._Hash) -> dict[str, Note]:
    """content/practitioners/<id>.md: a practitioner's full biography (Markdown), optional."""
    ids = {p.id for p in config.business.practitioners}
    bios: dict[str, Note] = {}
    for path in project_files(root / "content/practitioners"):
        if path.stem not in ids:
            raise UserError(f"biography for unknown practitioner {path.stem!r} (known: "
                            f"{', '.join(sorted(ids)) or 'none'})", file=_rel(path, root))
        bios[path.stem] = load_note(path, _rel(path, root), reader)
        digest.update(bios[path.stem].text.encode())
    return bios


def _check_practitioners(config: SiteConfig, located: Located, conditions: set[str]) -> None:
    for i, person in enumerate(config.business.practitioners):  # ids are distinct (settings)
        key = f"business.practitioners[{i}]"
        for j, slug in enumerate(person.treats):
            if slug not in conditions:
                raise UserError(f"unknown condition {slug!r} (known: {', '.join(sorted(conditions))})",
                                file=located.file, key=f"{key}.treats[{j}]",
                                line=located.line_of(f"{key}.treats[{j}]"))


def _images(config: SiteConfig) -> list[tuple[str, Image]]:
    found: list[tuple[str, Image]] = []
    if config.business.logo:
        found.append(("business.logo", config.business.logo))
    for i, person in enumerate(config.business.practitioners):
        if person.photo:
            found.append((f"business.practitioners[{i}].photo", person.photo))
    for i, loc in enumerate(config.locations):
        found += [(f"locations[{i}].photos[{j}]", img) for j, img in enumerate(loc.photos)]
    return found


def _check_images(root: Path, config: SiteConfig, located: Located, digest: hashlib._Hash) -> None:
    """Every image config names exists under content/images/ (a symlink out of it is refused)."""
    folder = (root / "content/images").resolve()
    for key, image in _images(config):
        path = root / "content/images" / image.file
        where = {"file": located.file, "key": f"{key}.file", "line": located.line_of(f"{key}.file")}
        if not path.is_file():
            raise UserError(f"image not found: content/images/{image.file}", **where)
        if not path.resolve().is_relative_to(folder):
            raise UserError(f"content/images/{image.file} points outside content/images/", **where)
        digest.update(image.file.encode() + b"\0" + image.alt.encode())
    fonts = (root / "content/fonts").resolve()
    for i, face in enumerate(config.site.theme.fonts):
        key = f"site.theme.fonts[{i}].file"
        path = root / "content/fonts" / face.file
        if not path.is_file() or not path.resolve().is_relative_to(fonts):
            raise UserError(f"font not found in content/fonts/: {face.file}", file=located.file,
                            key=key, line=located.line_of(key))


def _decimals(raw: str | None, value: float) -> int:
    text = raw if raw is not None else repr(value)
    return len(text.split(".", 1)[1]) if "." in text else 0


def _warnings(config: SiteConfig, located: Located) -> list[str]:
    """What Google asks for that is missing: precise coordinates, a photo of each location."""
    out = []
    for i, loc in enumerate(config.locations):
        for axis in ("lat", "lng"):
            key = f"locations[{i}].geo.{axis}"
            places = _decimals(located.raw.get(key), getattr(loc.geo, axis))
            if places < MIN_DECIMALS:
                out.append(f"{located.file}:{located.line_of(key)}: {key}: {places} decimals; Google "
                           f"asks for at least {MIN_DECIMALS} (copy the pin's coordinates from a map)")
        if not loc.photos:
            key = f"locations[{i}]"
            out.append(f"{located.file}:{located.line_of(key)}: {key}.photos: no photo of the "
                       "location; Google recommends an `image` for LocalBusiness markup")
    return out


def _load_conditions(root: Path, reader: Reader, digest: hashlib._Hash) -> list[Condition]:
    files = project_files(root / "content/conditions")
    if not files:
        raise UserError("no condition files (*.md) found", file="content/conditions/")
    conditions: list[Condition] = []
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    for path in files:
        cond = load_condition(path, _rel(path, root), reader)
        digest.update(cond.source_text.encode())
        if cond.slug in seen:
            raise UserError(f"duplicate slug {cond.slug!r} (also in {seen[cond.slug]})",
                            file=cond.file, key="slug")
        if path.stem != cond.slug:
            raise UserError(f"slug {cond.slug!r} does not match the file name {path.name!r}",
                            file=cond.file, key="slug")
        seen[cond.slug] = cond.file
        twin = names.get(" ".join(cond.name.lower().split()))
        if twin:
            raise UserError(f"duplicate condition name {cond.name!r} (also in {twin})",
                            file=cond.file, key="name")
        names[" ".join(cond.name.lower().split())] = cond.file
        conditions.append(cond)
    return conditions


def _build_towns(root: Path, reader: Reader, config: SiteConfig, towns_file: TownsFile, located,
                 cond_slugs: set[str], digest: hashlib._Hash) -> list[Town]:
    locations = {loc.id: loc for loc in config.locations}
    for i, first in duplicates([(t.name, t.state) for t in towns_file.towns]):
        tc = towns_file.towns[i]
        raise UserError(f"duplicate town {tc.name}, {tc.state} (also towns[{first}]); two pages "
                        "would read the same", file=located.file, key=f"towns[{i}].name",
                        line=located.line_of(f"towns[{i}].name"))
    seen: set[str] = set()
    for i, tc in enumerate(towns_file.towns):
        key = f"towns[{i}]"
        if tc.slug in seen:
            raise UserError(f"duplicate town slug {tc.slug!r}", file=located.file, key=f"{key}.slug",
                            line=located.line_of(f"{key}.slug"))
        seen.add(tc.slug)
        if tc.served_by not in locations:
            raise UserError(f"unknown location {tc.served_by!r} (known: {', '.join(locations)})",
                            file=located.file, key=f"{key}.served_by",
                            line=located.line_of(f"{key}.served_by"))
    _check_note_files(root, seen, cond_slugs)

    towns: list[Town] = []
    for tc in towns_file.towns:
        loc = locations[tc.served_by]
        straight = miles_between(loc.geo.lat, loc.geo.lng, tc.geo.lat, tc.geo.lng)
        road, minutes = drive_estimate(straight)
        note_path = root / "content/towns" / f"{tc.slug}.md"
        note = load_note(note_path, _rel(note_path, root), reader) \
            if os.path.lexists(note_path) else None
        cnotes: dict[str, Note] = {}
        for path in project_files(root / "content/towns" / tc.slug):
            cnotes[path.stem] = load_note(path, _rel(path, root), reader)
        for n in ([note] if note else []) + list(cnotes.values()):
            digest.update(n.text.encode())
        others = sorted(
            (miles_between(tc.geo.lat, tc.geo.lng, o.geo.lat, o.geo.lng), o.slug)
            for o in towns_file.towns if o.slug != tc.slug)
        towns.append(Town(
            config=tc, location=loc, straight_miles=round(straight, 1), road_miles=road,
            drive_minutes=minutes,
            direction=direction(loc.geo.lat, loc.geo.lng, tc.geo.lat, tc.geo.lng),
            note=note, condition_notes=cnotes,
            nearby=tuple(slug for _, slug in others[: config.site.nearby_towns])))
    return towns


def _check_note_files(root: Path, towns: set[str], conditions: set[str]) -> None:
    folder = root / "content/towns"
    if not folder.is_dir():
        return
    for entry in project_files(folder, "*"):
        rel = _rel(entry, root)
        if entry.suffix == ".md":
            if entry.stem not in towns:
                raise UserError(f"notes for unknown town {entry.stem!r}", file=rel)
        elif entry.is_dir():
            if entry.name not in towns:
                raise UserError(f"notes folder for unknown town {entry.name!r}", file=rel)
            for sub in project_files(entry):
                if sub.stem not in conditions:
                    raise UserError(f"notes for unknown condition {sub.stem!r}", file=_rel(sub, root))
