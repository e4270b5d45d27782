import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** An email the stand-in accepted, parsed as a mail client would. */
export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The `lang` of the HTML part's root element, when it has one. */
  language: string | undefined;
}

export interface SmtpStandIn {
  /** What `SMTP_URL` is set to: `smtp://user:password@127.0.0.1:<port>`. */
  url: string;
  received: ReceivedEmail[];
  /** The next `times` messages are refused with `code` (a 4xx to be tried again, a 5xx for good). */
  refuseNext(code: number, times?: number): void;
  close(): Promise<void>;
}

/**
 * An SMTP server on loopback (the `smtp-server` package), standing in for the operator's mail
 * relay: it requires the credentials of SMTP_URL (AUTH PLAIN or LOGIN, allowed without TLS on
 * loopback only), accepts every recipient, and parses each message with `mailparser`, so tests
 * read subject, text and HTML as a mail client shows them. STARTTLS is not offered: its built-in
 * certificate is a published test key.
 */
export async function startSmtpStandIn(
  options: { username?: string; password?: string; port?: number } = {},
): Promise<SmtpStandIn> {
  const username = options.username ?? 'idv-mailer';
  const password = options.password ?? 'smtp-password-0123456789';
  const received: ReceivedEmail[] = [];
  let refusal: { code: number; remaining: number } | undefined;

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === username && auth.password === password) callback(null, { user: username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      void simpleParser(stream).then(
        (parsed) => {
          if (refusal !== undefined && refusal.remaining > 0) {
            refusal.remaining -= 1;
            callback(Object.assign(new Error('Refused by the stand-in'), { responseCode: refusal.code }));
            return;
          }
          received.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            language: typeof parsed.html === 'string' ? /<html lang="([^"]+)"/.exec(parsed.html)?.[1] : undefined,
          });
          callback();
        },
        (error: unknown) => callback(error as Error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    received,
    refuseNext(code, times = 1) {
      refusal = { code, remaining: times };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
