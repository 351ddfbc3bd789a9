"""Find operations for a task described in plain words, offline and deterministically.

Each operation is a small document: its name (weighted most), area, the words of its path, its
description, and its fields' names and descriptions (weighted least). Queries and documents go
through the same tokenizer (lower case, a light suffix stemmer); the query is then widened with a
hand-written map of how people talk about email ("stop emailing" -> unsubscribe, "bounced" ->
bounces and events, "newsletter" -> mailing lists) and of the verbs they use for what operations do
("take off" -> delete, "who" -> list). Documents are ranked with BM25 over groups of terms: the
words one phrase expands to count mostly through the best of them, so a phrase weighs about as much
as a word. Verbs are matched against the first word of operation names: a verb the query says
outranks one a phrase only implies ("list everyone who opted out" lists, "opted out" alone adds),
and "all"/"every" make it plural ("delete every template" clears). Near-duplicates (``add_bounce``, ``add_bounces``,
``get_bounce``...) are spread out so a handful of results covers more than one idea; each verb the
query says is an idea of its own ("show a domain": ``list_domains`` and ``get_domain``). Ties break by
name: the same query over the same operations always gives the same answer. No model, no network.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mg_tools.operation import Operation

__all__ = ["OperationIndex", "Query", "SearchHit", "parse", "query_terms", "stem", "tokenize"]

K1 = 1.2
B = 0.75
#: Field weights: a word in the name says more than a word in the description.
NAME, AREA, PATH, DESCRIPTION, FIELD = 3.0, 2.0, 1.0, 1.0, 0.5
#: Weight of the words a single query word adds (a phrase's expansion stands for the phrase: 1.0).
EXPANSION = 0.6
#: Share of the score that depends on how many words of the name the query covers.
COVERAGE = 0.3
#: Each earlier result about the same thing (same name without its verb) scales a score by this.
REPEAT = 0.8
#: Share of a group's score carried by its terms other than the best-matching one.
SPREAD = 0.25
#: What an operation whose name starts with a verb the query says gains, and the share of the score
#: one whose verb is another loses.
VERB, VERB_MISMATCH = 1.0, 0.4

#: Words that make a verb plural: "delete every template" clears, "show all lists" lists.
QUANTIFIERS = frozenset(["all", "every", "everything", "everyone", "everybody", "entire", "whole"])
PLURAL_VERBS = {"delete": "clear", "remove": "clear", "get": "list"}

_STOPWORDS = QUANTIFIERS | frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "from",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "my",
        "our",
        "your",
        "me",
        "i",
        "we",
        "you",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "did",
        "does",
        "done",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "their",
        "them",
        "they",
        "he",
        "she",
        "his",
        "her",
        "him",
        "has",
        "have",
        "had",
        "please",
        "pls",
        "want",
        "wanted",
        "need",
        "needs",
        "like",
        "about",
        "just",
        "so",
        "into",
        "up",
        "again",
        "also",
        "some",
        "any",
        "and",
        "or",
        "but",
        "not",
        "no",
        "then",
        "than",
        "if",
        "as",
        "me",
        "us",
        "let",
        "lets",
        "get",
        "got",
        "make",
        "sure",
        "one",
        "new",
        "ever",
    ]
)

#: How people talk about email -> the words Mailgun's operations use. ``|`` separates triggers; an
#: expansion ``verb: words`` also implies the verb of the operation meant ("stop emailing" adds an
#: unsubscribe). A trigger stands for its expansion: its own words count only when the expansion
#: repeats them ("stop emailing" is not about sending). A phrase's expansion weighs fully, a single
#: word's less, except the word itself.
SYNONYMS: tuple[tuple[str, str], ...] = (
    # suppressions
    (
        "stop emailing|stop sending to|stop sending mail|stop sending email|stop mailing|stop contacting|"
        "do not email|dont email|never email|no more email|no longer email|opt out|optout|opted out|unsubscribe",
        "add: unsubscribe suppression",
    ),
    ("block|blocklist|blacklist|suppress", "add: unsubscribe suppression bounce"),
    (
        "blocked|suppressed|suppression|suppressions|on a list|on the list|can i email|can we email|unsubscribed",
        "check: suppression bounce unsubscribe complaint",
    ),
    (
        "resubscribe|start emailing again|opt back in|unblock|unsuppress|email again|send again",
        "delete: remove unsubscribe bounce suppression",
    ),
    (
        "bounce|bounced|hard bounce|soft bounce|undeliverable|rejected|invalid address|bad address|failed|failure|"
        "fail|not delivered|never arrived|didnt arrive|did not arrive",
        "bounce failed event",
    ),
    ("spam|complaint|complaints|complain|complained|marked as spam|junk|abuse", "complaint spam"),
    ("whitelist|allowlist|allow list|safelist|safe list|never suppress", "allowlist"),
    # what happened
    (
        "what happened|what happens|why|trace|track|tracking|history|activity|timeline|status|arrive|arrived|"
        "reach|reached|delivered|delivery|opened|clicked|read receipt|did it arrive|did they get",
        "trace: event log",
    ),
    (
        "stats|statistics|how many|how much|metrics|analytics|rate|rates|numbers|count|volume|report|performance|"
        "deliverability|open rate|click rate|bounce rate|usage|dashboard",
        "metric count rate",
    ),
    (
        "paid feature|paid features|blocklist monitoring|inbox preview|inbox previews|previews|validations|"
        "email validations|consumed|consumption",
        "usage metric",
    ),
    # lists
    (
        "newsletter|audience|subscribers|subscriber|members|member|membership|people|contacts|contact|customers|"
        "users on",
        "mailing list member",
    ),
    (
        "who can post|who may post|can post|may post|members post|allowed to post|access level|permission|"
        "permissions|readonly|read only",
        "update: access level member list",
    ),
    ("mailing list|distribution list|email list|list of people", "mailing list"),
    # sending
    ("send|email|mail|write to|deliver to|reply to|message someone|email someone", "send: message"),
    ("schedule|scheduled|later|tomorrow|delay|send at|queue|queued|pending", "scheduled queue delivery time"),
    ("cancel", "delete: scheduled"),
    ("attach|attachment|file|pdf|invoice|document", "attachment"),
    ("raw|mime|eml|rfc 2822", "mime"),
    ("stored|storage|copy of the message|message content|body of", "stored message"),
    ("test|dry run|testmode|without sending|try out", "test mode sandbox"),
    # configuration
    ("key|keys|api key|credential|credentials|password|smtp|login|secret|token", "key credential password smtp"),
    ("notify|notification|notifications|post to|tell my|let my", "create: webhook url post"),
    (
        "webhook|callback|callbacks|posted|posting|my server|my app|my url|endpoint|real time|realtime",
        "webhook url post",
    ),
    (
        "forward|forwarding|inbound|incoming|receive|receiving|catch all|catchall|replies|route|routing|"
        "arrives at|arrive at|comes in|come in",
        "route forward inbound match",
    ),
    ("template|layout|design|reusable|handlebars|placeholders|placeholder", "template"),
    ("dns|spf|dkim|mx|records|record|txt record|authenticate|verify domain", "verify: domain dns record"),
    # Tracking settings: these phrases win over the words "opens", "clicks" and "tracking", which mean events.
    ("click tracking|track clicks|tracking clicks|link tracking", "click tracking"),
    ("open tracking|track opens|tracking opens", "open tracking"),
    ("unsubscribe tracking|unsubscribe link|unsubscribe links|unsubscribe footer", "unsubscribe tracking"),
    ("tracking settings|tracking links|tracking link|tracking host", "tracking"),
    ("stop tracking|start tracking", "update: tracking"),
    (
        "set up correctly|setup correctly|configured correctly|ready to send|can send|able to send|still missing|"
        "missing|misconfigured|new domain",
        "check: domain setup",
    ),
    ("sending domain|domain setup|custom domain", "domain"),
    ("tag|tags|label|labels|category|campaign", "tag"),
    ("ip|ips|dedicated ip|ip pool|pool|warmup|warm up", "ip ips pool dedicated"),
    ("validate|validation|verify address|check address|is valid|real address|typo", "validation validate address"),
    ("subaccount|sub account|client account|customer account|reseller", "subaccount"),
    ("team member|teammate|colleague|user|users|team", "user"),
    ("quota|cap|monthly limit|sending limit|limits", "limit"),
    ("bulk|batch|many|multiple|several|lots|spreadsheet|csv", "import: 1000 bulk"),
)
#: The verbs people use -> the verbs operation names start with. A verb the query says outranks
#: the verbs its phrases imply ("list everyone who opted out" lists).
ACTIONS: tuple[tuple[str, str], ...] = (
    ("add|create|new|insert|register|set up|setup|subscribe|put|store|save", "add create"),
    ("upload|load|bulk load", "import add"),
    ("remove|delete|drop|erase|get rid of|take off|stop", "delete remove"),
    ("clear|empty|reset|wipe|purge|all of them", "clear delete"),
    ("show|see|view|look up|lookup|find|fetch|read|display|inspect|get|where", "get list"),
    ("check|is there|is it|are they", "check get verify"),
    ("which|who|whom", "list"),
    (
        "change|edit|modify|update|rename|set|turn on|turn off|enable|disable|switch|point|repoint|redirect|replace",
        "update",
    ),
    ("handle|handles|handled|would handle|would get|matches|matching", "match"),
)
#: Words that name what an operation does (its name's first word): said first in a query ("list
#: the domains", "import bounces"), each is a verb of the query too.
VERBS = frozenset(
    [
        "add",
        "check",
        "clear",
        "copy",
        "create",
        "delete",
        "get",
        "import",
        "list",
        "match",
        "page",
        "send",
        "trace",
        "update",
        "verify",
    ]
)
#: A number of two or more in a query ("add 300 people") hints at a bulk operation.
BULK = "import: 1000 bulk"

_EMAIL = re.compile(r"[^\s@<>(),;]+@[^\s@<>(),;]+\.[a-z]{2,}")
_URL = re.compile(r"https?://\S+")
_HOSTNAME = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b")
#: "did bob ever get ...", "has alice received ...": a question about delivery.
_RECEIVED = re.compile(
    r"\b(?:did|has|have|had)\b(?: \w+){0,3}? (?:ever |really |actually )?"
    r"(?:get|got|receive|received|see|seen|saw)\b"
)
_WORD = re.compile(r"[a-z0-9]+")
_VERSION = re.compile(r"v\d")
_SUFFIXES = ("ies", "ing", "ion", "ed", "es", "s", "e", "y")


def stem(word: str) -> str:
    """A light, stable suffix stemmer: bounce, bounces, bounced, bouncing -> ``bounc``."""
    while True:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        else:
            return word


def tokenize(text: str) -> list[str]:
    """Lower-cased word stems of ``text`` (snake_case names split into words)."""
    return [stem(w) for w in _WORD.findall(text.lower().replace("_", " "))]


def _normalize(query: str) -> str:
    text = query.lower().replace("\u2019", "'").replace("'", "")
    text = _URL.sub(" url ", text)
    text = _EMAIL.sub(" address ", text)
    text = " ".join(_HOSTNAME.sub(" domain ", text).split())
    return _RECEIVED.sub("did it arrive", text)


@dataclass(frozen=True, slots=True)
class _Trigger:
    words: tuple[str, ...]
    stems: tuple[str, ...]
    subject: tuple[str, ...]
    verbs: tuple[str, ...]
    action: bool  # from ACTIONS: its verbs are said, not implied


def _expansion(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``"add: unsubscribe suppression"`` -> (subject stems, verb stems)."""
    verbs, _, subject = text.rpartition(":")
    return tuple(tokenize(subject)), tuple(tokenize(verbs))


def _compile_synonyms() -> list[_Trigger]:
    table = []
    for triggers, expansion in SYNONYMS:
        subject, verbs = _expansion(expansion)
        table += [
            _Trigger(tuple(_WORD.findall(t)), tuple(tokenize(t)), subject, verbs, False) for t in triggers.split("|")
        ]
    for triggers, verbs in ACTIONS:
        table += [
            _Trigger(tuple(_WORD.findall(t)), tuple(tokenize(t)), (), tuple(tokenize(verbs)), True)
            for t in triggers.split("|")
        ]
    # Longest triggers first, so "stop emailing" wins over "email" (stable: a tie keeps table order).
    return sorted(table, key=lambda t: -len(t.words))


_SYNONYMS = _compile_synonyms()
_BULK = _expansion(BULK)
_STOP_STEMS = frozenset(stem(w) for w in _STOPWORDS)
_VERB_STEMS = frozenset(stem(w) for w in VERBS)
_PLURAL = {stem(k): stem(v) for k, v in PLURAL_VERBS.items()}


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: weighted terms in groups, and the verbs it says (empty when it says none)."""

    groups: tuple[dict[str, float], ...]
    verbs: frozenset[str]

    @property
    def terms(self) -> dict[str, float]:
        return {term: weight for group in self.groups for term, weight in group.items()}


def parse(query: str) -> Query:
    """The terms of a query in groups: each of its own words, and what each phrase of the synonym
    map expands to (one group for the subject, one for the verb it implies). A term is kept in the
    group that weighs it most. The verbs a query says replace the verbs its phrases imply."""
    words = _WORD.findall(_normalize(query))
    # A stop word is never a stem of something else ("ever" is not "every").
    stems = ["" if w in _STOPWORDS else stem(w) for w in words]
    subjects: list[dict[str, float]] = []
    implied: list[dict[str, float]] = []
    said: set[str] = set()
    consumed: set[int] = set()
    # Exact words first ("blocked" is a question about suppressions, "block" an order), then stems.
    for key in (0, 1):
        sequence = words if key == 0 else stems
        for trigger in _SYNONYMS:
            if key and trigger.action:
                continue  # verbs are said in their own form: "password resets" resets nothing
            phrase = trigger.words if key == 0 else trigger.stems
            n = len(phrase)
            for i in range(len(sequence) - n + 1):
                span = range(i, i + n)
                if tuple(sequence[i : i + n]) != phrase or any(j in consumed for j in span):
                    continue
                consumed.update(span)
                if trigger.action:
                    said.update(trigger.verbs)
                    continue
                # A phrase's expansion stands for the phrase; a single word's weighs less, except the word.
                weight = 1.0 if n > 1 else EXPANSION
                subjects.append({t: 1.0 if t == trigger.stems[0] else weight for t in trigger.subject})
                implied.append({t: 1.0 if t == trigger.stems[0] else weight for t in trigger.verbs})
    leading = True  # nothing said yet: a verb here is an order ("list the domains")
    for i, (word, term) in enumerate(zip(words, stems)):
        if i in consumed:
            leading = False
        elif word.isdigit():
            if int(word) >= 2:
                subjects.append(dict.fromkeys(_BULK[0], EXPANSION))
                implied.append(dict.fromkeys(_BULK[1], EXPANSION))
        elif term and term not in _STOP_STEMS:
            if leading and term in _VERB_STEMS:
                said.add(term)
            else:
                subjects.append({term: 1.0})  # "the beta list" names a list
            leading = False
    if said and QUANTIFIERS.intersection(words):
        said = {_PLURAL.get(verb, verb) for verb in said}
    groups = subjects if said else subjects + implied
    best: dict[str, tuple[float, int]] = {}
    for index, group in enumerate(groups):
        for term, weight in group.items():
            if weight > best.get(term, (0.0, 0))[0]:
                best[term] = (weight, index)
    out: list[dict[str, float]] = [{} for _ in groups]
    for term, (weight, index) in best.items():
        out[index][term] = weight
    return Query(tuple(group for group in out if group), frozenset(said))


def query_terms(query: str) -> dict[str, float]:
    """The weighted terms of a query: its own words, the verbs it says, and what the synonym map adds."""
    parsed = parse(query)
    return {**dict.fromkeys(parsed.verbs, 1.0), **parsed.terms}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the operation and its score (higher is better)."""

    operation: Operation
    score: float


class OperationIndex:
    """A BM25 index over operations: ``OperationIndex(ops).search("stop emailing bob")``."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self.operations = sorted(operations, key=lambda op: op.name)
        self.names = {op.name: op for op in self.operations}
        self.areas = tuple(sorted({op.area for op in self.operations}))
        self._names = [tokenize(op.name) for op in self.operations]
        docs = [self._document(op) for op in self.operations]
        self._docs = [main + fields for main, fields in docs]
        # Long parameter lists must not bury an operation: length counts what it says about itself.
        self._lengths = [sum(main.values()) for main, _ in docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._docs else 1.0
        # Rarity is judged on what operations say about themselves: a field every operation has
        # (``domain``) must not make the word worthless when it is an operation's subject.
        main_df: Counter[str] = Counter()
        field_df: Counter[str] = Counter()
        for main, fields in docs:
            main_df.update(main.keys())
            field_df.update(fields.keys())
        n = len(docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in {**field_df, **main_df}.items()}

    @staticmethod
    def _document(op: Operation) -> tuple[Counter[str], Counter[str]]:
        main: Counter[str] = Counter()
        fields: Counter[str] = Counter()

        def add(doc: Counter[str], text: str, weight: float) -> None:
            for term in tokenize(text):
                doc[term] += weight

        add(main, op.name, NAME)
        add(main, op.area, AREA)
        add(main, _path_words(op.path), PATH)
        add(main, _OTHER_TOOL.sub(" ", op.description), DESCRIPTION)
        for name, info in op.params.model_fields.items():
            add(fields, f"{name} {info.description or ''}", FIELD)
        return main, fields

    def score(self, groups: Sequence[dict[str, float]]) -> list[float]:
        """BM25 of each operation, summed over groups; within a group the best term counts fully
        and the others by ``SPREAD``."""
        scores = []
        for doc, length in zip(self._docs, self._lengths):
            total = 0.0
            norm = K1 * (1 - B + B * length / self._avg)
            for group in groups:
                parts = [
                    weight * self._idf[term] * doc[term] * (K1 + 1) / (doc[term] + norm)
                    for term, weight in group.items()
                    if doc.get(term)
                ]
                if parts:
                    top = max(parts)
                    total += top + SPREAD * (sum(parts) - top)
            scores.append(total)
        return scores

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        """The best ``limit`` operations for ``query``, best first (none when nothing matches)."""
        parsed = parse(query)
        terms = parsed.terms.keys() | parsed.verbs
        scores = self.score(parsed.groups)
        named = set(re.findall(r"[a-z][a-z0-9_]*", query.lower())) & self.names.keys()
        top = max(scores, default=0.0)
        ranked = []
        for op, score, name in zip(self.operations, scores, self._names):
            # Prefer the operation whose name is all about the query: send_message over send_mime_message.
            score *= 1 - COVERAGE + COVERAGE * sum(t in terms for t in name) / len(name)
            # Said "show": get_x and list_x, not add_x (a verb we do not know is no evidence either way).
            if name[0] in parsed.verbs:
                score += VERB
            elif parsed.verbs and name[0] in _VERB_STEMS:
                score *= 1 - VERB_MISMATCH
            if op.name in named:
                score += top + 1.0  # the caller named the operation
            if op.deprecated:
                score *= 0.8
            if score > 0:
                ranked.append([score, op])
        hits: list[SearchHit] = []
        seen: Counter[str] = Counter()

        def about(op: Operation) -> str:
            # Doing each verb the query says to one thing is not a repeat: "show a domain" is
            # get_domain as much as list_domains.
            verb = tokenize(op.name)[0]
            return _subject(op) + (f" {verb}" if verb in parsed.verbs else "")

        while ranked and len(hits) < limit:
            ranked.sort(key=lambda item: (-item[0] * REPEAT ** seen[about(item[1])], item[1].name))
            score, op = ranked.pop(0)
            hits.append(SearchHit(op, round(score * REPEAT ** seen[about(op)], 4)))
            seen[about(op)] += 1
        return hits


#: A tool name in a description ("Deprecated: use get_metrics") is about that other tool, not this one.
_OTHER_TOOL = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _path_words(path: str) -> str:
    """The literal segments of a path template: ``/v3/{domain}/bounces/{address}`` -> ``bounces``."""
    return " ".join(s for s in path.split("/") if s and not s.startswith("{") and not _VERSION.fullmatch(s))


def _subject(op: Operation) -> str:
    """What an operation is about: its name without the verb, singular (``add_bounces`` -> ``bounc``)."""
    return " ".join(tokenize(op.name)[1:]) or op.name
