"""Find operations for a task described in plain words, offline and deterministically.

Each operation is a small document: its name (weighted most), the phrasings people use to ask for
it (``Operation.asks``), its area, the words of its path, its description and its fields' names.
Documents are ranked with BM25 (the ``bm25s`` library) over stems from one light suffix stemmer.
What the search knows about how people ask for an operation is data on that operation, not code
here: this module knows only general language: the families of verbs people use ("take off" is a
delete, "show" a get or list), words it cannot find (a typo is read as the closest indexed word),
and what an address, a URL or a host name in a query stands for.

An operation whose name the query covers more of ranks higher (``send_message`` over
``send_mime_message`` for "send a message"). When even the best operation's confidence (its BM25
score times the share of the query's words it matches) is below ``WEAK``, every hit is marked weak:
nothing matches well. Ties break by name: the same query over the same operations always gives the
same answer.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mg_tools.operation import Operation

if TYPE_CHECKING:
    import bm25s
    import numpy as np

__all__ = ["OperationIndex", "Query", "SearchHit", "parse", "query_terms", "stem", "tokenize"]

K1 = 1.2
B = 0.3
#: How many times each part of an operation is written into its document: a word of the name says
#: more than a word of the description.
NAME, ASKS, AREA, PATH, DESCRIPTION, FIELD = 3, 2, 1, 1, 1, 1
#: Weight of a verb a said verb stands for ("remove" also looks for "delete").
RELATED = 0.6
#: Weight of the indexed word a word the index does not know is read as (a typo), and how close it must be.
CLOSE, CLOSE_CUTOFF = 0.8, 0.75
#: Share of the score that depends on how many words of the name the query covers.
COVERAGE = 0.3
#: Below this confidence in the best operation (its BM25 score times the share of the query's words
#: it matches) nothing matches well: the hits are marked weak. Chosen on the tuning intents, where the
#: least confident request scores 0.99, "how tall is mount everest" 0.67.
WEAK = 0.9
#: How many misspelt words an index remembers the reading of.
CLOSE_CACHE = 4096

_STOPWORDS = frozenset(
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
        # "remove all" is a verb phrase (a clear); alone, "all" says nothing
        "all",
        "every",
        "everything",
        "everyone",
        "everybody",
        "entire",
        "whole",
    ]
)

#: The verbs people use -> the verbs operation names start with.
ACTIONS: tuple[tuple[str, str], ...] = (
    ("add|create|new|insert|register|set up|setup|subscribe|put|store|save", "add create"),
    ("upload|load|bulk load", "import add"),
    ("remove|delete|drop|erase|get rid of|take off|take out|revoke", "delete remove"),
    (
        "clear|empty|reset|wipe|purge|all of them|remove all|delete all|remove every|delete every|remove everything|"
        "delete everything",
        "clear delete",
    ),
    ("show|see|view|look up|lookup|find|fetch|read|display|inspect|where", "get list"),
    ("check|is there|is it|are they", "check get verify"),
    ("which|who|whom", "list"),
    (
        "change|edit|modify|update|rename|set|turn on|turn off|enable|disable|switch|point|repoint|redirect|replace",
        "update",
    ),
)
_EMAIL = re.compile(r"[^\s@<>(),;]+@[^\s@<>(),;]+\.[a-z]{2,}")
_URL = re.compile(r"https?://\S+")
_HOSTNAME = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b")
_WORD = re.compile(r"[a-z0-9]+")
_VERSION = re.compile(r"v\d")
_SUFFIXES = ("ies", "ing", "ion", "ed", "es", "s", "e", "y")


@functools.lru_cache(maxsize=4096)
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
    return " ".join(_HOSTNAME.sub(" domain ", text).split())


def _compile_actions() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    table = [
        (tuple(_WORD.findall(trigger)), tuple(tokenize(verbs)))
        for triggers, verbs in ACTIONS
        for trigger in triggers.split("|")
    ]
    # Longest first, so "get rid of" wins over "get" (stable: a tie keeps table order).
    return sorted(table, key=lambda t: -len(t[0]))


_ACTIONS = _compile_actions()
_STOP_STEMS = frozenset(stem(w) for w in _STOPWORDS)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: weighted terms in groups (one per word or verb phrase it says)."""

    groups: tuple[dict[str, float], ...]

    @property
    def terms(self) -> dict[str, float]:
        return {term: weight for group in self.groups for term, weight in group.items()}


def parse(query: str) -> Query:
    """The terms of a query in groups: each of its words, a verb phrase with the verbs of operation
    names it stands for ("take off": delete, remove)."""
    words = _WORD.findall(_normalize(query))
    groups: list[dict[str, float]] = []
    consumed: set[int] = set()
    for phrase, verbs in _ACTIONS:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            span = range(i, i + n)
            if tuple(words[i : i + n]) != phrase or consumed.intersection(span):
                continue
            consumed.update(span)
            own = [stem(w) for w in phrase if w not in _STOPWORDS]
            groups.append({**dict.fromkeys(verbs, RELATED), **dict.fromkeys(own, 1.0)})
    for i, word in enumerate(words):
        term = "" if word in _STOPWORDS else stem(word)
        if i not in consumed and term and not term.isdigit():  # a number says nothing about the operation
            groups.append({term: 1.0})
    return Query(tuple(groups))


def query_terms(query: str) -> dict[str, float]:
    """The weighted terms of a query: its own words and the verbs its verb phrases stand for."""
    return parse(query).terms


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the operation, its score (higher is better), and whether it is weak (the
    confidence in the best operation of the search was below ``WEAK``: nothing matched well)."""

    operation: Operation
    score: float
    weak: bool = False


class OperationIndex:
    """A BM25 index over operations: ``OperationIndex(ops).search("stop emailing bob")``."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self.operations = sorted(operations, key=lambda op: op.name)
        self.names = {op.name: op for op in self.operations}
        self.areas = tuple(sorted({op.area for op in self.operations}))
        self._names = [tokenize(op.name) for op in self.operations]
        self._positions = {op.name: i for i, op in enumerate(self.operations)}
        docs = [_document(op) for op in self.operations]
        self._vocabulary = sorted({term for doc in docs for term in doc})
        self._bm25 = _bm25(docs) if docs else None
        self._close: dict[str, list[tuple[int, float]]] = {}

    def _ids(self, term: str) -> list[tuple[int, float]]:
        """The index's term ids for a query term: itself, or the closest indexed term (weighted less)."""
        vocab = self._bm25.vocab_dict
        if term in vocab:
            return [(vocab[term], 1.0)]
        if len(term) < 4:
            return []
        if term not in self._close:
            close = difflib.get_close_matches(term, self._vocabulary, n=1, cutoff=CLOSE_CUTOFF)
            if len(self._close) >= CLOSE_CACHE:
                self._close.clear()
            self._close[term] = [(vocab[close[0]], CLOSE)] if close else []
        return self._close[term]

    def score(self, groups: Sequence[dict[str, float]]) -> list[float]:
        """BM25 of each operation, summed over groups; a group counts through its best term."""
        return self._group_scores(groups).sum(axis=0).tolist()

    def _group_scores(self, groups: Sequence[dict[str, float]]) -> np.ndarray:
        """One row per group: each operation's BM25 score for the group's best term."""
        import numpy as np

        rows = np.zeros((len(groups), len(self.operations)))
        if self._bm25 is None:
            return rows
        for row, group in zip(rows, groups):
            for term, weight in group.items():
                for term_id, closeness in self._ids(term):
                    np.maximum(row, weight * closeness * self._bm25.get_scores([term_id]), out=row)
        return rows

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        """The best ``limit`` operations for ``query``, best first (none when no word matches; all
        marked weak when the best matches poorly)."""
        parsed = parse(query)
        terms = parsed.terms.keys()
        matrix = self._group_scores(parsed.groups)
        scores = matrix.sum(axis=0).tolist()
        named = set(re.findall(r"[a-z][a-z0-9_]*", query.lower())) & self.names.keys()
        top = max(scores, default=0.0)
        ranked = []
        for op, score, name in zip(self.operations, scores, self._names):
            if score <= 0:
                continue
            # Prefer the operation whose name is all about the query: send_message over send_mime_message.
            score *= 1 - COVERAGE + COVERAGE * sum(t in terms for t in name) / len(name)
            if op.name in named:
                score += top + 1.0  # the caller named the operation
            if op.deprecated:
                score *= 0.8
            ranked.append((-round(score, 4), op.name, op))
        ranked.sort(key=lambda item: item[:2])
        if not ranked:
            return []
        best = ranked[0][2]
        weak = best.name not in named and self._confidence(matrix, best) < WEAK
        return [SearchHit(op, -score, weak) for score, _, op in ranked[:limit]]

    def _confidence(self, matrix: np.ndarray, op: Operation) -> float:
        """How well ``op`` answers a query: its BM25 score times the share of the query's words it matches."""
        column = matrix[:, self._positions[op.name]]
        return float(column.sum() * (column > 0).mean())


def _bm25(docs: list[list[str]]) -> bm25s.BM25:
    import bm25s  # numpy and the index are needed only once something is searched

    index = bm25s.BM25(k1=K1, b=B)
    index.index(docs, show_progress=False)
    return index


def _document(op: Operation) -> list[str]:
    """The terms of an operation, each part repeated by its weight."""
    parts = (
        (op.name, NAME),
        (" ".join(op.asks), ASKS),
        (op.area, AREA),
        (_path_words(op.path), PATH),
        (_OTHER_TOOL.sub(" ", op.description), DESCRIPTION),
        (" ".join(op.params.model_fields), FIELD),
    )
    return [term for text, weight in parts for term in tokenize(text) * weight if term not in _STOP_STEMS]


#: A tool name in a description ("Deprecated: use get_metrics") is about that other tool, not this one.
_OTHER_TOOL = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _path_words(path: str) -> str:
    """The literal segments of a path template: ``/v3/{domain}/bounces/{address}`` -> ``bounces``."""
    return " ".join(s for s in path.split("/") if s and not s.startswith("{") and not _VERSION.fullmatch(s))
