"""`kb eval`: retrieval quality on questions with known relevant documents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import ALL_FILTERS, IndexOption, JsonOption

if TYPE_CHECKING:
    from kb.filters import Filters


@command("eval")
def eval_command(
    questions: Path = typer.Argument(..., help='JSON lines: {"id", "question", "relevant": [doc_id, ...]}, '
                                     'optionally "answer_contains": [...], "type", "unanswerable".'),
    index: Optional[Path] = IndexOption,
    k: int = typer.Option(10, "--k", min=1, max=1000, help="Cut-off of every metric."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or lexical (for ablations)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use only the first N questions."),
    filters: Filters = ALL_FILTERS,
    as_json: bool = JsonOption,
) -> None:
    """Measure retrieval, and answers, on questions with known relevant documents or gold answers.

    Reports Recall@k, MAP@k, nDCG@k, MRR@k and Hit@k over documents, and warm search latency. Questions
    with "answer_contains" (or "unanswerable": true) are also asked as `kb ask` asks them: answer
    accuracy, answers citing a relevant file, hit@1/@3, unanswerables declined and answerables
    wrongly declined, overall and per question "type".
    Example: kb eval ../shared/data/obliqa/dev.jsonl --index indexes/obliqa --k 10
    """
    from kb.cli.progress import progress_bars
    from kb.cli.render import show
    from kb.evaluate import evaluate_questions
    from kb.search import MODES

    if mode not in MODES:
        raise typer.BadParameter(f"choose one of {', '.join(MODES)}", param_hint="--mode")
    with progress_bars(as_json, remaining=True) as progress:
        report = evaluate_questions(settings(index=index), questions, k, mode=mode, limit=limit, filters=filters,
                                    progress=progress)
    show(report, as_json=as_json)
