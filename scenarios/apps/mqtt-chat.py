#!/usr/bin/python3
"""An MQTT publisher and subscriber pair for qoslab `command` workloads, made of Debian's
mosquitto_pub and mosquitto_sub over TLS (SNI = QOSLAB_HOST, the run's CA bundle).

The subscriber prints each message's arrival time (mosquitto_sub -F '%U', CLOCK_REALTIME)
and the publisher stamps each message with its send time, so the latency of every message
from publisher to subscriber through the broker is known. For --paced seconds the
publisher sends one message every --every seconds (QoS 1: each PUBLISH is answered by a
PUBACK, a round trip); after that it offers --rate messages a second (a bulk upload: set
it above what the path allows, and the path decides what goes through; mosquitto_pub
queues the rest in memory, so keep it within a few times the path) until --duration. One JSON object per line on
stdout: `recv` (seq, sent and arrival ns, the phase it was sent in), then `summary`.
"""
import argparse
import json
import os
import subprocess
import threading
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--paced", type=float, default=4.0, help="seconds of paced messages")
    p.add_argument("--every", type=float, default=0.1, help="seconds between paced messages")
    p.add_argument("--size", type=int, default=1000, help="message bytes")
    p.add_argument("--rate", type=float, default=400, help="messages a second after --paced")
    p.add_argument("--duration", type=float, default=10.0, help="seconds in all")
    p.add_argument("--topic", default="lab/chat")
    args = p.parse_args()
    common = ["-h", os.environ["QOSLAB_HOST"], "-p", os.environ["QOSLAB_PORT"],
              "--cafile", os.environ["QOSLAB_CA"], "-t", args.topic]
    sub = subprocess.Popen(["mosquitto_sub", *common, "-q", "0", "-F", "%U %p"],
                           stdout=subprocess.PIPE, text=True)
    received = 0

    def read():
        nonlocal received
        for line in sub.stdout:
            parts = line.split(" ", 3)
            if len(parts) < 3 or not parts[1].isdigit():
                continue
            secs, frac = parts[0].split(".")
            t = int(secs) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])
            received += 1
            print(json.dumps({"ev": "recv", "seq": int(parts[1]), "sent": int(parts[2]), "t": t,
                              "paced": parts[3].startswith("p")}), flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.0)  # the subscription is in place before the first message
    pub = subprocess.Popen(["mosquitto_pub", *common, "-q", "1", "-l"], stdin=subprocess.PIPE, text=True)
    start = time.monotonic()
    seq = 0
    try:
        while time.monotonic() - start < args.duration:
            paced = time.monotonic() - start < args.paced
            seq += 1
            head = f"{seq} {time.time_ns()} {'p' if paced else 'f'}"
            pub.stdin.write(head.ljust(args.size, "x") + "\n")
            pub.stdin.flush()
            time.sleep(args.every if paced else 1 / args.rate)
    except BrokenPipeError:
        pass
    finally:
        try:
            pub.stdin.close()
        except BrokenPipeError:
            pass
        pub.wait(timeout=10)
        time.sleep(0.5)
        sub.terminate()
        reader.join(timeout=2)
    print(json.dumps({"ev": "summary", "sent": seq, "received": received}), flush=True)


if __name__ == "__main__":
    main()
