import json
import math

import pytest
from typer.testing import CliRunner

from kb.cli import app
from kb.errors import EvalError
from kb.evaluate import (Question, average_precision_at_k, hit_at_k, load_questions, ndcg_at_k, recall_at_k,
                         reciprocal_rank_at_k, score_run)

RANKED = ["a", "x", "b", "y", "c"]
RELEVANT = {"a", "b", "z"}


def test_recall_counts_relevant_found_in_the_top_k():
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, RELEVANT, 1) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, {"q"}, 5) == 0.0


def test_average_precision_caps_the_relevant_count_at_k():
    # hits at ranks 1 and 3: (1/1 + 2/3) / min(3, 5)
    assert average_precision_at_k(RANKED, RELEVANT, 5) == pytest.approx((1 + 2 / 3) / 3)
    # k = 2: one hit at rank 1, min(3, 2) = 2
    assert average_precision_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 2)


def test_ndcg_with_binary_gains():
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 2) == pytest.approx(1.0)


def test_reciprocal_rank_and_hit():
    assert reciprocal_rank_at_k(["x", "y", "b"], RELEVANT, 5) == pytest.approx(1 / 3)
    assert reciprocal_rank_at_k(["x", "y", "b"], RELEVANT, 2) == 0.0
    assert hit_at_k(["x", "b"], RELEVANT, 2) == 1.0 and hit_at_k(["x", "b"], RELEVANT, 1) == 0.0


def test_score_run_averages_over_questions_and_names_keys_by_k():
    questions = [Question("1", "q1", ("a",)), Question("2", "q2", ("b", "c"))]
    metrics = score_run([["a", "x"], ["x", "b"]], questions, 2)
    assert metrics["recall@2"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["mrr@2"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["hit@2"] == 1.0
    assert set(metrics) == {"recall@2", "map@2", "ndcg@2", "mrr@2", "hit@2"}


def test_bad_question_files_are_clear_errors(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": 1, "question": "q"}\n')
    with pytest.raises(EvalError, match="line 1"):
        load_questions(path)
    with pytest.raises(EvalError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")


def test_kb_eval_through_the_cli(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "1", "question": "Who must appoint a compliance officer?", "relevant": ["R-2"]}) + "\n"
        + json.dumps({"id": "2", "question": "What is the application fee?", "relevant": ["alpha.md"]}) + "\n"
    )
    result = runner.invoke(app, ["eval", str(questions), "--k", "3", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"recall@3", "map@3", "ndcg@3", "mrr@3", "hit@3", "questions", "latency_ms"}
    assert data["questions"] == 2 and data["recall@3"] == 1.0
    assert data["latency_ms"]["p50"] > 0
    table = runner.invoke(app, ["eval", str(questions)], env=cli_env)
    assert "recall@10" in table.output and "2 questions" in table.output


def test_kb_eval_scores_answers_overall_and_by_type(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    rows = [
        {"id": "1", "question": "How much is the application fee for large firms?", "relevant": ["alpha.md"],
         "answer_contains": ["900 credits"], "type": "amount"},
        {"id": "2", "question": "How long does registration take from a complete application?", "relevant": ["beta.txt"],
         "answer_contains": ["twelve weeks"], "type": "duration"},
        {"id": "3", "question": "How much does gadget registration cost?", "relevant": [], "unanswerable": True,
         "type": "amount"},
    ]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = runner.invoke(app, ["eval", str(questions), "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)["answers"]
    assert (answers["answerable"], answers["unanswerable"]) == (2, 1)
    assert answers["accuracy"] == 1.0 and answers["file_accuracy"] == 1.0, answers["misses"]
    assert answers["unanswerable_declined"] == 1.0 and answers["answerable_declined"] == 0.0
    assert set(answers["by_type"]) == {"amount", "duration"} and answers["by_type"]["amount"]["answerable"] == 1
    assert answers["misses"] == []
    # The terminal table keeps every column whole in 80 columns.
    table = runner.invoke(app, ["eval", str(questions)], env={**cli_env, "COLUMNS": "80"}).output
    assert "wrongly" in table and "declined" in table and "duration" in table
    answer_table = table[table.index("Answers"):]
    assert "…" not in answer_table and max(len(line) for line in answer_table.splitlines()) <= 80


@pytest.mark.parametrize("record, message", [
    ({"question": "x"}, 'line 2: no "id"; no "relevant" documents, and no "answer_contains" or "unanswerable"'),
    ({"id": "1", "question": "x", "relevant": {"a": 1}}, 'line 2: "relevant" must be a list of strings'),
    ({"id": "1", "relevant": ["alpha.md"]}, 'line 2: no "question".'),
])
def test_a_record_that_is_not_a_question_names_its_line_and_field(cli_env, tmp_path, record, message):
    runner = CliRunner()
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "0", "question": "What is the fee?", "relevant": ["alpha.md"]}) + "\n"
                         + json.dumps(record) + "\n")
    result = runner.invoke(app, ["eval", str(questions)], env=cli_env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert message in " ".join(result.output.split()) and "KeyError" not in result.output


def test_kb_eval_says_which_lines_it_skipped_and_which_questions_it_scored_on_answers_only(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    questions = tmp_path / "questions.jsonl"
    questions.write_text(  # 4 lines: a blank one, and a question that has gold answers but no "relevant" at all
        json.dumps({"id": "fee", "question": "What is the application fee for small firms?", "relevant": "alpha.md"})
        + "\n\n"
        + json.dumps({"id": "gadget", "question": "Who must register with the Gadget Board?",
                      "answer_contains": ["Gadget makers"]}) + "\n"
        + json.dumps({"id": "rules", "question": "Who must keep records?", "relevant": ["R-1"]}) + "\n")
    data = json.loads(runner.invoke(app, ["eval", str(questions), "--json"], env=cli_env).output)
    assert (data["questions"], data["questions_read"]) == (2, 3)
    assert data["answers_only"] == ["gadget"] and data["skipped"] == ["line 2 (blank)"]
    assert data["recall@10"] == 1.0 and data["answers"]["answerable"] == 1
    result = runner.invoke(app, ["eval", str(questions)], env=cli_env)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 questions, hybrid search" in text
    assert "3 question(s) read; 1 without relevant documents, scored on the answer only" in text
    assert "gadget" in text and "skipped line 2 (blank)" in text
