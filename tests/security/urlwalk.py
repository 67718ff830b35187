"""Walk every URL pattern the project has *now* and fill its parameters with real objects.

The security tests parametrize over `all_routes()`, so a view added tomorrow is walked without
anyone editing a list. Parameters are filled by name (deck_id → the private deck, card_id → its
card, …); an integer parameter with an unknown name gets every private object's id in turn.
"""

import itertools
import re
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")
MAX_URLS_PER_ROUTE = 12
# Names of private objects by parameter name; `PrivateWorld.ids` holds what they point at.
PARAM_OBJECTS = {
    "deck": "deck",
    "card": "card",
    "review": "review",
    "reviewlog": "review",
    "log": "review",
    "state": "memory",
    "memory": "memory",
    "memorystate": "memory",
    "settings": "settings",
    "studysettings": "settings",
    "run": "optimizer_run",
    "optimizerrun": "optimizer_run",
    "job": "import_job",
    "importjob": "import_job",
    "user": "user",
}


@dataclass
class Route:
    template: str  # the route as written, prefixes joined: "decks/<int:deck_id>/"
    params: list[tuple[str, str]]  # (name, converter) in order
    name: str | None
    callback: object
    regex: bool = False
    unfillable: bool = False
    groups: list[tuple[str, str]] = field(default_factory=list)  # regex: (name, body)

    @property
    def id(self) -> str:
        return "/" + self.template

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("admin/")

    @property
    def is_framework_admin(self) -> bool:
        """Django's and axes' stock ModelAdmin pages: access-checked, but not walked in full."""
        return self.template.startswith(("admin/auth/", "admin/axes/"))

    @property
    def object_params(self) -> list[str]:
        """Parameters that name a stored object (not a reset token or a catch-all path)."""
        return [
            name
            for name, conv in self.params
            if conv == "int" or name.endswith(("_id", "_pk")) or name in ("pk", "id")
        ]

    @property
    def login_required(self) -> bool:
        return getattr(self.callback, "login_required", True)

    @property
    def csrf_exempt(self) -> bool:
        return getattr(self.callback, "csrf_exempt", False)


def _walk(patterns, prefix="", regex=False):
    for pattern in patterns:
        text = str(pattern.pattern)
        is_regex = regex or type(pattern.pattern).__name__ == "RegexPattern"
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + text, is_regex)
        elif isinstance(pattern, URLPattern):
            yield prefix + text, is_regex, pattern


def all_routes() -> list[Route]:
    routes = []
    for template, is_regex, pattern in _walk(get_resolver().url_patterns):
        if is_regex:
            groups = [(m["name"], m["body"]) for m in _REGEX_GROUP.finditer(template)]
            rest = _REGEX_GROUP.sub("", template).replace("^", "").replace("$", "")
            route = Route(
                template,
                [(n, "regex") for n, _ in groups],
                pattern.name,
                pattern.callback,
                regex=True,
                groups=groups,
            )
            route.unfillable = bool(re.search(r"[\\()\[\]*+?|{}]", rest))
        else:
            params = [(m["name"], m["conv"] or "str") for m in _ROUTE_PARAM.finditer(template)]
            route = Route(template, params, pattern.name, pattern.callback)
        routes.append(route)
    return routes


_ADMIN_OBJECT = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/<path:object_id>")


def _candidates(route, name, conv, body, world) -> list[str]:
    key = name.lower().removesuffix("_id").removesuffix("_pk").replace("_", "")
    if name == "content_type_id":
        from django.contrib.contenttypes.models import ContentType

        return [str(ContentType.objects.get_for_model(world.deck).pk)]
    if name == "filename" and hasattr(world, "media_filename"):
        return [world.media_filename]  # an image of the private deck
    if name == "object_id":
        # The admin's change pages: the private object of that model, else the deck.
        match = _ADMIN_OBJECT.match(route.template)
        model = PARAM_OBJECTS.get(match["model"]) if match else None
        return [str(world.ids.get(model, world.ids["deck"]))]
    if key in PARAM_OBJECTS and PARAM_OBJECTS[key] in world.ids:
        return [str(world.ids[PARAM_OBJECTS[key]])]
    if name == "username":
        return [world.owner.username]
    if conv == "regex":
        if re.fullmatch(r"[\w|]+", body):
            return [body.split("|")[0]]
        if body in (".*", ".+"):
            return ["no-such-page"]
        if body in (r"\d+", "[0-9]+"):
            return sorted({str(v) for v in world.ids.values()})
        return ["x"]
    if conv == "int":
        return sorted({str(v) for v in world.ids.values()}, key=int)
    if conv == "uuid":
        return [str(uuid.UUID(int=1))]
    return ["x"]


def fill(route: Route, world) -> list[str]:
    """Concrete URLs for a route, its parameters pointing at the world's private objects."""
    options = [
        _candidates(route, name, conv, dict(route.groups).get(name, ""), world)
        for name, conv in route.params
    ]
    urls = []
    for values in itertools.islice(itertools.product(*options), MAX_URLS_PER_ROUTE):
        if route.regex:
            chosen = dict(zip([n for n, _ in route.params], values, strict=True))
            text = _REGEX_GROUP.sub(lambda m, c=chosen: c[m["name"]], route.template)
            text = text.replace("^", "").replace("$", "")
        else:
            it = iter(values)
            text = _ROUTE_PARAM.sub(lambda _m, it=it: next(it), route.template)
        urls.append("/" + text)
    return urls


# Sessions and axes' records change on log-in by design; permissions and content types never do.
SKIP_MODELS = {("sessions", "session"), ("axes", "accessattempt"), ("axes", "accesslog"),
               ("axes", "accessfailurelog"), ("admin", "logentry"), ("auth", "permission"),
               ("contenttypes", "contenttype")}  # fmt: skip


def db_fingerprint() -> dict[str, list]:
    """Every row of every table that holds app data, to prove a request wrote nothing."""
    rows = {}
    for model in apps.get_models():
        meta = model._meta
        if (meta.app_label, meta.model_name) in SKIP_MODELS or not meta.managed:
            continue
        rows[meta.label] = sorted(map(repr, model._default_manager.values_list()))
    return rows


def diff_fingerprints(before, after) -> list[str]:
    changed = []
    for label in before:
        if before[label] != after[label]:
            added = sorted(set(after[label]) - set(before[label]))[:2]
            removed = sorted(set(before[label]) - set(after[label]))[:2]
            changed.append(f"{label}: +{added} -{removed}")
    return changed
