"""Term of confinement (CS §3-701): jail days per commitment, commitment spans, ``MAX_EXP_DT``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from validation.dates import add_term
from validation.facts import CommitmentFact, OffenderFacts

__all__ = [
    "JailDays",
    "TermError",
    "certificate_targets",
    "jail_days",
    "posted_jail_days",
    "term_spans",
]


class TermError(ValueError):
    """The commitments do not form a term (a consecutive chain names a missing commitment)."""


@dataclass(frozen=True, slots=True)
class JailDays:
    """Jail days credited to one commitment, where they came from, and the rows behind them."""

    days: int
    source: str
    evidence: tuple[str, ...]


def posted_jail_days(facts: OffenderFacts) -> dict[str, JailDays]:
    """Jail days per commitment as posted in ``JAIL_CR`` (what the legacy system used)."""
    out: dict[str, JailDays] = {}
    for c in facts.commitments:
        rows = [j for j in facts.jail_credits if j.commitment_key == c.key]
        out[c.key] = JailDays(
            sum(j.days for j in rows), "posted" if rows else "none", tuple(j.key for j in rows)
        )
    return out


def certificate_targets(facts: OffenderFacts) -> dict[str, list[str]]:
    """Commitment keys each jail certificate applies to (by document key).

    A certificate names its sentence by ``SENT_BGN_DT``. When several commitments began that
    day, the ones whose posted ``JAIL_CR`` repeats the certificate's ``CERT_NO`` take it; if
    none does, it applies to each of them (jail time counts toward every such sentence). A
    certificate naming no commitment maps to an empty list.
    """
    out: dict[str, list[str]] = {}
    for cert in facts.jail_certificates:
        cands = [c.key for c in facts.commitments if c.sentence_begin == cert.sentence_begin]
        if len(cands) > 1 and cert.cert_no:
            same = {
                j.commitment_key
                for j in facts.jail_credits
                if j.cert_no == cert.cert_no and j.commitment_key in cands
            }
            cands = [k for k in cands if k in same] or cands
        out[cert.key] = cands
    return out


def jail_days(facts: OffenderFacts) -> dict[str, JailDays]:
    """Jail days per commitment: the certificate first, the posted rows only where none exists.

    The same certificate number indexed twice counts once.
    """
    posted = posted_jail_days(facts)
    targets = certificate_targets(facts)
    by_key = {k.key: k for k in facts.jail_certificates}
    out: dict[str, JailDays] = {}
    for c in facts.commitments:
        certs = [by_key[d] for d, keys in targets.items() if c.key in keys]
        if not certs:
            out[c.key] = posted[c.key]
            continue
        seen: set[str] = set()
        days = 0
        for cert in certs:
            ident = cert.cert_no or cert.key
            if ident in seen:
                continue
            seen.add(ident)
            days += cert.days
        out[c.key] = JailDays(days, "certificate", tuple(k.key for k in certs))
    return out


def term_spans(
    commitments: tuple[CommitmentFact, ...], jail: dict[str, int]
) -> dict[str, tuple[date, date]]:
    """Each commitment's ``(begin, end)`` after jail credit.

    A concurrent commitment begins at its ``SENT_BGN_DT``, a consecutive one on the day its
    predecessor ends; jail days move the begin back; the end is begin + term.
    """
    by_key = {c.key: c for c in commitments}
    spans: dict[str, tuple[date, date]] = {}

    def span(c: CommitmentFact, chain: tuple[str, ...]) -> tuple[date, date]:
        if c.key in spans:
            return spans[c.key]
        if c.key in chain:
            raise TermError(f"consecutive commitments form a cycle: {' -> '.join(chain)}")
        base = c.sentence_begin
        if c.consecutive_to is not None:
            pred = by_key.get(c.consecutive_to)
            if pred is None:
                raise TermError(
                    f"commitment {c.key} is consecutive to {c.consecutive_to}, which is not among "
                    "the offender's commitments"
                )
            base = span(pred, (*chain, c.key))[1]
        begin = base - timedelta(days=jail.get(c.key, 0))
        spans[c.key] = (begin, add_term(begin, c.term_years, c.term_months, c.term_days))
        return spans[c.key]

    for c in commitments:
        span(c, ())
    return spans
