"""Find operations for a task described in plain words, offline and deterministically.

Each operation is a small document: its name (weighted most), area, the words of its path, its
description, and its fields' names and descriptions (weighted least). Queries and documents go
through the same tokenizer (lower case, a light suffix stemmer); the query is then widened with a
hand-written map of how people talk about email ("stop emailing" -> unsubscribe, "bounced" ->
bounces and events, "newsletter" -> mailing lists). Documents are ranked with BM25, and
near-duplicates (``add_bounce``, ``add_bounces``, ``get_bounce``...) are spread out so a handful of
results covers more than one idea. Ties break by name: the same query over the same operations
always gives the same answer. No model, no network.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from mg_tools.operation import Operation

__all__ = ["OperationIndex", "SearchHit", "stem", "tokenize"]

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

_STOPWORDS = frozenset(
    """a an the to from of for in on at by with my our your me i we you it its is are was were be been
    being do did does done can could would should will shall may might must how what when where which
    who whom whose this that these those there here their them they he she his her him has have had
    please pls want wanted need needs like about just so into up again also some any and or but not no
    then than if as me us let lets get got make sure one new""".split()
)

#: How people talk about email -> the words Mailgun's operations use. ``|`` separates triggers. A
#: trigger stands for its expansion: its own words count only when the expansion repeats them ("stop
#: emailing" is not about sending). A phrase's expansion weighs fully, a single word's less, except
#: the word itself.
SYNONYMS: tuple[tuple[str, str], ...] = (
    # suppressions
    ("stop emailing|stop sending|stop mailing|stop contacting|do not email|dont email|never email|no more email|"
     "no longer email|opt out|optout|unsubscribe", "add unsubscribe suppression"),
    ("block|blocklist|blacklist|suppress", "add unsubscribe suppression bounce"),
    ("blocked|suppressed|suppression|suppressions|on a list|on the list|can i email|can we email",
     "check suppression bounce unsubscribe complaint"),
    ("resubscribe|start emailing again|opt back in|unblock|unsuppress|email again|send again",
     "delete remove unsubscribe bounce suppression"),
    ("bounce|bounced|hard bounce|soft bounce|undeliverable|rejected|invalid address|bad address|failed|failure|"
     "fail|not delivered|never arrived|didnt arrive|did not arrive",
     "bounce failed event"),
    ("spam|complaint|complaints|complain|complained|marked as spam|junk|abuse", "complaint spam"),
    ("whitelist|allowlist|allow list|safelist|safe list|never suppress", "allowlist"),
    # what happened
    ("what happened|what happens|why|trace|track|tracking|history|activity|timeline|status|arrive|arrived|"
     "reach|reached|delivered|delivery|opened|clicked|read receipt|did it arrive|did they get",
     "event log trace"),
    ("stats|statistics|how many|metrics|analytics|rate|rates|numbers|count|volume|report|performance|"
     "deliverability|open rate|click rate|bounce rate|usage|dashboard",
     "metric count rate"),
    # lists
    ("newsletter|audience|subscribers|subscriber|members|member|people|contacts|contact|customers|users on",
     "mailing list member"),
    ("mailing list|distribution list|email list|list of people", "mailing list"),
    # sending
    ("send|email|mail|write to|deliver to|reply to|message someone|email someone", "send message"),
    ("schedule|scheduled|later|tomorrow|delay|send at|queue|queued|pending", "scheduled queue delivery time"),
    ("cancel", "delete scheduled"),
    ("attach|attachment|file|pdf|invoice|document", "attachment"),
    ("raw|mime|eml|rfc 2822", "mime"),
    ("stored|storage|copy of the message|message content|body of", "stored message"),
    ("test|dry run|testmode|without sending|try out", "test mode sandbox"),
    # configuration
    ("key|keys|api key|credential|credentials|password|smtp|login|secret|token", "key credential password smtp"),
    ("webhook|callback|notify|notification|notifications|post to|my server|my app|my url|endpoint|real time|"
     "realtime", "webhook url post"),
    ("forward|forwarding|inbound|incoming|receive|receiving|catch all|catchall|replies|route|routing",
     "route forward inbound match"),
    ("template|layout|design|reusable|handlebars|placeholders|placeholder", "template version"),
    ("dns|spf|dkim|mx|records|record|txt record|authenticate|verify domain", "domain dns record verify"),
    ("sending domain|domain setup|custom domain", "domain"),
    ("tag|tags|label|labels|category|campaign", "tag"),
    ("ip|ips|dedicated ip|ip pool|pool|warmup|warm up", "ip ips pool dedicated"),
    ("validate|validation|verify address|check address|is valid|real address|typo", "validation validate address"),
    ("subaccount|sub account|client account|customer account|reseller", "subaccount"),
    ("team member|teammate|colleague|user|users|team", "user"),
    ("quota|cap|monthly limit|sending limit|limits", "limit"),
    # verbs
    ("add|create|new|insert|register|set up|setup|upload|subscribe|put", "add create"),
    ("remove|delete|drop|erase|get rid of|take off|purge|wipe", "delete remove"),
    ("clear|empty|reset|all of them", "clear delete every"),
    ("show|see|view|look up|lookup|find|fetch|read|display|inspect|get", "get list"),
    ("check|is there|is it|are they", "check get"),
    ("which|who|whom", "list"),
    ("change|edit|modify|update|rename|set|turn on|turn off|enable|disable|switch", "update change"),
    ("all|every|everything|entire|whole", "list every"),
    ("bulk|batch|many|multiple|several|lots|spreadsheet|csv", "1000 bulk import"),
)
#: A number of two or more in a query ("add 300 people") hints at a bulk operation.
BULK = "1000 bulk import"

_EMAIL = re.compile(r"[^\s@<>(),;]+@[^\s@<>(),;]+\.[a-z]{2,}")
_URL = re.compile(r"https?://\S+")
_HOSTNAME = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b")
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
    return _HOSTNAME.sub(" domain ", text)


def _compile_synonyms() -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    table = []
    for triggers, expansion in SYNONYMS:
        words = tuple(tokenize(expansion))
        for trigger in triggers.split("|"):
            table.append((tuple(_WORD.findall(trigger)), tuple(tokenize(trigger)), words))
    # Longest triggers first, so "stop emailing" wins over "email".
    return sorted(table, key=lambda item: -len(item[0]))


_SYNONYMS = _compile_synonyms()
_BULK = tuple(tokenize(BULK))
_STOP_STEMS = frozenset(stem(w) for w in _STOPWORDS)


def query_terms(query: str) -> dict[str, float]:
    """The weighted terms of a query: its own words, and what the synonym map adds."""
    text = _normalize(query)
    words = _WORD.findall(text)
    stems = [stem(w) for w in words]
    terms: dict[str, float] = {}

    def add(term: str, weight: float) -> None:
        terms[term] = max(terms.get(term, 0.0), weight)

    consumed: set[int] = set()
    # Exact words first ("blocked" is a question about suppressions, "block" an order), then stems.
    for key in (0, 1):
        sequence = words if key == 0 else stems
        for entry in _SYNONYMS:
            trigger, expansion = entry[key], entry[2]
            n = len(trigger)
            for i in range(len(sequence) - n + 1):
                span = range(i, i + n)
                if tuple(sequence[i: i + n]) != trigger or any(j in consumed for j in span):
                    continue
                consumed.update(span)
                for term in expansion:
                    add(term, 1.0 if n > 1 or term == entry[1][0] else EXPANSION)
    for i, (word, term) in enumerate(zip(words, stems)):
        if i in consumed:
            continue
        if word.isdigit():
            if int(word) >= 2:
                for bulk in _BULK:
                    add(bulk, EXPANSION)
            continue
        if word not in _STOPWORDS and term not in _STOP_STEMS:
            add(term, 1.0)
    return terms


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
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5))
                     for t, f in {**field_df, **main_df}.items()}

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
        add(main, op.description, DESCRIPTION)
        for name, info in op.params.model_fields.items():
            add(fields, f"{name} {info.description or ''}", FIELD)
        return main, fields

    def score(self, terms: dict[str, float]) -> list[float]:
        scores = []
        for doc, length in zip(self._docs, self._lengths):
            total = 0.0
            norm = K1 * (1 - B + B * length / self._avg)
            for term, weight in terms.items():
                tf = doc.get(term)
                if tf:
                    total += weight * self._idf[term] * tf * (K1 + 1) / (tf + norm)
            scores.append(total)
        return scores

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        """The best ``limit`` operations for ``query``, best first (none when nothing matches)."""
        terms = query_terms(query)
        scores = self.score(terms)
        named = set(re.findall(r"[a-z][a-z0-9_]*", query.lower())) & self.names.keys()
        top = max(scores, default=0.0)
        ranked = []
        for op, score, name in zip(self.operations, scores, self._names):
            # Prefer the operation whose name is all about the query: send_message over send_mime_message.
            score *= 1 - COVERAGE + COVERAGE * sum(t in terms for t in name) / len(name)
            if op.name in named:
                score += top + 1.0  # the caller named the operation
            if op.deprecated:
                score *= 0.8
            if score > 0:
                ranked.append([score, op])
        hits: list[SearchHit] = []
        seen: Counter[str] = Counter()
        while ranked and len(hits) < limit:
            ranked.sort(key=lambda item: (-item[0] * REPEAT ** seen[_subject(item[1])], item[1].name))
            score, op = ranked.pop(0)
            hits.append(SearchHit(op, round(score * REPEAT ** seen[_subject(op)], 4)))
            seen[_subject(op)] += 1
        return hits


def _path_words(path: str) -> str:
    """The literal segments of a path template: ``/v3/{domain}/bounces/{address}`` -> ``bounces``."""
    return " ".join(s for s in path.split("/") if s and not s.startswith("{") and not _VERSION.fullmatch(s))


def _subject(op: Operation) -> str:
    """What an operation is about: its name without the verb, singular (``add_bounces`` -> ``bounc``)."""
    return " ".join(tokenize(op.name)[1:]) or op.name
