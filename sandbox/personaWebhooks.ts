import { createHmac } from 'node:crypto';

/** Computes `Persona-Signature` for a body: one `t=,v1=` set per secret, as during Persona's rotation. */
export function signPersonaWebhook(rawBody: string, secrets: string[], timestamp: number): string {
  return secrets
    .map(
      (secret) => `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`,
    )
    .join(' ');
}

export interface WebhookTarget {
  url: string;
  /** The webhook's secret(s); two while Persona rotates it. */
  secrets: string[];
}

export interface Delivery {
  eventId: string;
  name: string;
  inquiryId: string;
  attempts: number;
  /** The last answer's status, or 0 when the connection failed or timed out. */
  lastStatus: number;
  state: 'delivering' | 'delivered' | 'retrying' | 'failed';
}

/**
 * Delivers events the way Persona does (reference/persona-api.md, "Webhooks"): signed, with a 5 s
 * timeout, and again after a non-2xx answer or a timeout, on a schedule (Persona's own spans about
 * 51 hours; the sandbox uses a shorter one).
 */
export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private target: WebhookTarget | undefined,
    private readonly now: () => number,
    private readonly retryDelaysMs: number[],
    private readonly onDelivery?: (delivery: Delivery) => void,
  ) {}

  setTarget(target: WebhookTarget | undefined) {
    this.target = target;
  }

  send(event: { data: { id: string; attributes: { name: string } } }, inquiryId: string) {
    if (this.target === undefined) return;
    const delivery: Delivery = {
      eventId: event.data.id,
      name: event.data.attributes.name,
      inquiryId,
      attempts: 0,
      lastStatus: 0,
      state: 'delivering',
    };
    this.deliveries.push(delivery);
    this.track(this.attempt(delivery, JSON.stringify(event), this.target, new Date(this.now()).toISOString()));
  }

  /** Resolves once no delivery is under way (retries waiting on their timer do not count). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(work: Promise<void>) {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async attempt(delivery: Delivery, rawBody: string, target: WebhookTarget, firstAttemptAt: string) {
    delivery.attempts += 1;
    delivery.state = 'delivering';
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Persona-Signature': signPersonaWebhook(rawBody, target.secrets, Math.floor(this.now() / 1000)),
          'Persona-Webhook-Attempts-Made': String(delivery.attempts - 1),
          'Persona-Webhook-Attempts-Left': String(this.retryDelaysMs.length + 1 - delivery.attempts),
          'Persona-Webhook-First-Attempted-At': firstAttemptAt,
        },
        body: rawBody,
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      delivery.lastStatus = response.status;
    } catch {
      delivery.lastStatus = 0;
    }
    const delay = this.retryDelaysMs[delivery.attempts - 1];
    delivery.state =
      delivery.lastStatus >= 200 && delivery.lastStatus < 300
        ? 'delivered'
        : delay === undefined
          ? 'failed'
          : 'retrying';
    this.onDelivery?.({ ...delivery });
    if (delivery.state === 'retrying') {
      setTimeout(() => this.track(this.attempt(delivery, rawBody, target, firstAttemptAt)), delay).unref();
    }
  }
}
