"""Speed, size and memory of the bot's index, side by side with its peers, on real text.

    python benchmarks/bench.py                      # 10k and 100k chunks (a few minutes)
    python benchmarks/bench.py --sizes 10000,100000,1000000

MedQuAD's pages (../shared/data/medquad/) are repeated with fresh ids up to each size. For each size it
measures: building the index from article files (analysis included), its size on disk, loading it and
the memory of a process serving from it (in a fresh process), and per-question latency (p50/p95/p99)
of retrieval alone and of the whole answer path (triage, analysis, retrieval, passages, Telegram HTML)
over MedQuAD's questions. The same questions go through rank_bm25's BM25Okapi.get_scores (where it
finishes in reasonable time; its scores are checked equal to ours), bm25s and tantivy (where they
install): the table gives each one's p50 and its ratio to ours. Figures vary with the machine's load;
the ratios, measured in the same run, less so.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "medquad"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def make_corpus(target_chunks: int, folder: Path) -> tuple[Path, int]:
    """MedQuAD repeated with fresh ids until it holds about target_chunks chunks (8.1 per page)."""
    pages = [json.loads(line) for line in open(DATA / "articles.jsonl", encoding="utf-8")]
    needed = int(target_chunks / 8.09) + 1
    path = folder / f"medquad-{target_chunks}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for n, page in zip(range(needed), itertools.cycle(pages)):
            copy = dict(page, id=f"{page['id']}~{n // len(pages)}")
            out.write(json.dumps(copy, ensure_ascii=False) + "\n")
    return path, needed


def questions(count: int) -> list[str]:
    rows = [json.loads(line)["question"] for line in open(DATA / "questions_template.jsonl", encoding="utf-8")]
    return rows[:: max(1, len(rows) // count)][:count]


def serve(index_dir: str, questions_file: str) -> None:
    """In a fresh process: load, then answer every question; print figures as JSON."""
    import psutil

    from bot.search.analysis import Analyzer
    from bot.answering.answer import Answerer
    from bot.search.index import SearchIndex
    from bot.safety import load_rules
    from bot.telegram.html import answer_html

    rules = load_rules()
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    index = SearchIndex.load(Path(index_dir), Analyzer())
    load_seconds = time.perf_counter() - started
    answerer = Answerer(index, rules=rules)
    asked = json.loads(Path(questions_file).read_text())
    analyzed = [index.analyzer.terms(q) for q in asked]
    retrieval, whole = [], []
    for terms in analyzed:
        t = time.perf_counter()
        index.search(terms, 10)
        retrieval.append(time.perf_counter() - t)
    for q in asked:
        t = time.perf_counter()
        answer_html(answerer.answer(q), index.analyzer)
        whole.append(time.perf_counter() - t)
    print(json.dumps({"load": load_seconds, "rss_mb": process.memory_info().rss / 2**20,
                      "index_rss_mb": (process.memory_info().rss - before) / 2**20,
                      "retrieval": percentiles(retrieval), "answer": percentiles(whole)}))


def peers(index_dir: Path, corpus_docs: list[list[str]] | None, asked: list[str], ours_p50: float,
          exact_check: bool) -> list[tuple[str, str, str]]:
    """(peer, p50, ratio to ours) for each peer that installs and finishes in reasonable time."""
    from bot.search.analysis import Analyzer
    from bot.search.index import SearchIndex

    rows = []
    index = SearchIndex.load(index_dir, Analyzer())
    analyzed = [index.analyzer.terms(q) for q in asked]
    docs = corpus_docs
    if docs is None:
        return rows
    try:
        from rank_bm25 import BM25Okapi
        import numpy as np

        started = time.perf_counter()
        reference = BM25Okapi(docs)
        build = time.perf_counter() - started
        sample = analyzed[: 30 if len(docs) <= 200_000 else 5]
        times, worst = [], 0.0
        for terms in sample:
            t = time.perf_counter()
            scores = reference.get_scores(terms)
            times.append(time.perf_counter() - t)
            if exact_check:
                found, ours = index.bm25.scores(terms)
                dense = np.zeros(len(docs))
                dense[found] = ours
                worst = max(worst, float(np.max(np.abs(dense - scores))))
        p50 = statistics.median(times)
        rows.append(("rank_bm25 get_scores", f"{p50 * 1000:.1f} ms", f"{p50 / ours_p50:.0f}x slower"
                     + (f"; same scores (max diff {worst:.1e})" if exact_check else "") + f"; build {build:.1f} s"))
        del reference
        gc.collect()
    except MemoryError:
        rows.append(("rank_bm25 get_scores", "out of memory", ""))
    try:
        import bm25s

        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in docs]
        retriever = bm25s.BM25(k1=1.5, b=0.75)
        retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
        times = []
        for terms in analyzed:
            query = [[vocab[t] for t in terms if t in vocab] or [0]]
            t = time.perf_counter()
            retriever.retrieve(bm25s.tokenization.Tokenized(ids=query, vocab=vocab), k=10, show_progress=False,
                               n_threads=1)
            times.append(time.perf_counter() - t)
        p50 = statistics.median(times)
        rows.append(("bm25s retrieve (other scores)", f"{p50 * 1000:.2f} ms", f"{p50 / ours_p50:.1f}x ours"))
    except Exception as e:  # a peer that does not install or run is left out, and said so
        rows.append(("bm25s", "not run", f"{type(e).__name__}: {str(e)[:60]}"))
    try:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="raw")
        schema = builder.build()
        folder = tempfile.mkdtemp(prefix="tantivy-")
        tindex = tantivy.Index(schema, path=folder)
        writer = tindex.writer(heap_size=256 * 2**20)
        for doc in docs:
            writer.add_document(tantivy.Document(body=doc))
        writer.commit()
        tindex.reload()
        searcher = tindex.searcher()
        times = []
        for terms in analyzed:
            if not terms:
                continue
            query = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t))
                                                 for t in terms])
            t = time.perf_counter()
            searcher.search(query, 10)
            times.append(time.perf_counter() - t)
        p50 = statistics.median(times)
        rows.append(("tantivy (other scores)", f"{p50 * 1000:.2f} ms", f"{p50 / ours_p50:.1f}x ours"))
        shutil.rmtree(folder, ignore_errors=True)
    except Exception as e:
        rows.append(("tantivy", "not run", f"{type(e).__name__}: {str(e)[:60]}"))
    return rows


def chunk_documents(index_dir: Path) -> list[list[str]]:
    from bot.search.analysis import Analyzer
    from bot.search.index import SearchIndex

    index = SearchIndex.load(index_dir, Analyzer())
    return [index.chunk_terms(i) for i in range(index.chunk_count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the benchmark runs on ../shared/data/medquad")
    from bot.search.analysis import Analyzer
    from bot.search.bm25 import BM25Params
    from bot.search.index import IndexSettings, build_index

    asked = questions(args.questions)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    (work / "questions.json").write_text(json.dumps(asked))
    table = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            corpus, pages = make_corpus(size, work)
            index_dir = work / f"index-{size}"
            started = time.perf_counter()
            # rank_bm25's own idf, so that its scores can be checked equal to ours
            index, report = build_index(corpus, index_dir, Analyzer(), IndexSettings(bm25=BM25Params(idf="okapi")))
            build = time.perf_counter() - started
            chunks = index.chunk_count
            del index
            gc.collect()
            size_mb = sum(p.stat().st_size for p in (index_dir / (index_dir / "CURRENT").read_text().strip()).iterdir()) / 2**20
            served = json.loads(subprocess.run(
                [sys.executable, __file__, "--serve", str(index_dir), str(work / "questions.json")],
                capture_output=True, text=True, check=True).stdout)
            ours = served["retrieval"][0]
            print(f"\n## {chunks:,} chunks ({pages:,} pages)")
            print(f"build {build:.1f} s | index {size_mb:.0f} MB on disk | load {served['load']:.2f} s | "
                  f"serving process {served['rss_mb']:.0f} MB (index {served['index_rss_mb']:.0f} MB)")
            print(f"retrieval p50/p95/p99 {'/'.join(f'{v * 1000:.2f}' for v in served['retrieval'])} ms | "
                  f"answer path p50/p95/p99 {'/'.join(f'{v * 1000:.2f}' for v in served['answer'])} ms")
            docs = chunk_documents(index_dir) if chunks <= 1_100_000 else None
            for name, p50, ratio in peers(index_dir, docs, asked[:300], ours, exact_check=chunks <= 200_000):
                print(f"  {name:32} {p50:>12}  {ratio}")
            del docs
            gc.collect()
            table.append((chunks, build, size_mb, served))
            shutil.rmtree(index_dir, ignore_errors=True)
            corpus.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
