#!/usr/bin/env python3
"""A real SMTP server for the report tests (aiosmtpd).

Usage: smtp_sink.py DIR [--user USER --password PASSWORD] [--tls-cert CERT --tls-key KEY [--implicit-tls]]

Listens on 127.0.0.1 (a free port), prints "ready PORT" once it accepts
connections, and for each message received writes DIR/N.eml and its
attachments into DIR/N/. With --user it requires AUTH (PLAIN/LOGIN);
with --tls-cert it offers STARTTLS (and requires it before AUTH), or with
--implicit-tls speaks TLS from the first byte (as on port 465).
Stops when killed or when stdin closes.
"""

import argparse
import email
import email.policy
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content or envelope.content
        with open(os.path.join(self.folder, f"{n}.eml.tmp"), "wb") as f:
            f.write(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = os.path.join(self.folder, str(n))
        os.makedirs(parts, exist_ok=True)
        for part in message.iter_attachments():
            name = os.path.basename(part.get_filename() or "unnamed")
            with open(os.path.join(parts, name), "wb") as f:
                f.write(part.get_content() if isinstance(part.get_content(), bytes)
                        else part.get_content().encode())
        body = message.get_body(preferencelist=("plain",))
        if body is not None:
            with open(os.path.join(parts, "body.txt"), "w") as f:
                f.write(body.get_content())
        with open(os.path.join(parts, "envelope.txt"), "w") as f:
            f.write("from " + envelope.mail_from + "\n")
            for rcpt in envelope.rcpt_tos:
                f.write("to " + rcpt + "\n")
            f.write("auth " + str(getattr(session, "authenticated", False)) + "\n")
            # STARTTLS sets session.ssl; implicit TLS shows on the transport.
            tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
            f.write("tls " + str(tls) + "\n")
        # The .eml appears last: a reader that sees it sees the rest.
        os.rename(os.path.join(self.folder, f"{n}.eml.tmp"), os.path.join(self.folder, f"{n}.eml"))
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    kwargs = {}
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == args.user
                  and auth_data.password.decode() == args.password)
            return AuthResult(success=ok)
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # aiosmtpd does not count implicit TLS as TLS for AUTH: the whole
        # connection is encrypted there, so AUTH is offered anyway.
        kwargs["auth_require_tls"] = bool(args.tls_cert) and not args.implicit_tls
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True

    controller = Controller(Sink(args.folder), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
