"""Speed, size and memory of the bot's index, side by side with its peers, in one process, on real text.

    python benchmarks/bench.py                          # 100k chunks
    python benchmarks/bench.py --sizes 10000,100000,1000000 --json

MedQuAD's pages (../shared/data/medquad/) are repeated with fresh ids up to each size. For each size:
building the index from article files (analysis included), its size on disk; in fresh processes, loading it
and the memory of a process serving from it, `python -m bot ask` from a cold start, and `python -m bot run`
until it has answered a question waiting for it (against the fake Bot API in tests/); then, in this one
process, every system on the same analysed questions, interleaved question by question (the order rotating),
each peer at its best: rank-bm25-rs (rank_bm25's scores in Rust, numpy top 10), tantivy, bm25s with numba,
rank_bm25 (a sample of the questions: it takes 0.1 to 1 s each). Per system: p50 and p95 of the top 10,
its ratio to the bot, nanoseconds per posting the question owns, and whether its top 10 (documents and
scores) is exactly the bot's. The whole answer path (triage, analysis, spelling, retrieval, passages,
Telegram HTML) is timed in the same loop. Figures vary with the machine's load; ratios from one run less.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import itertools
import json
import os
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
RANK_BM25_SAMPLE = (30, 5)  # questions rank_bm25 is timed on: up to 200k chunks, and beyond


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


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
    """In a fresh process: load, answer the questions; print the load time and the process's memory."""
    import psutil

    started = time.perf_counter()
    from bot.answering.answer import Answerer
    from bot.search.analysis import Analyzer
    from bot.search.index import SearchIndex
    from bot.safety import load_rules

    index = SearchIndex.load(Path(index_dir), Analyzer())
    load_seconds = time.perf_counter() - started
    answerer = Answerer(index, rules=load_rules())
    for q in json.loads(Path(questions_file).read_text()):
        answerer.answer(q)
    print(json.dumps({"load": load_seconds, "rss_mb": psutil.Process().memory_info().rss / 2**20}))


def cold_ask(index_dir: Path, question: str, runs: int = 3) -> float:
    """Median wall time of `python -m bot ask --index DIR QUESTION` in a new process."""
    times = []
    env = {**os.environ, "BOT_ENV_FILE": os.devnull, "BOT_BM25_IDF": "okapi"}
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--index", str(index_dir), question],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def first_answer(index_dir: Path, corpus: Path, question: str) -> float | None:
    """Seconds from starting `python -m bot run` to its answer of a question already waiting (fake Bot API)."""
    try:
        from tests.fake_bot_api import FakeBotAPI
    except ImportError:
        return None
    with FakeBotAPI() as fake, tempfile.TemporaryDirectory() as work:
        fake.push_message(question, chat_id=42, user_id=42)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "BOT_ENV_FILE": os.devnull,
            "BOT_BM25_IDF": "okapi",
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "BOT_CORPUS": str(corpus),
            "BOT_INDEX": str(index_dir),
            "BOT_RELOAD_SECONDS": "0",
            "BOT_DATABASE": str(Path(work) / "bot.sqlite3"),
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            fake.wait_for("sendMessage", timeout=120)
            return time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)


def chunk_documents(index) -> list[list[str]]:
    return [index.chunk_terms(i) for i in range(index.chunk_count)]


def compare(index, answerer, asked: list[str], say) -> dict:
    """Every system on the same questions, interleaved; their figures and whether each is exact."""
    from benchmarks import peers
    from bot.telegram.html import answer_html

    analyzed = [index.analyzer.terms(q) for q in asked]
    bm25 = index.bm25
    docs = chunk_documents(index)
    systems, builds = {}, {}
    for peer in peers.ALL:
        try:
            t = time.perf_counter()
            systems[peer.name] = peer(docs)
            builds[peer.name] = time.perf_counter() - t
        except ImportError as e:
            say(f"  {peer.name}: not run ({e})")
        except MemoryError:
            say(f"  {peer.name}: not run (out of memory)")
    del docs
    gc.collect()
    for q in asked[:20]:  # warm: the speller's candidates, caches, JIT
        answer_html(answerer.answer(q))
    sample_every = max(1, len(asked) // RANK_BM25_SAMPLE[index.chunk_count > 200_000])

    def ours(terms):
        return tuple(zip(*bm25.search(terms, 10))) or ((), ())

    def numpy_path(terms):
        bm25.use_kernel = False
        try:
            return ours(terms)
        finally:
            bm25.use_kernel = True

    runs = {"bot": ours, "bot, numpy path": numpy_path}
    for name, system in systems.items():
        runs[name] = lambda terms, system=system: system.top(terms, 10)
        if hasattr(system, "scores_only"):
            runs[f"{name}, score vector only"] = system.scores_only
    times = {name: [] for name in runs}
    per_posting = {name: [] for name in runs}
    exact = {name: True for name in runs}
    answer_times = []
    for n, (question, terms) in enumerate(zip(asked, analyzed)):
        owned = max(1, bm25.plan(terms).postings)
        names = list(runs)
        names = names[n % len(names) :] + names[: n % len(names)]
        results = {}
        for name in names:
            if name == "rank_bm25" and n % sample_every:
                continue
            t = time.perf_counter()
            results[name] = runs[name](terms)
            elapsed = time.perf_counter() - t
            times[name].append(elapsed)
            per_posting[name].append(elapsed * 1e9 / owned)
        t = time.perf_counter()
        answer_html(answerer.answer(question))
        answer_times.append(time.perf_counter() - t)
        reference = (list(results["bot"][0]), list(results["bot"][1]))
        for name, got in results.items():
            if got is None:  # a score vector alone has no top 10 to compare
                exact[name] = None
                continue
            same_scores = name.startswith("bot") or getattr(systems.get(name), "same_scores", False)
            exact[name] = bool(exact[name] and same_scores and (list(got[0]), list(got[1])) == reference)
    return {
        "analyzed": analyzed,
        "times": times,
        "per_posting": per_posting,
        "exact": exact,
        "answer": answer_times,
        "builds": builds,
    }


def report(
    chunks: int,
    pages: int,
    build_s: float,
    disk_mb: float,
    served: dict,
    cold: float,
    start: float | None,
    figures: dict,
) -> dict:
    times, ours = figures["times"], statistics.median(figures["times"]["bot"])
    print(f"\n## {chunks:,} chunks ({pages:,} pages)")
    print(
        f"build {build_s:.1f} s | {disk_mb:.0f} MB on disk | load {served['load']:.2f} s | serving process "
        f"{served['rss_mb']:.0f} MB | cold `ask` {cold:.2f} s | `run` to its first answer "
        + (f"{start:.2f} s" if start is not None else "not measured")
    )
    print(f"{'system':38} {'p50 ms':>8} {'p95 ms':>8} {'vs bot':>8} {'ns/posting':>11}  exact top 10")
    peers = {}
    for name, values in times.items():
        p50, p95 = statistics.median(values), pct(values, 0.95)
        exact = figures["exact"][name]
        ns = statistics.median(figures["per_posting"][name])
        shown = "-" if exact is None else ("yes" if exact else "no")
        print(
            f"{name:38} {p50 * 1e3:8.3f} {p95 * 1e3:8.3f} {p50 / ours:7.2f}x {ns:11.2f}  {shown}"
            + (f"  ({len(values)} questions)" if len(values) < len(figures["answer"]) else "")
        )
        if name != "bot":
            peers[name] = {
                "p50_ms": p50 * 1e3,
                "p95_ms": p95 * 1e3,
                "exact": bool(exact),
                "top_k": exact is not None,
                "ns_per_posting": ns,
                "questions": len(values),
                **({"build_s": figures["builds"][name]} if name in figures["builds"] else {}),
            }
    answer = figures["answer"]
    print(
        f"answer path p50/p95/p99 {statistics.median(answer) * 1e3:.2f} / {pct(answer, 0.95) * 1e3:.2f} / "
        f"{pct(answer, 0.99) * 1e3:.2f} ms"
    )
    return {
        "chunks": chunks,
        "retrieval_p50_ms": ours * 1e3,
        "retrieval_p95_ms": pct(times["bot"], 0.95) * 1e3,
        "answer_p50_ms": statistics.median(answer) * 1e3,
        "answer_p95_ms": pct(answer, 0.95) * 1e3,
        "build_s": build_s,
        "load_s": served["load"],
        "rss_mb": served["rss_mb"],
        "disk_mb": disk_mb,
        "cold_ask_s": cold,
        "first_answer_s": start,
        "peers": peers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000", help="chunk counts, comma-separated")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="also print one JSON object per size")
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the benchmark runs on ../shared/data/medquad")
    from bot.answering.answer import Answerer
    from bot.search import topk
    from bot.search.analysis import Analyzer
    from bot.search.bm25 import BM25Params
    from bot.search.index import IndexSettings, SearchIndex, build_index
    from bot.safety import load_rules

    if not topk.compiled():
        print("note: the compiled kernel is not installed; the bot runs its numpy path", file=sys.stderr)
    asked = questions(args.questions)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    (work / "questions.json").write_text(json.dumps(asked[:50]))
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    out = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            corpus, pages = make_corpus(size, work)
            index_dir = work / f"index-{size}"
            started = time.perf_counter()
            # rank_bm25's own idf, so that its scores can be checked equal to ours
            index, _ = build_index(corpus, index_dir, Analyzer(), IndexSettings(bm25=BM25Params(idf="okapi")))
            build_s = time.perf_counter() - started
            chunks = index.chunk_count
            del index
            gc.collect()
            live = index_dir / (index_dir / "CURRENT").read_text().strip()
            disk_mb = sum(p.stat().st_size for p in live.iterdir()) / 2**20
            served = json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--serve", str(index_dir), str(work / "questions.json")],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            # as an installed package has it (pip writes bytecode): a fresh process then reads the bot's modules
            # instead of compiling them, which a machine with PYTHONDONTWRITEBYTECODE set would do at every start
            compileall.compile_dir(ROOT / "bot", quiet=1)
            cold = cold_ask(index_dir, asked[0])
            start = first_answer(index_dir, corpus, asked[1])
            index = SearchIndex.load(index_dir, Analyzer())
            figures = compare(index, Answerer(index, rules=load_rules()), asked, say)
            result = report(chunks, pages, build_s, disk_mb, served, cold, start, figures)
            if args.json:
                print(json.dumps(result))
            out.append(result)
            del index, figures
            gc.collect()
            shutil.rmtree(index_dir, ignore_errors=True)
            corpus.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
