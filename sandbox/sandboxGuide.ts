import type { SelfServiceEvent } from './kratosStandIn.js';
import type { Delivery } from './personaWebhooks.js';

export interface GuideAddresses {
  service: string;
  /** The Kratos stand-in (its /sandbox shortcuts and admin API). */
  kratos: string;
  persona: string;
}

export interface SandboxGuide {
  selfService(event: SelfServiceEvent): void;
  /** A webhook attempt, with the identity its inquiry belongs to. */
  delivery(delivery: Delivery, identityId: string | null): void;
}

const JSON_BODY = "-H 'Content-Type: application/json'";

/**
 * What to paste next, with the real ids, printed as things happen in the sandbox: whoever
 * registers, logs in or gets an inquiry, in a browser or with curl.
 */
export function sandboxGuide(print: (line: string) => void, at: GuideAddresses): SandboxGuide {
  const announced = new Set<string>();
  const session = (token: string) => `-H 'X-Session-Token: ${token}'`;
  const logIn = (identityId: string) => {
    print('  # log in: Kratos calls /persona/validate');
    print(`  curl -s -X POST ${at.kratos}/sandbox/logins ${JSON_BODY} -d '{"identity_id":"${identityId}"}'`);
  };
  const record = (identityId: string) => {
    print('  # the record on the identity');
    print(`  curl -s ${at.kratos}/admin/identities/${identityId}`);
  };

  return {
    selfService({ flow, result }) {
      const { identityId, hook, session: issued } = result;
      const reading = hook.reading;
      if (flow === 'registration') {
        print(
          reading.kind === 'continue'
            ? `[kratos] registered identity ${identityId}: ${issued ? `signed in, session token ${issued.token}` : 'not signed in (the snippet has no session hook)'}`
            : `[kratos] registered identity ${identityId}, but Kratos shows its error page (${reading.kind === 'error_page' ? reading.why : 'an unexpected answer'})`,
        );
        if (issued) {
          print('  # her verification, and where /persona/start sends her');
          print(`  curl -s ${at.service}/persona/status ${session(issued.token)}`);
          print(`  curl -si ${at.service}/persona/start ${session(issued.token)} | grep -i '^location'`);
        }
        logIn(identityId);
        return;
      }
      if (reading.kind === 'continue') {
        print(`[kratos] login of identity ${identityId}: let through`);
        if (issued) {
          print(
            '  # change her password: the settings gate asks for a step-up once her approval is older than STEP_UP_MAX_AGE',
          );
          print(
            `  curl -s -X POST ${at.kratos}/sandbox/settings ${JSON_BODY} -d '{"session_token":"${issued.token}","method":"password"}'`,
          );
          print("  # an app's own risky action: did she verify in the last 10 minutes?");
          print(`  curl -s '${at.service}/persona/status?max_age=10m' ${session(issued.token)}`);
        }
      } else if (reading.kind === 'error_page')
        print(`[kratos] login of identity ${identityId}: Kratos shows its error page (${reading.why})`);
      else {
        print(`[kratos] login of identity ${identityId}: blocked with message ${reading.id}: ${reading.text}`);
        const verifyUrl = reading.context['verify_url'];
        if (typeof verifyUrl === 'string') {
          print("  # the message's link to verify (open it in a browser, or)");
          print(`  curl -si '${verifyUrl}' | grep -i '^location'`);
        }
      }
      record(identityId);
    },

    delivery(delivery, identityId) {
      if (delivery.name !== 'inquiry.created' || announced.has(delivery.inquiryId)) return;
      announced.add(delivery.inquiryId);
      print(
        `  # decide inquiry ${delivery.inquiryId}${identityId ? ` of identity ${identityId}` : ''} as Persona would: approve, decline, review, fail or expire`,
      );
      print(`  curl -s -X POST ${at.persona}/sandbox/inquiries/${delivery.inquiryId}/approve`);
    },
  };
}
