"""The lab under load: simulated people racing optimizers and watching training runs, against one server.

One ``slopes lab`` server runs in a subprocess (uvicorn, 127.0.0.1; ``--workers`` sets its
worker processes, 0 for threads). ``--clients`` threads act like people on the race page:
each picks a problem, a start point and three to five methods, sends the race request, looks
at the result for ``--think`` seconds (uniform between the two bounds), and again. ``--trainers`` threads start training runs (an MLP on
digits) and follow their event streams to the end, one run after another. After
``--seconds`` the script prints the number of requests and errors, the race latencies
(median, 95th percentile, max) and the resident memory of the server and its workers before
the load (after one warm-up request of each kind) and after it.

    python benchmarks/lab_load.py                      # 20 clients, 2 training streams, 60 s
    python benchmarks/lab_load.py --seconds 10 --clients 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

import httpx

PROBLEMS = [
    ("x^2 + 10*y^2", (-4.0, 4.0), (-2.5, 2.5)),
    ("(1 - x)^2 + 100*(y - x^2)^2", (-2.0, 2.0), (-1.0, 3.0)),
    ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", (-5.0, 5.0), (-5.0, 5.0)),
    ("x^2 + 2*y^2 + exp(-x - y)", (-3.0, 3.0), (-3.0, 3.0)),
]
METHODS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "lbfgs"]


def start_server(workers=None):
    code = "from slopes.cli import main; main(['lab', '--no-browser'])"
    if workers is not None:  # the same server with another number of worker processes
        code = f"from slopes.lab.server import serve; serve(open_browser=False, workers={workers}, echo=lambda s: print(s, flush=True))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    line = proc.stdout.readline()
    url = line.split(" at ")[1].split()[0]
    return proc, url


def rss_mb(pid: int) -> float:
    """Resident memory of the process ``pid`` and all its descendants (the worker processes)."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            total = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                total += sum(rss_mb(int(child)) for child in f.read().split())
    except (OSError, StopIteration):  # the process ended meanwhile
        pass
    return total


def race_body(rng: random.Random) -> dict:
    formula, xlim, ylim = rng.choice(PROBLEMS)
    return {
        "formula": formula,
        "x0": [round(rng.uniform(*xlim), 3), round(rng.uniform(*ylim), 3)],
        "methods": rng.sample(METHODS, rng.randint(3, 5)),
        "lr": rng.choice([0.001, 0.01, 0.05]),
        "preset": rng.choice(["manual", "theory"]),
        "maxiter": 500,
        "xlim": list(xlim),
        "ylim": list(ylim),
    }


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.trainings = 0
        self.events = 0

    def error(self, what: str):
        with self.lock:
            self.errors.append(what)


def client(url: str, seed: int, stop: float, think, tally: Tally):
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=30) as http:
        while time.monotonic() < stop:
            body = race_body(rng)
            t0 = time.perf_counter()
            try:
                r = http.post("api/race", json=body)
                dt = time.perf_counter() - t0
                if r.status_code != 200:
                    tally.error(f"race {r.status_code}: {r.text[:200]}")
                else:
                    with tally.lock:
                        tally.latencies.append(dt)
            except httpx.HTTPError as e:
                tally.error(f"race: {e!r}")
            time.sleep(rng.uniform(*think))


def trainer(url: str, stop: float, tally: Tally):
    body = {"dataset": "digits", "model": "mlp", "optimizer": "adam", "lr": 0.01, "epochs": 15, "batch_size": 64}
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < stop:
            try:
                r = http.post("api/train", json=body)
                if r.status_code != 200:
                    tally.error(f"train {r.status_code}: {r.text[:200]}")
                    time.sleep(1.0)
                    continue
                with http.stream("GET", f"api/train/{r.json()['id']}/events") as s:
                    for line in s.iter_lines():
                        if not line.startswith("data: "):
                            continue
                        event = json.loads(line[6:])
                        with tally.lock:
                            tally.events += 1
                        if event["event"] == "end":
                            if event["status"] != "finished":
                                tally.error(f"training ended {event['status']}: {event['message']}")
                            with tally.lock:
                                tally.trainings += 1
                            break
            except httpx.HTTPError as e:
                tally.error(f"train: {e!r}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--trainers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: as `slopes lab`; 0: threads)")
    args = ap.parse_args(argv)

    proc, url = start_server(args.workers)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:  # warm-up: one request of each kind
            http.post("api/race", json=race_body(random.Random(0))).raise_for_status()
            r = http.post("api/train", json={"dataset": "digits", "epochs": 1})
            with http.stream("GET", f"api/train/{r.json()['id']}/events") as s:
                for line in s.iter_lines():
                    if '"end"' in line:
                        break
        time.sleep(1.0)
        before = rss_mb(proc.pid)
        tally = Tally()
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client, args=(url, i, stop, args.think, tally)) for i in range(args.clients)]
        threads += [threading.Thread(target=trainer, args=(url, stop, tally)) for _ in range(args.trainers)]
        for t in threads:
            t.start()
        memory = []
        while any(t.is_alive() for t in threads):  # the server's memory every 10 s during the load
            memory.append(rss_mb(proc.pid))
            for t in threads:
                t.join(10.0 / len(threads))
        time.sleep(2.0)
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)

    lat = sorted(tally.latencies)
    p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)] if lat else float("nan")
    print(f"lab under load: {args.clients} race clients (think {args.think[0]:g}-{args.think[1]:g} s), "
          f"{args.trainers} training streams, {args.seconds:g} s, {os.cpu_count()} cores, "
          f"workers: {'as slopes lab' if args.workers is None else args.workers}")
    print(f"race requests: {len(lat)} ok, errors: {len(tally.errors)}")
    if lat:
        print(f"race latency: median {1e3 * statistics.median(lat):.0f} ms, 95th percentile {1e3 * p95:.0f} ms, "
              f"max {1e3 * lat[-1]:.0f} ms (target: 95th percentile < 300 ms)")
    print(f"training runs finished: {tally.trainings}, events streamed: {tally.events}")
    print(f"server memory (RSS, with its workers): {before:.1f} MB before, {after:.1f} MB after ({after - before:+.1f} MB); "
          f"every 10 s during the load: {', '.join(f'{m:.0f}' for m in memory)} MB")
    for e in tally.errors[:10]:
        print("  error:", e)
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
