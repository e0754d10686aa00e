# halab's order stream, run on a lab node by `halab drill` (python3 - URL BODY CONTENT_TYPE
# EVERY_MS TIMEOUT_MS PREFIX STOP_FILE MAX_S): one HTTP POST every EVERY_MS milliseconds on its
# own thread, so a hanging order never delays the next; each with its own timeout and its own id,
# PREFIX-1, PREFIX-2..., put in BODY where it says {id}. Stops when STOP_FILE exists (or after
# MAX_S), waits for the orders still out, and prints one JSON line per order: its id, send time,
# milliseconds, whether the request left the client ("sent": false when the connection was never
# made), the HTTP status when one came back, and the error otherwise. halab judges the outcome.
import http.client, json, os, sys, threading, time, urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
body, ctype = sys.argv[2], sys.argv[3]
every = float(sys.argv[4]) / 1000
timeout = float(sys.argv[5]) / 1000
prefix, stop, max_s = sys.argv[6], sys.argv[7], float(sys.argv[8])
Conn = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
path = (url.path or "/") + ("?" + url.query if url.query else "")
results, lock = [], threading.Lock()


def one(i):
    oid = "%s-%d" % (prefix, i)
    start = time.time()
    rec = {"id": oid, "t": start, "sent": False}
    # Kept from the start: an order still out when the stream ends is printed too.
    with lock:
        results.append(rec)
    conn = Conn(url.hostname, url.port, timeout=timeout)
    try:
        conn.connect()
        rec["sent"] = True
        data = body.replace("{id}", oid).encode()
        conn.request("POST", path, body=data, headers={"Content-Type": ctype})
        r = conn.getresponse()
        rec["status"] = r.status
        if r.status >= 300:
            rec["error"] = r.read(200).decode("utf-8", "replace").strip()[:160]
    except Exception as e:  # a failed order is data
        rec["error"] = (type(e).__name__ + ": " + str(e))[:160]
    finally:
        conn.close()
    with lock:
        rec["ms"] = round((time.time() - start) * 1000, 1)


threads, begin, i = [], time.time(), 0
while not os.path.exists(stop) and time.time() - begin < max_s:
    wait = begin + i * every - time.time()
    if wait > 0:
        time.sleep(wait)
    i += 1
    t = threading.Thread(target=one, args=(i,), daemon=True)
    t.start()
    threads.append(t)
for t in threads:
    t.join(2 * timeout + 2)
with lock:
    # A copy (one step under the GIL): a thread still out may yet write to its record.
    for rec in sorted((dict(r) for r in results), key=lambda r: r["t"]):
        if "ms" not in rec:  # its thread never came back
            rec.setdefault("error", "no answer when the stream stopped")
            rec["ms"] = round((time.time() - rec["t"]) * 1000, 1)
        print(json.dumps(rec))
