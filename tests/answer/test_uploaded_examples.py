"""Issue 12's examples rebuilt on small articles written here, with made-up names, so that the rules
that answer them on the seeds are shown to be general (no seed's entity named in a rule)."""
from __future__ import annotations

from qa.pipeline import QAService
from tests.answer.test_answerer import check_citations, lead


def _service(tmp_path, embedder, articles: dict[str, str]) -> QAService:
    corpus = tmp_path / "up"
    corpus.mkdir()
    for name, text in articles.items():
        (corpus / f"{name}.txt").write_text(text)
    return QAService(index_dir=tmp_path / "ix", corpus=[corpus], progress=False, embedder=embedder)


def test_ceo_is_the_person_named_next_to_the_role_and_company(tmp_path, embedder):
    svc = _service(tmp_path, embedder, {
        "talks": "date 2025-03-04\nFabrikam and Tailspin talks\n\n"
                 "Both Fabrikam and Tailspin are aware of the deadline, with talks between Tailspin CEO Ana Ruiz "
                 "and Fabrikam CEO Omar Haddad stressing the need for speed.\n",
        "other": "date 2025-03-05\nMarkets\n\nShares of Fabrikam rose 2% on Wednesday after the talks were reported.\n"})
    ans = svc.ask("Who is Fabrikam's CEO?")
    assert not ans.abstained and ans.short_answer == "Omar Haddad" == lead(ans), ans.answer
    check_citations(ans, svc.store)


def test_a_body_answers_who_verifies(tmp_path, embedder):
    svc = _service(tmp_path, embedder, {
        "deal": "date 2025-04-01\nNorthwind and Contoso sign new terms\n\n"
                "Northwind and Contoso have signed new terms for their partnership. "
                "If Northwind declares that it has reached full autonomy, an independent review board must verify this. "
                "The new terms run until 2031.\n"})
    ans = svc.ask("Who verifies that full autonomy has been reached?")
    assert not ans.abstained and ans.short_answer and "independent review board" in ans.short_answer, ans.answer
    check_citations(ans, svc.store)


def test_valuation_stake_and_investment_are_three_facts_not_a_disagreement(tmp_path, embedder):
    svc = _service(tmp_path, embedder, {
        "round": "date 2025-05-01\nNorthwind raises money\n\n"
                 "After its latest funding round, Northwind is valued at $40 billion, the company said.\n",
        "stake": "date 2025-05-02\nContoso's stake\n\n"
                 "Contoso expects its stake in Northwind to be valued at around 12 billion dollars after the round.\n",
        "invest": "date 2025-05-03\nContoso's bet\n\n"
                  "Contoso has invested $2 billion in Northwind since 2020.\n"})
    ans = svc.ask("What is the valuation of Northwind?")
    first = ans.answer.split("\n")[0]
    assert not ans.abstained and not first.startswith("The sources differ"), ans.answer
    assert ans.short_answer == "$40 billion", ans.answer
    check_citations(ans, svc.store)


def test_first_instalment_does_not_disagree_with_the_total(tmp_path, embedder):
    svc = _service(tmp_path, embedder, {
        "first": "date 2025-06-01\nHow it began\n\n"
                 "The original terms were set when Contoso invested its first $500 million in Northwind.\n",
        "total": "date 2025-06-02\nContoso and Northwind\n\n"
                 "Contoso's investment in Northwind has exceeded $2 billion since 2020, people familiar with the talks said.\n"})
    ans = svc.ask("How much has Contoso invested in Northwind?")
    first = ans.answer.split("\n")[0]
    assert not ans.abstained and not first.startswith("The sources differ"), ans.answer
    assert "$2 billion" in first and "$500 million" not in first, ans.answer
    check_citations(ans, svc.store)
