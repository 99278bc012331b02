"""Split article text into paragraphs, sentences and clauses."""

from __future__ import annotations

import re

__all__ = ["split_clauses", "split_paragraphs", "split_sentences"]

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "maj",
        "sgt",
        "capt",
        "cpl",
        "pvt",
        "adm",
        "cmdr",
        "rep",
        "sen",
        "gov",
        "st",
        "jr",
        "sr",
        "no",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "a.m",
        "p.m",
        "e.g",
        "i.e",
        "inc",
        "corp",
    ]
)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
# Clauses split where a comma or semicolon starts a new main clause.
# "The drone attack came days after rockets hit Al Asad": the attack after "came ... after" is
# another one, with its own weapon.
CLAUSE_RE = re.compile(
    r";\s+|,\s+(?=(?:and|but|while|whereas|whilst)\s)"
    r"|(?:(?<=\bcame)|(?<=\bcomes)|(?<=\boccurred)|(?<=\bhappened))\s+(?=(?:just\s+|only\s+|barely\s+)?"
    r"(?:\w+\s+)?(?:days?|hours?|weeks?|months?)\s+(?:after|before)\b)"
)
WHITESPACE_RE = re.compile(r"[ \t\u00a0]+")
# Words that start a sentence, not a time zone or place ("7 p.m. Baghdad time").
SENTENCE_START_RE = re.compile(
    r"(?:The|A|An|It|He|She|They|There|This|That|These|Those|No|We|I|Two|Three|One|Its|His|Her|"
    r"Their|Several|Some|Most|All|Later|Earlier|Iraqi|US|American)\b"
)


def split_paragraphs(text: str) -> list[str]:
    """Return the text's paragraphs (blank-line or line separated), whitespace tidied."""
    paragraphs = []
    for block in re.split(r"\n\s*\n|\r\n\s*\r\n", text):
        lines = [WHITESPACE_RE.sub(" ", line).strip() for line in block.splitlines()]
        # A line that ends without punctuation is a title or list item: its own paragraph.
        current: list[str] = []
        for line in lines:
            if not line:
                continue
            current.append(line)
            if not re.search(r"[.!?:;,\"”’)]$", line):
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
    return paragraphs


def split_sentences(paragraph: str) -> list[str]:
    """Return the paragraph's sentences, not splitting after common abbreviations."""
    sentences: list[str] = []
    start = 0
    for match in SENTENCE_END_RE.finditer(paragraph):
        head = paragraph[start : match.start()]
        last_word = re.search(r"([\w.]+)\.[\"”’')\]]*$", head)
        # "... just before 11 a.m. The earlier attack ...": a time can end a sentence.
        time_ends = (
            last_word is not None
            and last_word.group(1).lower() in ("a.m", "p.m")
            and SENTENCE_START_RE.match(paragraph, match.end()) is not None
        )
        if last_word and last_word.group(1).lower() in ABBREVIATIONS and not time_ends:
            continue
        if last_word and len(last_word.group(1)) == 1 and last_word.group(1).isupper():
            continue  # an initial: "Kenneth F. McKenzie"
        sentences.append(head.strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def split_clauses(sentence: str) -> list[str]:
    """Return the sentence's main clauses ("X, and Y" -> X, Y); most sentences are one clause."""
    return [part for part in CLAUSE_RE.split(sentence) if part.strip()]
