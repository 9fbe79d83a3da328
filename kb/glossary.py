"""Names of regulators, jurisdictions and regulatory terms, with their abbreviations.

One table serves two purposes: lexical search folds a long name and its abbreviation into one
token (a question about the "FCA" finds "the Financial Conduct Authority"), and document metadata
is normalised ("Financial Conduct Authority" → FCA).
These are names, not regulatory facts: nothing here says what a regulator does or when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Term:
    short: str  # canonical form, e.g. "FCA"
    names: tuple[str, ...]  # long forms and variants, matched case-insensitively
    kind: str  # "regulator", "jurisdiction" or "term"
    jurisdiction: str | None = None


TERMS: tuple[Term, ...] = (
    # UK
    Term("FCA", ("Financial Conduct Authority",), "regulator", "UK"),
    Term("PRA", ("Prudential Regulation Authority",), "regulator", "UK"),
    Term("HM Treasury", ("His Majesty's Treasury", "Her Majesty's Treasury", "HMT", "the Treasury"), "regulator", "UK"),
    Term("BoE", ("Bank of England",), "regulator", "UK"),
    Term("PSR", ("Payment Systems Regulator",), "regulator", "UK"),
    Term("FOS", ("Financial Ombudsman Service",), "regulator", "UK"),
    # EU
    Term("ESMA", ("European Securities and Markets Authority",), "regulator", "EU"),
    Term("EBA", ("European Banking Authority",), "regulator", "EU"),
    Term("EIOPA", ("European Insurance and Occupational Pensions Authority",), "regulator", "EU"),
    Term("ECB", ("European Central Bank",), "regulator", "EU"),
    Term("European Commission", ("the Commission",), "regulator", "EU"),
    Term("European Parliament and Council", ("European Parliament and of the Council", "European Parliament and the Council"), "regulator", "EU"),
    # US
    Term("SEC", ("Securities and Exchange Commission",), "regulator", "US"),
    Term("CFTC", ("Commodity Futures Trading Commission",), "regulator", "US"),
    Term("OCC", ("Office of the Comptroller of the Currency", "Comptroller of the Currency"), "regulator", "US"),
    Term("FDIC", ("Federal Deposit Insurance Corporation",), "regulator", "US"),
    Term("Federal Reserve", ("Board of Governors of the Federal Reserve System", "Federal Reserve Board", "the Fed"), "regulator", "US"),
    Term("FinCEN", ("Financial Crimes Enforcement Network",), "regulator", "US"),
    Term("NCUA", ("National Credit Union Administration",), "regulator", "US"),
    Term("US Congress", ("Congress", "United States Congress"), "regulator", "US"),
    # Elsewhere
    Term("FSRA", ("Financial Services Regulatory Authority",), "regulator", "ADGM"),
    Term("ADGM", ("Abu Dhabi Global Market",), "jurisdiction", "ADGM"),
    Term("DFSA", ("Dubai Financial Services Authority",), "regulator", "DIFC"),
    Term("VARA", ("Virtual Assets Regulatory Authority",), "regulator", "UAE"),
    Term("MAS", ("Monetary Authority of Singapore",), "regulator", "SG"),
    Term("FSA", ("Financial Services Agency", "Japan Financial Services Agency", "JFSA"), "regulator", "JP"),
    Term("FINMA", ("Swiss Financial Market Supervisory Authority",), "regulator", "CH"),
    Term("BIS", ("Bank for International Settlements",), "regulator", None),
    Term("FSB", ("Financial Stability Board",), "regulator", None),
    Term("FATF", ("Financial Action Task Force",), "regulator", None),
    Term("IOSCO", ("International Organization of Securities Commissions",), "regulator", None),
    # Jurisdictions
    Term("UK", ("United Kingdom", "Great Britain", "Britain"), "jurisdiction", "UK"),
    Term("US", ("United States", "United States of America", "USA", "U.S."), "jurisdiction", "US"),
    Term("EU", ("European Union",), "jurisdiction", "EU"),
    Term("UAE", ("United Arab Emirates",), "jurisdiction", "UAE"),
    # Terms
    Term("MiCA", ("Markets in Crypto-Assets", "markets in crypto-assets regulation"), "term"),
    Term("CASP", ("crypto-asset service provider", "crypto-asset service providers"), "term"),
    Term("VASP", ("virtual asset service provider", "virtual asset service providers"), "term"),
    Term("FSMA", ("Financial Services and Markets Act",), "term"),
    Term("AML", ("anti-money laundering", "anti money laundering"), "term"),
    Term("CTF", ("counter-terrorist financing", "counter terrorist financing", "combating the financing of terrorism"), "term"),
    Term("KYC", ("know your customer", "know-your-customer"), "term"),
    Term("CDD", ("customer due diligence",), "term"),
    Term("EDD", ("enhanced due diligence",), "term"),
    Term("PEP", ("politically exposed person", "politically exposed persons"), "term"),
    Term("MLRO", ("money laundering reporting officer",), "term"),
    Term("STR", ("suspicious transaction report", "suspicious transaction reports"), "term"),
    Term("SAR", ("suspicious activity report", "suspicious activity reports"), "term"),
    Term("MLRs", ("Money Laundering Regulations",), "term"),
    Term("CP", ("consultation paper",), "term"),
    Term("PS", ("policy statement",), "term"),
    Term("DLT", ("distributed ledger technology",), "term"),
    Term("CATP", ("cryptoasset trading platform", "crypto-asset trading platform"), "term"),
    Term("MTF", ("multilateral trading facility", "multilateral trading facilities"), "term"),
    Term("OTF", ("organised trading facility", "organized trading facility"), "term"),
    Term("PFP", ("private financing platform", "private financing platforms"), "term"),
    Term("SPV", ("special purpose vehicle", "special purpose vehicles"), "term"),
    Term("ESG", ("environmental, social and governance", "environmental social and governance"), "term"),
    Term("CRS", ("Common Reporting Standard",), "term"),
    Term("FATCA", ("Foreign Account Tax Compliance Act",), "term"),
    Term("ICAAP", ("Internal Capital Adequacy Assessment Process",), "term"),
    Term("CET1", ("Common Equity Tier 1",), "term"),
    Term("LCR", ("liquidity coverage ratio",), "term"),
    Term("NSFR", ("net stable funding ratio",), "term"),
    Term("IPO", ("initial public offering",), "term"),
    Term("NAV", ("net asset value",), "term"),
    Term("UCITS", ("undertakings for collective investment in transferable securities",), "term"),
    Term("AIFM", ("alternative investment fund manager", "alternative investment fund managers"), "term"),
    Term("SI", ("statutory instrument",), "term"),
)


_WORDS = re.compile(r"[^\W_]+")


def words_of(phrase: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(phrase.casefold()))


@lru_cache(maxsize=1)
def phrase_table() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """First word → [(words of a name, single token for the term)], longest names first.

    Used by lexical search to fold "Financial Conduct Authority" and "FCA" into one token.
    """
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for term in TERMS:
        token = "".join(words_of(term.short))
        for name in (term.short, *term.names):
            words = words_of(name)
            if len(words) > 1 and words[0] != "the":
                table.setdefault(words[0], []).append((words, token))
    for entries in table.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return table


def normalise_name(value: str, kind: str) -> str:
    """Canonical short form of a regulator or jurisdiction name; the value itself when unknown.

    Jurisdictions come from kb.places, the one table of their names and ISO codes.
    """
    if kind == "jurisdiction":
        from kb.places import canonical_place

        return canonical_place(value) or value.strip()
    folded = " ".join(value.casefold().replace("-", " ").split())
    for term in TERMS:
        if term.kind != kind:
            continue
        if folded == term.short.casefold() or any(folded == " ".join(n.casefold().replace("-", " ").split()) for n in term.names):
            return term.short
    return value.strip()


def named_regulators(text: str) -> frozenset[str]:
    """Regulators named by abbreviation or name ("FCA", "Securities and Exchange Commission")."""
    found = set()
    folded = " " + " ".join(words_of(text)) + " "
    for term in TERMS:
        if term.kind != "regulator":
            continue
        if re.search(rf"(?<![\w]){re.escape(term.short)}(?:'s|’s)?(?![\w])", text):
            found.add(term.short)
            continue
        # "the Treasury" names no one jurisdiction's treasury ("the Secretary of the Treasury" is American).
        if any(f" {' '.join(words_of(name))} " in folded for name in term.names
               if len(words_of(name)) > 1 and words_of(name)[0] != "the"):
            found.add(term.short)
    return frozenset(found)
