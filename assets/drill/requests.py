# halab's request stream, run on a lab node by `halab drill` (python3 - URL EVERY_MS TIMEOUT_MS
# STOP_FILE MAX_S): one HTTP GET every EVERY_MS milliseconds on its own thread, so a hanging
# request never delays the next; each with its own timeout. Stops when STOP_FILE exists (or
# after MAX_S), waits for the requests still out, and prints one JSON line per request.
import json, os, sys, threading, time, urllib.request

url = sys.argv[1]
every = float(sys.argv[2]) / 1000
timeout = float(sys.argv[3]) / 1000
stop = sys.argv[4]
max_s = float(sys.argv[5])
results, lock = [], threading.Lock()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def one(i):
    start = time.time()
    rec = {"i": i, "t": start}
    try:
        with opener.open(url, timeout=timeout) as r:
            lines = r.read(200).decode("utf-8", "replace").strip().splitlines()
            rec.update(ok=200 <= r.status < 400, status=r.status, body=lines[0] if lines else "")
    except Exception as e:  # a failed request is data
        rec.update(ok=False, error=(type(e).__name__ + ": " + str(e))[:160])
    rec["ms"] = round((time.time() - start) * 1000, 1)
    with lock:
        results.append(rec)


threads, begin, i = [], time.time(), 0
while not os.path.exists(stop) and time.time() - begin < max_s:
    wait = begin + i * every - time.time()
    if wait > 0:
        time.sleep(wait)
    t = threading.Thread(target=one, args=(i,), daemon=True)
    t.start()
    threads.append(t)
    i += 1
for t in threads:
    t.join(timeout + 2)
with lock:
    for rec in sorted(results, key=lambda r: r["i"]):
        print(json.dumps(rec))
