import { createHmac } from 'node:crypto';
import type { ExchangeInspector } from './exchangeInspection.js';

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
 * Persona delivers a webhook again after a non-2xx answer or a timeout, 7 times, waiting 3 s, 64 s,
 * 729 s, 4096 s, 15625 s, 46656 s and 117649 s (about 51 hours; reference/persona-api.md, "Webhooks").
 */
export const PERSONA_REDELIVERY_SCHEDULE_S = [3, 64, 729, 4_096, 15_625, 46_656, 117_649] as const;

export interface RedeliveryOptions {
  /** Multiplies Persona's schedule: tests and the sandbox shorten it. Default 1. */
  scale?: number;
  /** How many of Persona's redeliveries to make; the demo makes none. Default all 7. */
  count?: number;
}

export const redeliveryDelaysMs = (options: RedeliveryOptions = {}) =>
  PERSONA_REDELIVERY_SCHEDULE_S.slice(0, options.count ?? PERSONA_REDELIVERY_SCHEDULE_S.length).map(
    (seconds) => seconds * 1_000 * (options.scale ?? 1),
  );

/**
 * Delivers events the way Persona does (reference/persona-api.md, "Webhooks"): signed, with a 5 s
 * timeout, and again on Persona's schedule after a non-2xx answer or a timeout.
 */
export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelaysMs: number[];

  constructor(
    private target: WebhookTarget | undefined,
    private readonly now: () => number,
    private readonly options: {
      redelivery?: RedeliveryOptions | undefined;
      onDelivery?: ((delivery: Delivery) => void) | undefined;
      /** Told about every delivery, to hold it to Persona's published webhook document. */
      inspect?: ExchangeInspector | undefined;
    } = {},
  ) {
    this.retryDelaysMs = redeliveryDelaysMs(options.redelivery);
  }

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
    this.track(this.attempt(delivery, JSON.stringify(event), this.target, Math.floor(this.now() / 1000)));
  }

  /** Resolves once no delivery is under way (retries waiting on their timer do not count). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(work: Promise<void>) {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** `firstAttemptAt` is Unix seconds, as Persona sends it. */
  private async attempt(delivery: Delivery, rawBody: string, target: WebhookTarget, firstAttemptAt: number) {
    delivery.attempts += 1;
    delivery.state = 'delivering';
    const headers = {
      'content-type': 'application/json',
      'persona-signature': signPersonaWebhook(rawBody, target.secrets, Math.floor(this.now() / 1000)),
      'persona-webhook-attempts-made': String(delivery.attempts - 1),
      'persona-webhook-attempts-left': String(this.retryDelaysMs.length + 1 - delivery.attempts),
      'persona-webhook-first-attempted-at': String(firstAttemptAt),
    };
    const url = new URL(target.url);
    this.options.inspect?.({
      api: 'persona-webhook',
      request: {
        method: 'POST',
        path: url.pathname,
        query: url.searchParams,
        headers,
        body: JSON.parse(rawBody),
        rawBody,
      },
    });
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers,
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
    this.options.onDelivery?.({ ...delivery });
    if (delivery.state === 'retrying') {
      setTimeout(() => this.track(this.attempt(delivery, rawBody, target, firstAttemptAt)), delay).unref();
    }
  }
}
