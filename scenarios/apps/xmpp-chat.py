#!/usr/bin/python3
"""A small XMPP chat client (slixmpp, Debian python3-slixmpp) for qoslab `command` workloads.

It logs in anonymously over STARTTLS, sends itself a message every --every seconds (its
send time and sequence number in the body, padded to --size bytes), and prints one JSON
object per line on stdout for what it lives: `login` (ms from connecting to a session),
`sent`, `recv` (with the send time, so one-way-and-back latency), `disconnected`,
`reconnect`. A keepalive ping every --ping seconds that gets no answer within --ping
seconds makes it reconnect, as chat apps do when a connection freezes. After --duration
seconds it prints `summary` (sent, received, reconnects) and exits 0.

Where to connect comes from the environment qoslab gives a command: QOSLAB_HOST (the XMPP
domain and TLS name), QOSLAB_HOST_ADDR, QOSLAB_PORT and QOSLAB_CA (the run's CA bundle).
Times are CLOCK_REALTIME ns, which both lab namespaces share.
"""
import argparse
import asyncio
import json
import os
import sys
import time

import slixmpp


def now_ns():
    return time.time_ns()


def emit(**fields):
    print(json.dumps(fields), flush=True)


class Chat(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(os.environ["QOSLAB_HOST"], "", sasl_mech="ANONYMOUS")
        self.args = args
        self.ca_certs = os.environ["QOSLAB_CA"]
        self.address = (os.environ["QOSLAB_HOST_ADDR"], int(os.environ["QOSLAB_PORT"]))
        self.register_plugin("xep_0199", {"keepalive": True, "interval": args.ping, "timeout": args.ping})
        self.seq = 0
        self.sent = 0
        self.received = 0
        self.reconnects = 0
        self.connect_started = None
        self.sender = None
        self.add_event_handler("session_start", self.on_session)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connecting", self.on_connecting)

    def on_connecting(self, _event):
        self.connect_started = now_ns()

    async def on_session(self, _event):
        t = now_ns()
        started = self.connect_started or t
        emit(ev="login", t=t, ms=(t - started) / 1e6, jid=str(self.boundjid))
        self.send_presence()
        if self.sender is None or self.sender.done():
            self.sender = asyncio.ensure_future(self.send_loop())

    async def send_loop(self):
        while True:
            self.seq += 1
            stamp = now_ns()
            body = f"{self.seq} {stamp} ".ljust(self.args.size, "x")
            self.send_message(mto=self.boundjid.full, mbody=body, mtype="chat")
            self.sent += 1
            emit(ev="sent", seq=self.seq, t=stamp)
            await asyncio.sleep(self.args.every)

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal"):
            return
        parts = msg["body"].split(" ", 2)
        if len(parts) < 2 or not parts[0].isdigit():
            return
        self.received += 1
        emit(ev="recv", seq=int(parts[0]), sent=int(parts[1]), t=now_ns())

    def on_disconnected(self, reason):
        emit(ev="disconnected", t=now_ns(), reason=str(reason))
        if self.sender is not None:
            self.sender.cancel()
            self.sender = None
        if not self.stopping:
            self.reconnects += 1
            emit(ev="reconnect", t=now_ns())
            # On a ping timeout slixmpp's keepalive (xep_0199) reconnects by itself; a
            # second connect() here would cancel its attempt, sometimes after its SYN was
            # out: a connection opened and dropped that no reconnect accounts for.
            if not str(reason).startswith("Ping timeout"):
                self.connect(address=self.address)

    stopping = False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--every", type=float, default=0.5, help="seconds between messages")
    p.add_argument("--size", type=int, default=200, help="message body bytes")
    p.add_argument("--ping", type=float, default=5.0, help="keepalive interval and timeout, s")
    p.add_argument("--duration", type=float, default=30.0, help="seconds to run")
    args = p.parse_args()
    chat = Chat(args)
    chat.connect(address=chat.address)

    async def finish():
        await asyncio.sleep(args.duration)
        chat.stopping = True
        emit(ev="summary", sent=chat.sent, received=chat.received, reconnects=chat.reconnects)
        chat.disconnect(wait=0.5)
        await asyncio.sleep(0.6)

    chat.loop.run_until_complete(finish())
    sys.exit(0)


if __name__ == "__main__":
    main()
